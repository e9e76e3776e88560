//! Harness for the integration tests in `tests/integration/` (and, for its process
//! management, `crates/server/tests/` and `crates/bench`): starts the real
//! `hongyan-server` binary on free loopback ports with a temp data dir, builds real SDK
//! clients against it, and breaks connections on purpose. For many nodes (issue 8) it also
//! starts real PostgreSQL ([`PgServer`]) and nats-server ([`NatsServer`]) on loopback, and
//! whole deployments ([`TestCluster`]: nodes on one PostgreSQL and one NATS behind a
//! [`Balancer`]). `HONGYAN_TEST_POSTGRES` runs every [`TestServer`] on PostgreSQL
//! ([`database`]).

pub mod balancer;
pub mod clients;
pub mod cluster;
pub mod daemon;
pub mod database;
pub mod nats;
pub mod postgres;
pub mod proxy;
pub mod server;

pub use balancer::Balancer;
pub use clients::{acked, assert_texts, wait_until, TestClient, Via};
pub use cluster::TestCluster;
pub use database::{test_postgres, Backend, TestDatabase};
pub use nats::NatsServer;
pub use postgres::PgServer;
pub use proxy::{FaultProxy, Trip};
pub use server::{server_bin, ServerBuilder, TestServer};
