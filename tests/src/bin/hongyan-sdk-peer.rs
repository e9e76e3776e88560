//! A real SDK client in its own process, so a test can `kill -9` it (tests/integration/crash.rs).
//! It resumes the saved session of a test client's profile dir (never a password) and then:
//!
//! - `send <peer> <count> <prefix> <pace_ms>`: sends `<prefix> <i>` for i in 0..count, one
//!   every `pace_ms`, printing `sent <id>` as soon as `send_text` has accepted each (stored,
//!   queued in the outbox), then `done`, then idles;
//! - `receive`: prints `got <id>` for every message received live, and idles.
//!
//! Usage: `hongyan-sdk-peer <server_url> <tcp_addr> ws|tcp <data_dir> <mode> [args…]`.

use std::{io::Write, path::Path, time::Duration};

use anyhow::{bail, Context};
use hongyan_sdk::{Client, Event};
use hongyan_tests::{TestClient, Via};

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    // A closed pipe means the test is gone: nothing left to tell.
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, tcp, via, dir, mode, rest @ ..] = args.as_slice() else {
        bail!("usage: hongyan-sdk-peer <server_url> <tcp_addr> ws|tcp <data_dir> <mode> [args…]");
    };
    let via = match via.as_str() {
        "ws" => Via::Ws,
        "tcp" => Via::Tcp,
        other => bail!("unknown transport {other}"),
    };
    let client = Client::new(TestClient::config_at(url, tcp, via, Path::new(dir)))?;
    let mut events = client.events();
    client
        .resume()
        .await?
        .context("no saved session in the profile dir")?;
    match (mode.as_str(), rest) {
        ("send", [peer, count, prefix, pace_ms]) => {
            let count: usize = count.parse()?;
            let pace = Duration::from_millis(pace_ms.parse()?);
            for i in 0..count {
                let message = client.send_text(peer, &format!("{prefix} {i}")).await?;
                say(&format!("sent {}", message.id));
                tokio::time::sleep(pace).await;
            }
            say("done");
        }
        ("receive", []) => {
            say("ready");
            loop {
                match events.recv().await {
                    Ok(Event::MessageReceived(m)) => say(&format!("got {}", m.id)),
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(e) => bail!("event stream: {e}"),
                }
            }
        }
        _ => bail!("unknown mode {mode} {rest:?}"),
    }
    std::future::pending::<()>().await;
    Ok(())
}
