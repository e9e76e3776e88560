//! # hongyan-sdk
//!
//! The Hongyan client core, without UI: HTTP account API, the long connection (WebSocket or
//! TCP, speaking the MobileIMSDK v6 envelope), QoS with a persistent outbox, offline sync
//! by mailbox seq, a local SQLite store and token storage in the OS keyring.
//!
//! ```no_run
//! # async fn demo() -> hongyan_sdk::Result<()> {
//! use hongyan_sdk::{Client, ClientConfig, Event};
//!
//! let client = Client::new(ClientConfig::new("http://127.0.0.1:3000", "/tmp/hongyan"))?;
//! let mut events = client.events();
//! if client.resume().await?.is_none() {
//!     client.login("alice", "correct horse").await?;
//! }
//! let msg = client.send_text("10002", "hello").await?; // stored before it is sent
//! while let Ok(event) = events.recv().await {
//!     if let Event::MessageStatusChanged { id, status } = event {
//!         if id == msg.id { println!("{status:?}"); }
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! The SDK owns state: every sent message is written to SQLite (messages + outbox) before it
//! goes on the wire, every received message before it is ACKed or announced. One background
//! task (the engine) owns the socket: login, heartbeat, dead-link detection, reconnect with
//! backoff, QoS resends and dispatch to the store and the [`Event`] stream.

pub mod backoff;
pub mod client;
pub mod config;
pub mod connection;
mod engine;
pub mod error;
pub mod events;
pub mod http;
pub mod media;
pub mod model;
mod notices;
pub mod qos;
pub mod receipts;
pub mod search;
pub mod secrets;
pub mod social;
pub mod store;
pub mod sync;
pub mod throttle;
pub mod version;

pub use client::Client;
pub use config::{ClientConfig, Timing, Transport};
pub use error::{Error, Result};
pub use events::{ConnectionState, Event};
/// For the app's and the CLI's log filters (docs/RELIABILITY.md, "Secrets").
pub use hongyan_protocol::LOG_REDACTION_DIRECTIVES;
/// Result codes (e.g. 1027, client too old) and message kinds (`typeu`) with the core_level each needs.
pub use hongyan_protocol::{codes, kinds};
pub use model::{
    Account, Conversation, HistoryCursor, Message, MessageStatus, RegisteredUser, User,
};
pub use search::{IndexState, IndexStatus, SearchHit, SearchPage};
pub use secrets::SecretBackend;
pub use store::Store;
pub use version::CORE_LEVEL;
