//! `hongyan-chat`: a small terminal chat client over `hongyan-sdk`, so a person can see
//! Hongyan working before the desktop app exists. Type `/help` for commands.

mod commands;

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Parser;
use hongyan_sdk::{Client, ClientConfig, Event, MessageStatus, Transport};
use tokio::io::{AsyncBufReadExt, BufReader};

use commands::Command;

#[derive(Parser)]
#[command(version, about = "Terminal chat client for a Hongyan server")]
struct Cli {
    /// The server's HTTP address.
    #[arg(long, env = "HONGYAN_SERVER", default_value = "http://127.0.0.1:3000")]
    server: String,
    /// Use the TCP gateway at this address instead of WebSocket.
    #[arg(long)]
    tcp: Option<String>,
    /// A separate local profile (data folder), e.g. for a second person on this machine.
    #[arg(long, default_value = "default")]
    profile: String,
    /// Where profiles live (default: the OS data dir, `hongyan/cli`).
    #[arg(long, env = "HONGYAN_CLI_DATA")]
    data_dir: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let base = match cli.data_dir {
        Some(d) => d,
        None => hongyan_sdk::config::default_data_dir()
            .context("no data directory on this system; pass --data-dir")?
            .join("cli"),
    };
    let mut config = ClientConfig::new(&cli.server, base.join(&cli.profile));
    if let Some(addr) = cli.tcp {
        config.transport = Transport::Tcp { addr };
    }
    config.device = format!("hongyan-chat ({})", cli.profile);
    let client = Client::new(config)?;
    spawn_event_printer(&client);

    println!("Hongyan terminal chat — server {}. Type /help.", cli.server);
    match client.resume().await {
        Ok(Some(account)) => println!(
            "Welcome back, {} (id {}).",
            account.username, account.user_id
        ),
        Ok(None) => println!("Register with /register NAME PASSWORD, or /login NAME PASSWORD."),
        Err(e) => println!("Could not resume the saved session: {e}"),
    }

    let mut peer: Option<String> = None;
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = lines.next_line().await? {
        match Command::parse(&line) {
            Ok(Command::Quit) => break,
            Ok(cmd) => {
                if let Err(e) = commands::run(&client, cmd, &mut peer).await {
                    println!("! {e}");
                }
            }
            Err(usage) => println!("! {usage}"),
        }
    }
    client.shutdown().await;
    Ok(())
}

/// Prints what arrives while the person types.
fn spawn_event_printer(client: &Client) {
    let mut events = client.events();
    tokio::spawn(async move {
        while let Ok(event) = events.recv().await {
            match event {
                Event::MessageReceived(m) => println!("[{}] {}", m.from, m.content),
                Event::MessageStatusChanged { id, status } => match status {
                    MessageStatus::Sent => println!("  ✓ sent {}", short(&id)),
                    MessageStatus::Failed { code, reason } => {
                        println!("  ✗ failed {} ({code}: {reason}) — /retry {id}", short(&id))
                    }
                    _ => {}
                },
                Event::ConnectionStateChanged(state) => println!("  · connection: {state:?}"),
                Event::KickedOut { reason, .. } => println!("! signed out: {reason}"),
                Event::AuthExpired => println!("! session expired: /login again"),
                Event::LoginRejected { message, .. } => println!("! login refused: {message}"),
                Event::SyncCompleted { count } if count > 0 => {
                    println!("  · {count} new message(s) while you were away")
                }
                _ => {}
            }
        }
    });
}

fn short(id: &str) -> &str {
    id.get(id.len().saturating_sub(6)..).unwrap_or(id)
}
