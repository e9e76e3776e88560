//! Durable state: accounts, tokens, mailboxes.
//!
//! [`Store`] is a cheap-to-clone handle. Writes go to one dedicated thread that owns the
//! write connection and commits whatever is queued (up to [`sqlite::MAX_BATCH`] commands) in
//! one transaction — group commit — before answering any of them. So an answer means
//! "committed", which is what lets the gateway ACK only durable messages. Reads run on
//! read-only connections inside `spawn_blocking`; nothing here blocks the async runtime.

pub mod fanout;
pub mod friends;
pub mod groups;
pub mod media;
pub mod notices;
pub mod schema;
pub mod sqlite;

use hongyan_protocol::Envelope;

pub use sqlite::Store;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("cannot create the data directory: {0}")]
    Io(#[from] std::io::Error),
    #[error("commit failed: {0}")]
    Commit(String),
    #[error("the store is shut down")]
    Closed,
    #[error("username is taken")]
    UsernameTaken,
    #[error("no such user")]
    NoSuchUser,
    /// Not friends with the recipient / not a member of the group (chat code 1101).
    #[error("not allowed: not friends or not a member")]
    NotAllowed,
    /// The thing does not exist or is not visible to the caller.
    #[error("not found")]
    NotFound,
    #[error("already friends")]
    AlreadyFriends,
    #[error("the request is no longer pending")]
    NotPending,
    /// Inviting needs friendship with the invitee (friends_only).
    #[error("user {0} is not your friend")]
    NotFriends(i64),
    #[error("a group has at most {max} members", max = hongyan_protocol::api::MAX_GROUP_MEMBERS)]
    TooManyMembers,
    /// The caller may not do this (e.g. a member removing someone else).
    #[error("{0}")]
    Forbidden(&'static str),
}

/// A frame the store produced for a user's mailbox, to push if that user is online.
pub type Delivery = (i64, Envelope);

/// One account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: i64,
    pub username: String,
    pub nickname: String,
    pub password_hash: String,
    pub disabled: bool,
    pub created_at: i64,
}

/// What a token hash resolves to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenInfo {
    pub user_id: i64,
    pub expires_at: i64,
    pub disabled: bool,
    pub is_admin: bool,
}

/// A chat message to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewChat {
    pub from: i64,
    pub to: i64,
    pub fp: String,
    pub typeu: i32,
    pub content: String,
    /// Refuse ([`StoreError::NotAllowed`]) unless sender and recipient are friends
    /// (a note to self is always allowed).
    pub friends_only: bool,
}

/// Result of [`Store::store_chat`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatOutcome {
    /// Newly stored at `seq` in the recipient's mailbox, accepted at `sm`.
    Stored { seq: i64, sm: i64 },
    /// `(from, fp)` was stored before: nothing was written; these are the original values.
    Duplicate { seq: i64, sm: i64 },
}

impl ChatOutcome {
    pub fn seq(self) -> i64 {
        match self {
            Self::Stored { seq, .. } | Self::Duplicate { seq, .. } => seq,
        }
    }

    pub fn sm(self) -> i64 {
        match self {
            Self::Stored { sm, .. } | Self::Duplicate { sm, .. } => sm,
        }
    }
}

/// One row of a user's mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxRow {
    pub seq: i64,
    pub fp: String,
    pub from: i64,
    pub to: String,
    pub typeu: i32,
    pub content: String,
    pub sm: i64,
}

impl MailboxRow {
    /// The envelope this row is delivered as (type 2, QoS, with `sm` and `seq`).
    pub fn to_envelope(&self) -> Envelope {
        let mut env = Envelope::chat(
            self.from.to_string(),
            self.to.clone(),
            self.fp.clone(),
            self.typeu,
            self.content.clone(),
        );
        env.sm = self.sm;
        env.seq = Some(self.seq);
        env
    }
}
