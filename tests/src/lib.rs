//! Harness for the integration tests in `tests/integration/` (and, for its process
//! management, `crates/server/tests/` and `crates/bench`): starts the real
//! `hongyan-server` binary on free loopback ports with a temp data dir, builds real SDK
//! clients against it, and breaks connections on purpose.

pub mod clients;
pub mod proxy;
pub mod server;

pub use clients::{acked, assert_texts, wait_until, TestClient, Via};
pub use proxy::{FaultProxy, Trip};
pub use server::{server_bin, ServerBuilder, TestServer};
