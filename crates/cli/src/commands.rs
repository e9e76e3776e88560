//! The chat's slash commands: parsing (pure) and running them against the SDK.

use anyhow::Result;
use hongyan_sdk::media::ImageQuality;
use hongyan_sdk::model::{FriendRequestStatus, NoticeContent, Role, NOTICES_CONVERSATION};
use hongyan_sdk::Client;

/// `[notice] TITLE — BODY` for a notice message's content.
pub fn notice_text(content: &str) -> String {
    match serde_json::from_str::<NoticeContent>(content) {
        Ok(n) => format!("[notice] {} — {}", n.title, n.body),
        Err(_) => "[notice]".to_owned(),
    }
}

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
    Friends,
    /// Find `username` and send them a friend request.
    AddFriend {
        username: String,
        message: String,
    },
    Requests,
    Accept(i64),
    Decline(i64),
    Unfriend(String),
    Groups,
    GroupCreate {
        name: String,
        members: Vec<String>,
    },
    GroupMembers(String),
    GroupAdd {
        group_id: String,
        members: Vec<String>,
    },
    GroupRemove {
        group_id: String,
        user_id: String,
    },
    GroupRename {
        group_id: String,
        name: String,
    },
    GroupLeave(String),
    Notices,
    /// Send the image file at `path` (compressed per `quality`).
    Image {
        path: String,
        quality: ImageQuality,
    },
    /// List the server's sticker packs.
    Stickers,
    Sticker {
        pack: String,
        id: String,
    },
    Empty,
    Quit,
}

const HELP: &str = "\
/register NAME PASSWORD        create an account and sign in
/login NAME PASSWORD           sign in
/to USER_ID | GROUP_ID         choose whom to talk to: a friend or a group (g…); /whoami
TEXT                           send TEXT there
/history [N]                   the last N messages there (default 20); marks them read
/convs                         your conversations with unread counts
/retry MESSAGE_ID              resend a failed message
/friends                       your friends and who is online
/add USERNAME [MESSAGE]        ask someone to be friends
/requests                      friend requests to and from you
/accept ID, /decline ID        answer a friend request
/unfriend USER_ID              end a friendship
/groups                        your groups
/group create NAME USER_ID…    a new group with these friends
/group members GROUP_ID        who is in a group
/group add GROUP_ID USER_ID…   invite friends
/group remove GROUP_ID USER_ID remove someone (owner)
/group rename GROUP_ID NAME    rename a group
/group leave GROUP_ID          leave a group
/notices                       notices from the operators
/image PATH [hd|original]      send a picture (standard: 1280 px; hd: 2560 px; original: as is)
/stickers                      the sticker packs; /sticker PACK ID sends one
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
        let owned = |v: &[&str]| v.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>();
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
            "friends" => Self::Friends,
            "add" => match args.as_slice() {
                [u, msg @ ..] => Self::AddFriend {
                    username: (*u).to_owned(),
                    message: msg.join(" "),
                },
                _ => return Err("usage: /add USERNAME [MESSAGE]".into()),
            },
            "requests" => Self::Requests,
            "accept" | "decline" => {
                let usage = || format!("usage: /{name} REQUEST_ID (see /requests)");
                let id = match args.as_slice() {
                    [id] => id.parse().map_err(|_| usage())?,
                    _ => return Err(usage()),
                };
                if name == "accept" {
                    Self::Accept(id)
                } else {
                    Self::Decline(id)
                }
            }
            "unfriend" => match args.as_slice() {
                [id] => Self::Unfriend((*id).to_owned()),
                _ => return Err("usage: /unfriend USER_ID".into()),
            },
            "groups" => Self::Groups,
            "group" => match args.as_slice() {
                ["create", name, members @ ..] => Self::GroupCreate {
                    name: (*name).to_owned(),
                    members: owned(members),
                },
                ["members", gid] => Self::GroupMembers((*gid).to_owned()),
                ["add", gid, members @ ..] if !members.is_empty() => Self::GroupAdd {
                    group_id: (*gid).to_owned(),
                    members: owned(members),
                },
                ["remove", gid, user] => Self::GroupRemove {
                    group_id: (*gid).to_owned(),
                    user_id: (*user).to_owned(),
                },
                ["rename", gid, name @ ..] if !name.is_empty() => Self::GroupRename {
                    group_id: (*gid).to_owned(),
                    name: name.join(" "),
                },
                ["leave", gid] => Self::GroupLeave((*gid).to_owned()),
                _ => {
                    return Err("usage: /group create NAME USER_ID… | members GID | \
                                add GID USER_ID… | remove GID USER_ID | rename GID NAME | \
                                leave GID"
                        .into())
                }
            },
            "notices" => Self::Notices,
            "image" | "img" => {
                let (quality, path) = match args.as_slice() {
                    [path @ .., q] if !path.is_empty() && q.parse::<ImageQuality>().is_ok() => {
                        (q.parse().unwrap_or_default(), path.join(" "))
                    }
                    [] => return Err("usage: /image PATH [hd|original]".into()),
                    path => (ImageQuality::Standard, path.join(" ")),
                };
                Self::Image { path, quality }
            }
            "stickers" => Self::Stickers,
            "sticker" => match args.as_slice() {
                [pack, id] => Self::Sticker {
                    pack: (*pack).to_owned(),
                    id: (*id).to_owned(),
                },
                _ => return Err("usage: /sticker PACK ID (see /stickers)".into()),
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
                if m.typeu == hongyan_sdk::kinds::GROUP_EVENT {
                    println!("  — {} —", m.preview());
                    continue;
                }
                let who = if m.outgoing { "you" } else { m.from.as_str() };
                println!("[{who}] {}  ({})", m.preview(), m.status.as_str());
            }
            client.mark_read(p).await?;
        }
        Command::Retry(id) => {
            client.retry(&id).await?;
        }
        Command::Friends => {
            let friends = client.friends().await?;
            if friends.is_empty() {
                println!("No friends yet: /add USERNAME");
            }
            for f in friends {
                let dot = if f.online { "●" } else { "○" };
                println!(
                    "{dot} {:>8}  {} ({})",
                    f.user.user_id, f.user.nickname, f.user.username
                );
            }
        }
        Command::AddFriend { username, message } => {
            let users = client.search_users(&username).await?;
            let Some(user) = users
                .into_iter()
                .find(|u| u.username.eq_ignore_ascii_case(&username))
            else {
                println!("No user named {username}.");
                return Ok(());
            };
            let r = client.send_friend_request(&user.user_id, &message).await?;
            match r.status {
                FriendRequestStatus::Accepted => {
                    println!("{} had asked you too: you are friends now.", user.username)
                }
                _ => println!(
                    "Asked {} (id {}) to be friends.",
                    user.username, user.user_id
                ),
            }
        }
        Command::Requests => {
            let r = client.friend_requests().await?;
            for q in &r.incoming {
                println!(
                    "  #{:<4} from {} ({}): {}   /accept {} · /decline {}",
                    q.id, q.from.username, q.from.user_id, q.message, q.id, q.id
                );
            }
            for q in &r.outgoing {
                println!(
                    "  #{:<4} to {} ({}): waiting",
                    q.id, q.to.username, q.to.user_id
                );
            }
            if r.incoming.is_empty() && r.outgoing.is_empty() {
                println!("No pending friend requests.");
            }
        }
        Command::Accept(id) => {
            let r = client.accept_friend_request(id).await?;
            println!(
                "You and {} are friends now: /to {}",
                r.from.username, r.from.user_id
            );
        }
        Command::Decline(id) => {
            let r = client.decline_friend_request(id).await?;
            println!("Declined {}.", r.from.username);
        }
        Command::Unfriend(id) => {
            client.remove_friend(&id).await?;
            println!("No longer friends with {id}.");
        }
        Command::Groups => {
            let groups = client.groups().await?;
            if groups.is_empty() {
                println!("No groups yet: /group create NAME USER_ID…");
            }
            for g in groups {
                println!("{:>6}  {} ({} members)", g.group_id, g.name, g.member_count);
            }
        }
        Command::GroupCreate { name, members } => {
            let g = client.create_group(&name, &members).await?;
            println!("Created {} \"{}\": /to {}", g.group_id, g.name, g.group_id);
        }
        Command::GroupMembers(gid) => {
            for m in client.group_members(&gid).await? {
                let role = if m.role == Role::Owner {
                    " (owner)"
                } else {
                    ""
                };
                println!("{:>8}  {}{role}", m.user.user_id, m.user.username);
            }
        }
        Command::GroupAdd { group_id, members } => {
            let g = client.add_group_members(&group_id, &members).await?;
            println!("{} now has {} members.", g.group_id, g.member_count);
        }
        Command::GroupRemove { group_id, user_id } => {
            client.remove_group_member(&group_id, &user_id).await?;
            println!("Removed {user_id} from {group_id}.");
        }
        Command::GroupRename { group_id, name } => {
            let g = client.rename_group(&group_id, &name).await?;
            println!("{} is now \"{}\".", g.group_id, g.name);
        }
        Command::GroupLeave(gid) => {
            client.leave_group(&gid).await?;
            println!("You left {gid}.");
        }
        Command::Notices => {
            client.refresh_notices().await?;
            let mut page = client.history(NOTICES_CONVERSATION, None, 20).await?;
            if page.is_empty() {
                println!("No notices.");
            }
            page.reverse();
            for m in page {
                println!("{}", notice_text(&m.content));
            }
            client.mark_read(NOTICES_CONVERSATION).await?;
        }
        Command::Send(text) => {
            let Some(p) = peer.as_deref() else {
                println!("Choose someone first: /to USER_ID");
                return Ok(());
            };
            client.send_text(p, &text).await?;
        }
        Command::Image { path, quality } => {
            let Some(p) = peer.as_deref() else {
                println!("Choose someone first: /to USER_ID");
                return Ok(());
            };
            let bytes = tokio::fs::read(&path)
                .await
                .map_err(|e| anyhow::anyhow!("cannot read {path}: {e}"))?;
            let image = client.prepare_image(bytes, quality).await?;
            println!(
                "  {} → {} ({}×{} {})",
                human_size(image.original_size),
                human_size(image.size),
                image.width,
                image.height,
                image.mime
            );
            client.send_image(p, &image).await?;
        }
        Command::Stickers => {
            for pack in client.sticker_packs().await? {
                let ids: Vec<&str> = pack.stickers.iter().map(|s| s.id.as_str()).collect();
                println!("{} ({}): {}", pack.id, pack.name, ids.join(" "));
            }
        }
        Command::Sticker { pack, id } => {
            let Some(p) = peer.as_deref() else {
                println!("Choose someone first: /to USER_ID");
                return Ok(());
            };
            client.send_sticker(p, &pack, &id).await?;
        }
    }
    Ok(())
}

/// `4.1 MB`, `212 KB`, `900 B` (decimal units, as the app shows them).
pub fn human_size(bytes: u64) -> String {
    match bytes {
        b if b >= 1_000_000 => format!("{:.1} MB", b as f64 / 1e6),
        b if b >= 1_000 => format!("{} KB", (b + 500) / 1_000),
        b => format!("{b} B"),
    }
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
    fn social_commands_parse() {
        assert_eq!(
            Command::parse("/add bob hi there"),
            Ok(Command::AddFriend {
                username: "bob".into(),
                message: "hi there".into()
            })
        );
        assert_eq!(
            Command::parse("/add bob"),
            Ok(Command::AddFriend {
                username: "bob".into(),
                message: String::new()
            })
        );
        assert_eq!(Command::parse("/accept 12"), Ok(Command::Accept(12)));
        assert_eq!(Command::parse("/decline 3"), Ok(Command::Decline(3)));
        assert_eq!(
            Command::parse("/group create team 10002 10003"),
            Ok(Command::GroupCreate {
                name: "team".into(),
                members: vec!["10002".into(), "10003".into()]
            })
        );
        assert_eq!(
            Command::parse("/group rename g3 the new name"),
            Ok(Command::GroupRename {
                group_id: "g3".into(),
                name: "the new name".into()
            })
        );
        assert_eq!(
            Command::parse("/group remove g3 10002"),
            Ok(Command::GroupRemove {
                group_id: "g3".into(),
                user_id: "10002".into()
            })
        );
        assert_eq!(
            Command::parse("/group leave g3"),
            Ok(Command::GroupLeave("g3".into()))
        );
        assert_eq!(Command::parse("/notices"), Ok(Command::Notices));
        assert_eq!(Command::parse("/to g3"), Ok(Command::To("g3".into())));
        assert!(Command::parse("/accept me").unwrap_err().contains("usage"));
        assert!(Command::parse("/group add g3")
            .unwrap_err()
            .contains("usage"));
        assert!(Command::parse("/group").unwrap_err().contains("usage"));
        assert_eq!(
            notice_text(r#"{"id":1,"title":"Hi","body":"there"}"#),
            "[notice] Hi — there"
        );
    }

    #[test]
    fn media_commands_parse() {
        assert_eq!(
            Command::parse("/image ~/Pictures/cat photo.jpg hd"),
            Ok(Command::Image {
                path: "~/Pictures/cat photo.jpg".into(),
                quality: ImageQuality::Hd
            })
        );
        assert_eq!(
            Command::parse("/image cat.png"),
            Ok(Command::Image {
                path: "cat.png".into(),
                quality: ImageQuality::Standard
            })
        );
        assert_eq!(
            Command::parse("/img raw.jpg original"),
            Ok(Command::Image {
                path: "raw.jpg".into(),
                quality: ImageQuality::Original
            })
        );
        // A file named like a quality is still a file.
        assert_eq!(
            Command::parse("/image hd"),
            Ok(Command::Image {
                path: "hd".into(),
                quality: ImageQuality::Standard
            })
        );
        assert!(Command::parse("/image").unwrap_err().contains("usage"));
        assert_eq!(
            Command::parse("/sticker goose wave"),
            Ok(Command::Sticker {
                pack: "goose".into(),
                id: "wave".into()
            })
        );
        assert_eq!(Command::parse("/stickers"), Ok(Command::Stickers));
        assert!(Command::parse("/sticker goose")
            .unwrap_err()
            .contains("usage"));
        assert_eq!(human_size(4_100_000), "4.1 MB");
        assert_eq!(human_size(212_345), "212 KB");
        assert_eq!(human_size(900), "900 B");
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
