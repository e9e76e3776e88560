//! Shared pieces of Hongyan's benchmarks: a server process to measure, raw protocol
//! connections for load, and latency histograms.

pub mod cluster;
pub mod conn;
pub mod corpus;
pub mod latency;
pub mod pg_activity;
pub mod procs;
pub mod scrape;
pub mod server;
