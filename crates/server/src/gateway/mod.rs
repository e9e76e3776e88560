//! Long-connection gateways. `connection` holds the transport-agnostic state machine;
//! `ws` and `tcp` only adapt their frames to it.

pub mod connection;
pub mod tcp;
pub mod ws;
