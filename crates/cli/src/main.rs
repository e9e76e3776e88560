//! `hongyan-chat`: a small terminal chat client over `hongyan-sdk`, so a person can see
//! Hongyan working before the desktop app exists. Type `/help` for commands.

mod commands;

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Parser;
use hongyan_sdk::model::{FriendRequestStatus, NOTICES_CONVERSATION};
use hongyan_sdk::{kinds, Client, ClientConfig, Event, MessageStatus, Transport};
use tokio::io::{AsyncBufReadExt, BufReader};

use commands::Command;

#[derive(Parser)]
#[command(
    version,
    about = "Terminal chat client for a Hongyan server",
    long_about = "Terminal chat client for a Hongyan server: 1:1 and group chat, friends and \
                  friend requests, groups, presence and notices. Type /help once it runs \
                  for the slash commands (/friends, /add, /requests, /accept, /groups, \
                  /group create|members|add|remove|rename|leave, /notices, …)."
)]
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
    let mut filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into());
    for directive in hongyan_sdk::LOG_REDACTION_DIRECTIVES {
        filter = filter.add_directive(directive.parse().expect("a valid static directive"));
    }
    tracing_subscriber::fmt()
        .with_env_filter(filter)
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
    let client = client.clone();
    tokio::spawn(async move {
        while let Ok(event) = events.recv().await {
            let me = client.user_id().unwrap_or_default();
            match event {
                Event::MessageReceived(m) if m.conversation_id == NOTICES_CONVERSATION => {
                    println!("{}", commands::notice_text(&m.content))
                }
                Event::MessageReceived(m) if m.typeu == kinds::GROUP_EVENT => {
                    println!("  — [{}] {} —", m.conversation_id, m.preview())
                }
                Event::MessageReceived(m) if m.conversation_id != m.from => {
                    println!("[{} / {}] {}", m.conversation_id, m.from, m.preview())
                }
                Event::MessageReceived(m) => println!("[{}] {}", m.from, m.preview()),
                Event::MessageStatusChanged { id, status } => match status {
                    MessageStatus::Sent => println!("  ✓ sent {}", short(&id)),
                    MessageStatus::Delivered => println!("  ✓✓ delivered {}", short(&id)),
                    MessageStatus::Read => println!("  ✓✓ read {}", short(&id)),
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
                Event::FriendRequestReceived(r) => println!(
                    "★ {} ({}) wants to be friends: \"{}\" — /accept {} or /decline {}",
                    r.from.username, r.from.user_id, r.message, r.id, r.id
                ),
                Event::FriendRequestUpdated(r) => match r.status {
                    FriendRequestStatus::Accepted => println!(
                        "★ you and {} are friends",
                        if r.from.user_id == me {
                            &r.to.username
                        } else {
                            &r.from.username
                        }
                    ),
                    FriendRequestStatus::Declined => {
                        println!("  · friend request #{} was declined", r.id)
                    }
                    FriendRequestStatus::Pending => {}
                },
                Event::GroupUpdated(g) => println!(
                    "  · group {} \"{}\" ({} members)",
                    g.group_id, g.name, g.member_count
                ),
                Event::GroupLeft { group_id } => println!("  · you are no longer in {group_id}"),
                Event::PresenceChanged { user_id, online } => {
                    println!(
                        "  · {user_id} is {}",
                        if online { "online" } else { "offline" }
                    )
                }
                Event::Typing { user_id, .. } => println!("  · {user_id} is typing…"),
                Event::UploadProgress {
                    message_id,
                    sent,
                    total,
                    ..
                } if sent == total => println!(
                    "  ↑ uploaded {} ({})",
                    short(&message_id),
                    commands::human_size(total)
                ),
                Event::MessageRemoved {
                    conversation_id, ..
                } if conversation_id == NOTICES_CONVERSATION => {
                    println!("  · a notice was withdrawn")
                }
                _ => {}
            }
        }
    });
}

fn short(id: &str) -> &str {
    id.get(id.len().saturating_sub(6)..).unwrap_or(id)
}
