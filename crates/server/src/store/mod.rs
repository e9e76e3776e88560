//! Durable state: accounts, tokens, mailboxes.
//!
//! The server talks to storage only through [`Store`], a cheap-to-clone handle on a
//! [`Storage`] backend (the trait in [`backend`]). The default backend is [`SqliteStore`]:
//! writes go to one dedicated thread that owns the
//! write connection and commits whatever is queued (up to [`sqlite::MAX_BATCH`] commands) in
//! one transaction — group commit — before answering any of them. So an answer means
//! "committed", which is what lets the gateway ACK only durable messages. Reads run on
//! read-only connections inside `spawn_blocking`; nothing here blocks the async runtime.

pub mod backend;
pub mod fanout;
pub mod friends;
pub mod groups;
pub mod media;
pub mod notices;
pub mod postgres;
pub mod schema;
pub mod sqlite;

use std::{ops::Deref, path::Path, sync::Arc};

use hongyan_protocol::{api::FriendRequest, Envelope};

pub use backend::Storage;
pub use sqlite::SqliteStore;

/// The server's handle on its storage backend: cheap to clone, and derefs to
/// [`Storage`], so `store.store_chat(…)` calls the backend's method.
#[derive(Debug, Clone)]
pub struct Store(Arc<dyn Storage>);

impl Store {
    /// Wraps a backend.
    pub fn new(backend: impl Storage) -> Self {
        Self(Arc::new(backend))
    }

    /// Opens (creating it if needed) the default embedded backend, [`SqliteStore`], in
    /// `data_dir`. Blocking: run it inside `spawn_blocking` on the runtime.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        SqliteStore::open(data_dir).map(Self::new)
    }
}

impl Deref for Store {
    type Target = dyn Storage;

    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The PostgreSQL backend's own error (beside `Sqlite`: docs/DEPLOY.md).
    #[error("PostgreSQL error: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    /// The PostgreSQL backend could not be set up or reached (pool, schema version).
    #[error("PostgreSQL: {0}")]
    PostgresSetup(String),
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

/// Result of [`Storage::store_chat`].
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

/// A message to a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGroupChat {
    pub from: i64,
    pub group_id: i64,
    pub fp: String,
    pub typeu: i32,
    pub content: String,
}

/// What storing a group message did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupChatOutcome {
    /// `seq` is the sender's own copy's.
    pub outcome: ChatOutcome,
    /// (member, seq) of every copy written, the sender's included; empty for a duplicate.
    pub copies: Vec<(i64, i64)>,
}

/// What sending a friend request did.
#[derive(Debug, Clone)]
pub struct RequestSent {
    pub request: FriendRequest,
    /// `false` when the other side had already asked: the request was accepted at once.
    pub created: bool,
    pub deliveries: Vec<Delivery>,
}

/// One stored file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaRecord {
    pub sha256: String,
    pub mime: String,
    pub size: u64,
    pub uploader: i64,
    pub created_at: i64,
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
