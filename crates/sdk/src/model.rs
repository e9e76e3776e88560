//! Plain data the SDK hands to the app: messages, conversations, accounts.
//! All of it is `serde`-serializable so a UI bridge (Tauri) can pass it on.

use hongyan_protocol::api::{GroupEvent, GroupEventKind};
use hongyan_protocol::{kinds, Envelope, PacketType};
use serde::{Deserialize, Serialize};

pub use hongyan_protocol::api::{
    Friend, FriendRequest, FriendRequestStatus, FriendRequests, Group, Member, Notice, Role, User,
};

/// The id of the conversation that holds notices (broadcasts).
pub const NOTICES_CONVERSATION: &str = "notices";

/// The message id of notice `id` in the notices conversation.
pub fn notice_message_id(id: i64) -> String {
    format!("notice-{id}")
}

/// What a notice message's `content` holds: `{"id","title","body"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeContent {
    pub id: i64,
    pub title: String,
    pub body: String,
}

/// The API path of a stored media file (image or thumbnail): `/api/v1/media/<sha256>`.
pub fn media_url(sha256: &str) -> String {
    format!("/api/v1/media/{sha256}")
}

/// The API path of a sticker image: `/api/v1/stickers/<pack>/<id>.png`.
pub fn sticker_url(pack: &str, id: &str) -> String {
    format!("/api/v1/stickers/{pack}/{id}.png")
}

/// What an image message's (typeu 2) `content` holds (docs/MEDIA.md). Unknown fields are
/// ignored when reading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageContent {
    pub sha256: String,
    /// `/api/v1/media/<sha256>` on the message's server.
    pub url: String,
    pub mime: String,
    /// Pixel size of the sent file after orientation.
    pub w: u32,
    pub h: u32,
    /// Byte length of the sent file.
    pub size: u64,
    pub thumb: ThumbContent,
}

/// The ≤ 320 px still of an [`ImageContent`] (the image itself when it is that small).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThumbContent {
    pub sha256: String,
    pub url: String,
    pub w: u32,
    pub h: u32,
}

/// What a sticker message's (typeu 3) `content` holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StickerContent {
    pub pack: String,
    pub id: String,
    /// `/api/v1/stickers/<pack>/<id>.png` on the message's server.
    pub url: String,
    pub w: u32,
    pub h: u32,
}

/// An image compressed by [`crate::Client::prepare_image`] and written into the media
/// cache, ready for [`crate::Client::send_image`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreparedImage {
    pub sha256: String,
    pub mime: String,
    pub width: u32,
    pub height: u32,
    /// Bytes that will be sent.
    pub size: u64,
    /// Bytes of the file the user picked.
    pub original_size: u64,
    /// The original was sent as is (metadata removed only).
    pub kept_original: bool,
    pub thumb: PreparedThumb,
}

/// The thumbnail of a [`PreparedImage`] (the image itself when it is ≤ 320 px).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreparedThumb {
    pub sha256: String,
    pub width: u32,
    pub height: u32,
    pub size: u64,
}

impl PreparedImage {
    /// The typeu-2 content that announces this image.
    pub fn content(&self) -> ImageContent {
        ImageContent {
            sha256: self.sha256.clone(),
            url: media_url(&self.sha256),
            mime: self.mime.clone(),
            w: self.width,
            h: self.height,
            size: self.size,
            thumb: ThumbContent {
                sha256: self.thumb.sha256.clone(),
                url: media_url(&self.thumb.sha256),
                w: self.thumb.width,
                h: self.thumb.height,
            },
        }
    }
}

/// A sticker pack as the server lists it (`GET /api/v1/stickers`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StickerPack {
    pub id: String,
    pub name: String,
    pub stickers: Vec<Sticker>,
}

/// One sticker of a [`StickerPack`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sticker {
    pub id: String,
    pub name: String,
    /// `/api/v1/stickers/<pack>/<id>.png`.
    pub url: String,
    pub w: u32,
    pub h: u32,
}

/// Where a message stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MessageStatus {
    /// Own message, stored locally, not yet acknowledged by the server.
    Sending,
    /// Own message, the server has it.
    Sent,
    /// Own message, the recipient's device has it.
    Delivered,
    /// Own message, the recipient has read it.
    Read,
    /// Own message the server rejected (`code` = error code) or that got no ACK (`code` 0).
    Failed { code: i32, reason: String },
    /// A message from someone else.
    Received,
}

impl MessageStatus {
    /// The name stored in SQLite.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Read => "read",
            Self::Failed { .. } => "failed",
            Self::Received => "received",
        }
    }

    /// Rebuilds a status from its stored name and failure details.
    pub fn from_parts(name: &str, code: Option<i32>, reason: Option<String>) -> Self {
        match name {
            "sending" => Self::Sending,
            "sent" => Self::Sent,
            "delivered" => Self::Delivered,
            "read" => Self::Read,
            "failed" => Self::Failed {
                code: code.unwrap_or(0),
                reason: reason.unwrap_or_default(),
            },
            _ => Self::Received,
        }
    }

    /// Progress rank of an own message: a status never moves backwards except through
    /// `retry` (Failed → Sending).
    pub(crate) fn rank(&self) -> u8 {
        match self {
            Self::Failed { .. } => 0,
            Self::Sending => 1,
            Self::Sent => 2,
            Self::Delivered => 3,
            Self::Read => 4,
            Self::Received => 5,
        }
    }
}

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// The protocol fingerprint (`fp`), a UUIDv7 for Hongyan clients.
    pub id: String,
    /// Peer user id for 1:1 chats, `g<id>` for groups.
    pub conversation_id: String,
    pub from: String,
    pub to: String,
    /// Application kind (`typeu`; see `hongyan_protocol::kinds`).
    pub typeu: i32,
    /// `dataContent`: the text for text messages, JSON for other kinds.
    pub content: String,
    /// ms since the epoch: local send time for own messages, server `sm` for received ones.
    pub sent_at: i64,
    /// Position in this account's mailbox, when known.
    pub seq: Option<i64>,
    pub status: MessageStatus,
    /// Whether this account sent it.
    pub outgoing: bool,
}

impl Message {
    /// A new outgoing text message from `me` to `to`, id = fresh UUIDv7, status Sending.
    pub fn new_outgoing(me: &str, to: &str, typeu: i32, content: &str, now_ms: i64) -> Self {
        Self {
            id: uuid::Uuid::now_v7().to_string(),
            conversation_id: to.to_owned(),
            from: me.to_owned(),
            to: to.to_owned(),
            typeu,
            content: content.to_owned(),
            sent_at: now_ms,
            seq: None,
            status: MessageStatus::Sending,
            outgoing: true,
        }
    }

    /// A chat envelope (type 2 with an fp) as seen by account `me`; `None` for other packets.
    /// Own messages (from sync: the server keeps a copy in the sender's mailbox) come back as
    /// outgoing with status Sent.
    pub fn from_envelope(env: &Envelope, me: &str, now_ms: i64) -> Option<Self> {
        if env.packet_type != PacketType::CommonData {
            return None;
        }
        let id = env.fp.clone().filter(|f| !f.is_empty())?;
        let outgoing = env.from == me;
        let conversation_id = if outgoing || env.is_to_group() {
            env.to.clone()
        } else {
            env.from.clone()
        };
        Some(Self {
            id,
            conversation_id,
            from: env.from.clone(),
            to: env.to.clone(),
            typeu: env.typeu,
            content: env.data_content.clone().unwrap_or_default(),
            sent_at: if env.sm > 0 { env.sm } else { now_ms },
            seq: env.seq,
            status: if outgoing {
                MessageStatus::Sent
            } else {
                MessageStatus::Received
            },
            outgoing,
        })
    }

    /// The wire envelope of an own message.
    pub fn to_envelope(&self) -> Envelope {
        Envelope::chat(
            self.from.clone(),
            self.to.clone(),
            self.id.clone(),
            self.typeu,
            self.content.clone(),
        )
    }

    /// The line a conversation list shows for this message. Group events read like
    /// `10001 added 10002` (user ids; see [`Message::preview_with`] for names), each name
    /// and the group's name bidi-isolated (U+2068 … U+2069).
    pub fn preview(&self) -> String {
        self.preview_with(|id| id.to_owned())
    }

    /// [`Message::preview`] with user ids turned into names by `name` (group events name
    /// who did what: `alice added bob`).
    pub fn preview_with(&self, name: impl Fn(&str) -> String) -> String {
        match self.typeu {
            kinds::UNSET | kinds::TEXT => self.content.chars().take(200).collect(),
            kinds::IMAGE => "[Image]".to_owned(),
            kinds::STICKER => "[Sticker]".to_owned(),
            kinds::RECALL => "[A message was recalled]".to_owned(),
            kinds::GROUP_EVENT => match serde_json::from_str::<GroupEvent>(&self.content) {
                Ok(e) => group_event_line(&e, &name),
                Err(_) => "[Group changed]".to_owned(),
            },
            kinds::BROADCAST_NOTIFY => match serde_json::from_str::<NoticeContent>(&self.content) {
                Ok(n) => format!("[Notice] {}", n.title).chars().take(200).collect(),
                Err(_) => "[Notice]".to_owned(),
            },
            _ => "[Message]".to_owned(),
        }
    }

    /// Whether this message counts as unread when it arrives: messages from others and
    /// notices do, group system lines (typeu 61) do not.
    pub fn counts_as_unread(&self) -> bool {
        !self.outgoing && self.status == MessageStatus::Received && self.typeu != kinds::GROUP_EVENT
    }

    /// Whether this is a 1:1 message from another user that gets delivered/read receipts.
    pub fn wants_receipts(&self) -> bool {
        !self.outgoing
            && self.from != hongyan_protocol::SERVER_ID
            && self.conversation_id == self.from
            && !kinds::is_transient(self.typeu)
            && self.typeu != kinds::RECEIPT
    }

    /// The notices-conversation message for `notice` as seen by `me`.
    pub fn from_notice(notice: &Notice, me: &str) -> Self {
        let content = NoticeContent {
            id: notice.id,
            title: notice.title.clone(),
            body: notice.body.clone(),
        };
        Self {
            id: notice_message_id(notice.id),
            conversation_id: NOTICES_CONVERSATION.to_owned(),
            from: hongyan_protocol::SERVER_ID.to_owned(),
            to: me.to_owned(),
            typeu: kinds::BROADCAST_NOTIFY,
            content: serde_json::to_string(&content).unwrap_or_default(),
            sent_at: notice.published_at,
            seq: None,
            status: MessageStatus::Received,
            outgoing: false,
        }
    }

    /// The image this message announces (typeu 2 with a content that parses).
    pub fn image(&self) -> Option<ImageContent> {
        (self.typeu == kinds::IMAGE)
            .then(|| serde_json::from_str(&self.content).ok())
            .flatten()
    }

    /// The sticker this message shows (typeu 3 with a content that parses).
    pub fn sticker(&self) -> Option<StickerContent> {
        (self.typeu == kinds::STICKER)
            .then(|| serde_json::from_str(&self.content).ok())
            .flatten()
    }

    /// The keyset cursor just past this message (for the next older page).
    pub fn cursor(&self) -> HistoryCursor {
        HistoryCursor {
            sent_at: self.sent_at,
            id: self.id.clone(),
        }
    }
}

/// `alice added bob, carol` and the like.
/// `text` between FIRST STRONG ISOLATE and POP DIRECTIONAL ISOLATE: a name chosen by a
/// user (say one holding U+202E, right-to-left override) cannot reorder the rest of the line.
fn isolate(text: &str) -> String {
    format!("\u{2068}{text}\u{2069}")
}

fn group_event_line(e: &GroupEvent, name: &impl Fn(&str) -> String) -> String {
    let by = isolate(&name(&e.by));
    let members = e
        .members
        .iter()
        .map(|m| isolate(&name(m)))
        .collect::<Vec<_>>()
        .join(", ");
    let group = isolate(&e.group.name);
    match e.event {
        GroupEventKind::Created => format!("{by} created the group \"{group}\""),
        GroupEventKind::Renamed => format!("{by} renamed the group to \"{group}\""),
        GroupEventKind::MembersAdded => format!("{by} added {members}"),
        GroupEventKind::MemberRemoved => format!("{by} removed {members}"),
        GroupEventKind::MemberLeft => format!("{members} left the group"),
    }
}

/// Keyset position in a conversation's history: `(sent_at, id)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryCursor {
    pub sent_at: i64,
    pub id: String,
}

/// One row of the conversation list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    /// Peer user id for 1:1 chats, `g<id>` for groups.
    pub id: String,
    pub last_message_id: Option<String>,
    pub last_text: Option<String>,
    /// ms of the last message (0 if none).
    pub last_at: i64,
    pub unread: u32,
}

impl Conversation {
    /// The peer (for 1:1 the conversation id itself).
    pub fn peer(&self) -> &str {
        &self.id
    }

    /// Whether this is a group conversation.
    pub fn is_group(&self) -> bool {
        hongyan_protocol::envelope::is_group_id(&self.id)
    }
}

/// The logged-in account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub user_id: String,
    pub username: String,
    /// `host_port` of the server this account lives on.
    pub server: String,
}

/// Answer to a registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisteredUser {
    pub user_id: String,
    pub username: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_round_trips_through_its_stored_form() {
        for s in [
            MessageStatus::Sending,
            MessageStatus::Sent,
            MessageStatus::Delivered,
            MessageStatus::Read,
            MessageStatus::Received,
            MessageStatus::Failed {
                code: 1101,
                reason: "not friends".into(),
            },
        ] {
            let (code, reason) = match &s {
                MessageStatus::Failed { code, reason } => (Some(*code), Some(reason.clone())),
                _ => (None, None),
            };
            assert_eq!(MessageStatus::from_parts(s.as_str(), code, reason), s);
        }
        let json = serde_json::to_string(&MessageStatus::Failed {
            code: 0,
            reason: "x".into(),
        })
        .expect("json");
        assert_eq!(json, r#"{"kind":"failed","code":0,"reason":"x"}"#);
    }

    #[test]
    fn envelopes_become_messages_from_the_account_view() {
        let mut env = Envelope::chat("7", "5", "fp1", kinds::TEXT, "hi");
        env.sm = 1000;
        env.seq = Some(3);
        let m = Message::from_envelope(&env, "5", 9).expect("chat");
        assert_eq!((m.conversation_id.as_str(), m.outgoing), ("7", false));
        assert_eq!(
            (m.sent_at, m.seq, m.status),
            (1000, Some(3), MessageStatus::Received)
        );
        let own = Message::from_envelope(&env, "7", 9).expect("own copy");
        assert_eq!(
            (own.conversation_id.as_str(), own.status),
            ("5", MessageStatus::Sent)
        );
        let group = Envelope::chat("7", "g9", "fp2", kinds::TEXT, "yo");
        let g = Message::from_envelope(&group, "5", 9).expect("group");
        assert_eq!((g.conversation_id.as_str(), g.sent_at), ("g9", 9));
        assert!(Message::from_envelope(&Envelope::keepalive("5"), "5", 0).is_none());
    }

    #[test]
    fn users_round_trip_as_snake_case_json() {
        let json = r#"{"user_id":"10001","username":"alice","nickname":"Alice A"}"#;
        let u: User = serde_json::from_str(json).expect("json");
        assert_eq!(
            u,
            User {
                user_id: "10001".into(),
                username: "alice".into(),
                nickname: "Alice A".into()
            }
        );
        assert_eq!(serde_json::to_string(&u).expect("ser"), json);
    }

    #[test]
    fn image_and_sticker_contents_follow_the_contract() {
        let prepared = PreparedImage {
            sha256: "a".repeat(64),
            mime: "image/jpeg".into(),
            width: 1280,
            height: 960,
            size: 200_000,
            original_size: 4_000_000,
            kept_original: false,
            thumb: PreparedThumb {
                sha256: "b".repeat(64),
                width: 320,
                height: 240,
                size: 20_000,
            },
        };
        let json = serde_json::to_value(prepared.content()).expect("json");
        assert_eq!(
            json,
            serde_json::json!({
                "sha256": "a".repeat(64), "url": format!("/api/v1/media/{}", "a".repeat(64)),
                "mime": "image/jpeg", "w": 1280, "h": 960, "size": 200_000,
                "thumb": {"sha256": "b".repeat(64),
                          "url": format!("/api/v1/media/{}", "b".repeat(64)), "w": 320, "h": 240}
            })
        );
        let mut m = Message::new_outgoing("1", "2", kinds::IMAGE, &json.to_string(), 1);
        assert_eq!(m.image(), Some(prepared.content()));
        assert_eq!(m.preview(), "[Image]");
        // Unknown fields are ignored; a content that does not parse is no image.
        let mut extra = json.clone();
        extra["caption"] = "hi".into();
        m.content = extra.to_string();
        assert_eq!(m.image(), Some(prepared.content()));
        m.content = "{\"sha256\":1}".into();
        assert_eq!((m.image(), m.preview().as_str()), (None, "[Image]"));

        let sticker = StickerContent {
            pack: "goose".into(),
            id: "wave".into(),
            url: sticker_url("goose", "wave"),
            w: 160,
            h: 160,
        };
        let s = Message::new_outgoing(
            "1",
            "2",
            kinds::STICKER,
            &serde_json::to_string(&sticker).expect("json"),
            1,
        );
        assert_eq!(s.sticker(), Some(sticker));
        assert_eq!(s.image(), None);
        assert_eq!(s.preview(), "[Sticker]");
        assert_eq!(
            s.content,
            r#"{"pack":"goose","id":"wave","url":"/api/v1/stickers/goose/wave.png","w":160,"h":160}"#
        );
    }

    #[test]
    fn outgoing_messages_have_time_ordered_ids() {
        let a = Message::new_outgoing("1", "2", kinds::TEXT, "a", 1);
        let b = Message::new_outgoing("1", "2", kinds::TEXT, "b", 1);
        assert!(a.id < b.id);
        let env = a.to_envelope();
        assert!(env.qos && env.fp.as_deref() == Some(a.id.as_str()));
    }

    #[test]
    fn group_event_names_cannot_reorder_the_line() {
        // "Mallory" with a right-to-left override would otherwise flip " added …".
        let evil = "\u{202E}yrollaM";
        let content = format!(
            r#"{{"event":"members_added","group":{{"group_id":"g4","name":"{evil}","owner":"7","member_count":3,"created_at":1}},"by":"7","members":["5"]}}"#
        );
        let mut m = Message::from_envelope(
            &Envelope::chat("0", "g4", "fp", kinds::GROUP_EVENT, &content),
            "5",
            1,
        )
        .expect("group event");
        m.typeu = kinds::GROUP_EVENT;
        let line = m.preview_with(|id| {
            if id == "7" {
                evil.to_owned()
            } else {
                "Bob".to_owned()
            }
        });
        assert_eq!(
            line,
            format!("\u{2068}{evil}\u{2069} added \u{2068}Bob\u{2069}")
        );
        m.content = content.replace("members_added", "created");
        assert_eq!(
            m.preview_with(|_| "Amy".to_owned()),
            format!("\u{2068}Amy\u{2069} created the group \"\u{2068}{evil}\u{2069}\"")
        );
    }
}
