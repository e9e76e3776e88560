//! The chat's slash commands: parsing (pure) and running them against the SDK.

use anyhow::Result;
use hongyan_sdk::Client;

/// One line typed by the person.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Help,
    Register {
        username: String,
        password: String,
    },
    Login {
        username: String,
        password: String,
    },
    Logout,
    WhoAmI,
    /// Talk to this user id from now on.
    To(String),
    Conversations,
    History(usize),
    Retry(String),
    Send(String),
    Empty,
    Quit,
}

const HELP: &str = "\
/register NAME PASSWORD   create an account and sign in
/login NAME PASSWORD      sign in
/to USER_ID               choose whom to talk to (your id: /whoami)
TEXT                      send TEXT to the chosen person
/history [N]              the last N messages with them (default 20)
/convs                    your conversations with unread counts
/retry MESSAGE_ID         resend a failed message
/logout, /quit";

impl Command {
    /// Parses a line; `Err` carries a usage hint.
    pub fn parse(line: &str) -> Result<Self, String> {
        let line = line.trim();
        if line.is_empty() {
            return Ok(Self::Empty);
        }
        let Some(rest) = line.strip_prefix('/') else {
            return Ok(Self::Send(line.to_owned()));
        };
        let mut words = rest.split_whitespace();
        let name = words.next().unwrap_or_default();
        let args: Vec<&str> = words.collect();
        let two = |usage: &str| match args.as_slice() {
            [u, p] => Ok(((*u).to_owned(), (*p).to_owned())),
            _ => Err(format!("usage: {usage}")),
        };
        Ok(match name {
            "help" | "h" => Self::Help,
            "register" => {
                let (username, password) = two("/register NAME PASSWORD")?;
                Self::Register { username, password }
            }
            "login" => {
                let (username, password) = two("/login NAME PASSWORD")?;
                Self::Login { username, password }
            }
            "logout" => Self::Logout,
            "whoami" => Self::WhoAmI,
            "to" => match args.as_slice() {
                [id] => Self::To((*id).to_owned()),
                _ => return Err("usage: /to USER_ID".into()),
            },
            "convs" | "conversations" => Self::Conversations,
            "history" => match args.as_slice() {
                [] => Self::History(20),
                [n] => Self::History(n.parse().map_err(|_| "usage: /history [N]".to_owned())?),
                _ => return Err("usage: /history [N]".into()),
            },
            "retry" => match args.as_slice() {
                [id] => Self::Retry((*id).to_owned()),
                _ => return Err("usage: /retry MESSAGE_ID".into()),
            },
            "quit" | "exit" | "q" => Self::Quit,
            other => return Err(format!("unknown command /{other}; try /help")),
        })
    }
}

/// Runs one command. `peer` is the person currently talked to.
pub async fn run(client: &Client, cmd: Command, peer: &mut Option<String>) -> Result<()> {
    match cmd {
        Command::Help => println!("{HELP}"),
        Command::Empty | Command::Quit => {}
        Command::Register { username, password } => {
            let user = client.register(&username, &password, None).await?;
            println!("Registered {} with id {}.", user.username, user.user_id);
            let account = client.login(&username, &password).await?;
            println!(
                "Signed in as {} (id {}).",
                account.username, account.user_id
            );
        }
        Command::Login { username, password } => {
            let account = client.login(&username, &password).await?;
            println!(
                "Signed in as {} (id {}).",
                account.username, account.user_id
            );
        }
        Command::Logout => {
            client.logout().await?;
            println!("Signed out.");
        }
        Command::WhoAmI => match client.user_id() {
            Some(id) => println!("You are user {id}."),
            None => println!("Not signed in."),
        },
        Command::To(id) => {
            println!("Talking to {id}. Type a message and press Enter.");
            *peer = Some(id);
        }
        Command::Conversations => {
            for c in client.conversations().await? {
                let text = c.last_text.unwrap_or_default();
                println!("{:>8}  unread {:<3} {}", c.id, c.unread, text);
            }
        }
        Command::History(n) => {
            let Some(p) = peer.as_deref() else {
                println!("Choose someone first: /to USER_ID");
                return Ok(());
            };
            let mut page = client.history(p, None, n).await?;
            page.reverse();
            for m in page {
                let who = if m.outgoing { "you" } else { m.from.as_str() };
                println!("[{who}] {}  ({})", m.content, m.status.as_str());
            }
            client.mark_read(p).await?;
        }
        Command::Retry(id) => {
            client.retry(&id).await?;
        }
        Command::Send(text) => {
            let Some(p) = peer.as_deref() else {
                println!("Choose someone first: /to USER_ID");
                return Ok(());
            };
            client.send_text(p, &text).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_a_message() {
        assert_eq!(
            Command::parse("  你好 /not a command "),
            Ok(Command::Send("你好 /not a command".into()))
        );
        assert_eq!(Command::parse("   "), Ok(Command::Empty));
    }

    #[test]
    fn commands_parse_with_their_arguments() {
        assert_eq!(
            Command::parse("/login alice pw123456"),
            Ok(Command::Login {
                username: "alice".into(),
                password: "pw123456".into()
            })
        );
        assert_eq!(Command::parse("/to 10002"), Ok(Command::To("10002".into())));
        assert_eq!(Command::parse("/history"), Ok(Command::History(20)));
        assert_eq!(Command::parse("/history 5"), Ok(Command::History(5)));
        assert_eq!(Command::parse("/q"), Ok(Command::Quit));
    }

    #[test]
    fn bad_commands_explain_their_usage() {
        assert!(Command::parse("/login alice")
            .unwrap_err()
            .contains("usage"));
        assert!(Command::parse("/history many")
            .unwrap_err()
            .contains("usage"));
        assert!(Command::parse("/frobnicate").unwrap_err().contains("/help"));
    }
}
