//! JSON shapes of the social HTTP API and of the `dataContent` of the issue-5 kinds
//! (friends, groups, notices, receipts, presence, typing; see `docs/PROTOCOL.md`).
//!
//! The server writes and the SDK reads exactly these types, so both sides share one
//! definition. Ids on the wire are strings (`"10001"`, `"g3"`) except request and notice
//! ids, which are numbers; times are ms since the epoch.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Most members a group may have (owner included).
pub const MAX_GROUP_MEMBERS: usize = 500;
/// Most message ids one receipt packet may list.
pub const MAX_RECEIPT_IDS: usize = 100;
/// Longest group name, in characters.
pub const GROUP_NAME_MAX: usize = 64;
/// Longest friend-request message, in characters.
pub const FRIEND_MESSAGE_MAX: usize = 200;

/// The wire id of group `id`: `"g<id>"`.
pub fn group_wire_id(id: i64) -> String {
    format!("g{id}")
}

/// The numeric id in a `"g<digits>"` group id; `None` for anything else.
pub fn parse_group_id(wire: &str) -> Option<i64> {
    if !crate::envelope::is_group_id(wire) {
        return None;
    }
    wire[1..].parse().ok()
}

/// A user's public profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub user_id: String,
    pub username: String,
    pub nickname: String,
}

/// A friend: the profile plus since when and whether they are online now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Friend {
    #[serde(flatten)]
    pub user: User,
    pub since: i64,
    #[serde(default)]
    pub online: bool,
}

/// `GET /api/v1/friends`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FriendList {
    pub friends: Vec<Friend>,
}

/// Where a friend request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FriendRequestStatus {
    Pending,
    Accepted,
    Declined,
}

impl FriendRequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::Declined => "declined",
        }
    }

    /// The status stored as `text`; `None` for anything unknown.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "pending" => Self::Pending,
            "accepted" => Self::Accepted,
            "declined" => Self::Declined,
            _ => return None,
        })
    }
}

/// One friend request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FriendRequest {
    pub id: i64,
    pub from: User,
    pub to: User,
    #[serde(default)]
    pub message: String,
    pub status: FriendRequestStatus,
    pub created_at: i64,
}

/// `POST /api/v1/friends/requests` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendFriendRequest {
    pub to: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// `GET /api/v1/friends/requests`: the pending requests to and from me.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FriendRequests {
    pub incoming: Vec<FriendRequest>,
    pub outgoing: Vec<FriendRequest>,
}

/// A group as its members see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// `"g<id>"`.
    pub group_id: String,
    pub name: String,
    /// The owner's user id.
    pub owner: String,
    pub member_count: u32,
    pub created_at: i64,
}

/// `GET /api/v1/groups`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupList {
    pub groups: Vec<Group>,
}

/// `POST /api/v1/groups` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateGroup {
    pub name: String,
    #[serde(default)]
    pub members: Vec<String>,
}

/// `PATCH /api/v1/groups/{gid}` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenameGroup {
    pub name: String,
}

/// `POST /api/v1/groups/{gid}/members` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddMembers {
    pub members: Vec<String>,
}

/// A member's role in a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Member,
}

/// One group member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    #[serde(flatten)]
    pub user: User,
    pub role: Role,
    pub joined_at: i64,
}

/// `GET /api/v1/groups/{gid}/members`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberList {
    pub members: Vec<Member>,
}

/// Who may see a notice: everyone, or a whitelist of user ids (pre-release).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    All,
    Users(Vec<String>),
}

impl Serialize for Audience {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::All => s.serialize_str("all"),
            Self::Users(ids) => ids.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Audience {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Word(String),
            Ids(Vec<String>),
        }
        match Raw::deserialize(d)? {
            Raw::Word(w) if w == "all" => Ok(Self::All),
            Raw::Word(w) => Err(serde::de::Error::custom(format!(
                "audience must be \"all\" or a list of user ids, not {w:?}"
            ))),
            Raw::Ids(ids) => Ok(Self::Users(ids)),
        }
    }
}

/// A notice (broadcast) from the public mailbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub published_at: i64,
    #[serde(default)]
    pub recalled: bool,
    /// Hongyan addition, only in admin answers: who may see it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<Audience>,
}

/// `GET /api/v1/broadcasts?after=<cursor>`: what changed for me after `cursor`, and the new
/// cursor to pass next time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticesPage {
    pub notices: Vec<Notice>,
    pub cursor: i64,
}

/// `POST /api/v1/admin/broadcasts` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateNotice {
    pub title: String,
    pub body: String,
    pub audience: Audience,
}

/// One live long-connection session (admin view).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub user_id: String,
    pub username: String,
    /// `"ws"` or `"tcp"`.
    pub transport: String,
    /// The peer's socket address.
    pub peer: String,
    pub platform: String,
    pub app_version: String,
    pub core_level: u32,
    pub since: i64,
}

/// `GET /api/v1/admin/sessions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionList {
    pub sessions: Vec<Session>,
}

/// What happened in a friend event (typeu 60).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FriendEventKind {
    Request,
    Accepted,
    Declined,
    Removed,
}

/// `dataContent` of typeu 60. `user` is the other party.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FriendEvent {
    pub event: FriendEventKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<FriendRequest>,
    pub user: User,
}

/// What happened in a group event (typeu 61).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupEventKind {
    Created,
    Renamed,
    MembersAdded,
    MemberRemoved,
    MemberLeft,
}

/// `dataContent` of typeu 61: `by` did `event` to `members` in `group` (its state after).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupEvent {
    pub event: GroupEventKind,
    pub group: Group,
    pub by: String,
    #[serde(default)]
    pub members: Vec<String>,
}

/// `dataContent` of typeu 80 (notice notify) and 81 (notice recall).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeRef {
    pub id: i64,
}

/// Delivered or read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptKind {
    Delivered,
    Read,
}

/// `dataContent` of typeu 90: `by` has received / read the messages `ids` (≤ 100).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub kind: ReceiptKind,
    pub ids: Vec<String>,
    pub by: String,
}

/// `dataContent` of typeu 91: `user` came online or went offline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    pub user: String,
    pub online: bool,
}

/// `dataContent` of typeu 92.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Typing {
    pub typing: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn user(id: &str) -> User {
        User {
            user_id: id.into(),
            username: format!("u{id}"),
            nickname: format!("U{id}"),
        }
    }

    #[test]
    fn friend_flattens_the_user() {
        let f = Friend {
            user: user("7"),
            since: 5,
            online: true,
        };
        let v = serde_json::to_value(&f).expect("json");
        assert_eq!(
            v,
            json!({"user_id":"7","username":"u7","nickname":"U7","since":5,"online":true})
        );
        assert_eq!(serde_json::from_value::<Friend>(v).expect("back"), f);
    }

    #[test]
    fn friend_request_and_event_use_snake_case() {
        let req = FriendRequest {
            id: 3,
            from: user("1"),
            to: user("2"),
            message: "hi".into(),
            status: FriendRequestStatus::Pending,
            created_at: 9,
        };
        let ev = FriendEvent {
            event: FriendEventKind::Request,
            request: Some(req),
            user: user("1"),
        };
        let v = serde_json::to_value(&ev).expect("json");
        assert_eq!(v["event"], "request");
        assert_eq!(v["request"]["status"], "pending");
        assert_eq!(v["request"]["from"]["user_id"], "1");
        let removed: FriendEvent = serde_json::from_value(
            json!({"event":"removed","user":{"user_id":"2","username":"b","nickname":"B"}}),
        )
        .expect("no request is fine");
        assert_eq!(removed.request, None);
        assert!(serde_json::to_value(&removed)
            .expect("json")
            .get("request")
            .is_none());
    }

    #[test]
    fn group_event_and_member_shapes() {
        let ev = GroupEvent {
            event: GroupEventKind::MembersAdded,
            group: Group {
                group_id: "g3".into(),
                name: "team".into(),
                owner: "1".into(),
                member_count: 2,
                created_at: 1,
            },
            by: "1".into(),
            members: vec!["2".into()],
        };
        let v = serde_json::to_value(&ev).expect("json");
        assert_eq!(v["event"], "members_added");
        assert_eq!(v["group"]["group_id"], "g3");
        let m: Member = serde_json::from_value(json!({
            "user_id":"2","username":"b","nickname":"B","role":"owner","joined_at":4
        }))
        .expect("member");
        assert_eq!(m.role, Role::Owner);
    }

    #[test]
    fn audience_is_all_or_a_list() {
        assert_eq!(serde_json::to_value(Audience::All).expect("json"), "all");
        let list: Audience = serde_json::from_value(json!(["1", "2"])).expect("list");
        assert_eq!(list, Audience::Users(vec!["1".into(), "2".into()]));
        assert!(serde_json::from_value::<Audience>(json!("some")).is_err());
        let body: CreateNotice =
            serde_json::from_str(r#"{"title":"t","body":"b","audience":"all"}"#).expect("body");
        assert_eq!(body.audience, Audience::All);
    }

    #[test]
    fn notice_hides_audience_unless_set() {
        let n = Notice {
            id: 1,
            title: "t".into(),
            body: "b".into(),
            published_at: 2,
            recalled: false,
            audience: None,
        };
        let v = serde_json::to_value(&n).expect("json");
        assert_eq!(
            v,
            json!({"id":1,"title":"t","body":"b","published_at":2,"recalled":false})
        );
    }

    #[test]
    fn small_payloads_match_the_contract() {
        let r = Receipt {
            kind: ReceiptKind::Read,
            ids: vec!["a".into()],
            by: "2".into(),
        };
        assert_eq!(
            serde_json::to_value(&r).expect("json"),
            json!({"kind":"read","ids":["a"],"by":"2"})
        );
        let p: Value = serde_json::to_value(Presence {
            user: "5".into(),
            online: false,
        })
        .expect("json");
        assert_eq!(p, json!({"user":"5","online":false}));
        assert_eq!(
            serde_json::to_string(&Typing { typing: true }).expect("json"),
            r#"{"typing":true}"#
        );
        assert_eq!(
            serde_json::to_string(&NoticeRef { id: 4 }).expect("json"),
            r#"{"id":4}"#
        );
    }

    #[test]
    fn group_ids_round_trip() {
        assert_eq!(group_wire_id(12), "g12");
        assert_eq!(parse_group_id("g12"), Some(12));
        assert_eq!(parse_group_id("12"), None);
        assert_eq!(parse_group_id("g"), None);
        assert_eq!(parse_group_id("g99999999999999999999999"), None);
    }
}
