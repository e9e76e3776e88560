//! The storage backend trait: everything the server asks of durable state.
//!
//! The rest of the server holds a [`Store`](super::Store) (an `Arc<dyn Storage>`) and never
//! names a backend. [`SqliteStore`] (embedded, the default) implements it; a backend for
//! many nodes (PostgreSQL, issue 8) implements the same methods with the same meaning, so
//! the same tests hold for both. Signatures carry only backend-neutral types: the record
//! types in [`super`], the protocol's API types and [`StoreError`].

use async_trait::async_trait;
use hongyan_protocol::api::{FriendRequest, FriendRequests, Group, Member, Notice, User};

use super::{
    ChatOutcome, Delivery, GroupChatOutcome, MailboxRow, MediaRecord, NewChat, NewGroupChat,
    RequestSent, SqliteStore, StoreError, TokenInfo, UserRecord,
};

/// Durable state for the server. Every write method returns only once its change is
/// committed (so an ACK after it means "durable"); the [`Delivery`]s a write returns are
/// the mailbox frames it stored, for the caller to push to whoever is online.
#[async_trait]
pub trait Storage: std::fmt::Debug + Send + Sync + 'static {
    // Accounts, tokens and 1:1 mailboxes.
    /// Commits everything queued so far and shuts the backend down, waiting for it. Later
    /// writes fail with [`StoreError::Closed`].
    async fn close(&self);
    /// Creates an account; ids start at [`super::schema::FIRST_USER_ID`].
    async fn create_user(
        &self,
        username: String,
        nickname: String,
        password_hash: String,
    ) -> Result<i64, StoreError>;
    /// Enables or disables an account. `false` if there is no such user.
    async fn set_disabled(&self, user_id: i64, disabled: bool) -> Result<bool, StoreError>;
    /// Grants or revokes administrator rights. `false` if there is no such user.
    async fn set_admin(&self, user_id: i64, admin: bool) -> Result<bool, StoreError>;
    async fn user_by_username(&self, username: String) -> Result<Option<UserRecord>, StoreError>;
    async fn user_by_id(&self, user_id: i64) -> Result<Option<UserRecord>, StoreError>;
    /// Whether `user_id` names an account.
    async fn user_exists(&self, user_id: i64) -> Result<bool, StoreError>;
    /// Accounts whose username starts with `prefix` (case-insensitive), by username.
    async fn search_users(&self, prefix: String, limit: u32)
        -> Result<Vec<UserRecord>, StoreError>;
    /// Stores a token by its hash.
    async fn insert_token(
        &self,
        hash: String,
        user_id: i64,
        expires_at: i64,
    ) -> Result<(), StoreError>;
    /// Revokes a token. `false` if it was not there.
    async fn delete_token(&self, hash: String) -> Result<bool, StoreError>;
    /// The owner of a token that has not expired at `now_ms`.
    async fn token_user(&self, hash: String, now_ms: i64) -> Result<Option<TokenInfo>, StoreError>;
    /// Stores a chat message: deduplicates on `(from, fp)`, allocates the recipient's next
    /// seq, writes the recipient's copy and (unless it is a note to self) the sender's copy.
    /// All in one transaction; the answer arrives after commit.
    async fn store_chat(&self, msg: NewChat) -> Result<ChatOutcome, StoreError>;
    /// The newest seq in `user_id`'s mailbox (0 when empty).
    async fn last_seq(&self, user_id: i64) -> Result<i64, StoreError>;
    /// Up to `limit` mailbox rows of `user_id` with seq > `after`, in seq order.
    async fn mailbox_after(
        &self,
        user_id: i64,
        after: i64,
        limit: u32,
    ) -> Result<Vec<MailboxRow>, StoreError>;

    // Friends.
    /// Sends (or, when the other side asked first, accepts) a friend request.
    async fn send_friend_request(
        &self,
        from: i64,
        to: i64,
        message: String,
    ) -> Result<RequestSent, StoreError>;
    /// Accepts (`true`) or declines request `id`, which must be addressed to `me`.
    async fn answer_friend_request(
        &self,
        me: i64,
        id: i64,
        accept_it: bool,
    ) -> Result<(FriendRequest, Vec<Delivery>), StoreError>;
    /// The pending requests to and from `me`.
    async fn friend_requests(&self, me: i64) -> Result<FriendRequests, StoreError>;
    /// `me`'s friends with the time each friendship began, by username.
    async fn friends(&self, me: i64) -> Result<Vec<(User, i64)>, StoreError>;
    /// The ids of `me`'s friends.
    async fn friend_ids(&self, me: i64) -> Result<Vec<i64>, StoreError>;
    /// Whether `a` and `b` are friends.
    async fn is_friend(&self, a: i64, b: i64) -> Result<bool, StoreError>;
    /// Ends the friendship of `me` and `other` on both sides; both get a `removed` event.
    async fn remove_friend(&self, me: i64, other: i64) -> Result<Vec<Delivery>, StoreError>;
    /// Makes `a` and `b` friends directly, without requests or events (seeding for load
    /// tests and operators).
    async fn make_friends(&self, a: i64, b: i64) -> Result<(), StoreError>;

    // Groups.
    /// Creates a group owned by `owner` with `members` (≤ 500 in all, owner included).
    async fn create_group(
        &self,
        owner: i64,
        name: String,
        members: Vec<i64>,
        friends_only: bool,
    ) -> Result<(Group, Vec<Delivery>), StoreError>;
    /// The groups `me` belongs to, newest first.
    async fn groups_of(&self, me: i64) -> Result<Vec<Group>, StoreError>;
    /// Group `gid` if `me` is a member.
    async fn group(&self, me: i64, gid: i64) -> Result<Group, StoreError>;
    /// Whether `user` is a member of `gid`.
    async fn is_group_member(&self, gid: i64, user: i64) -> Result<bool, StoreError>;
    /// Renames `gid` (any member).
    async fn rename_group(
        &self,
        me: i64,
        gid: i64,
        name: String,
    ) -> Result<(Group, Vec<Delivery>), StoreError>;
    /// The members of `gid` (visible to members only), longest-standing first.
    async fn group_members(&self, me: i64, gid: i64) -> Result<Vec<Member>, StoreError>;
    /// `me` (a member) invites `ids`; those already in are skipped.
    async fn add_group_members(
        &self,
        me: i64,
        gid: i64,
        ids: Vec<i64>,
        friends_only: bool,
    ) -> Result<(Group, Vec<Delivery>), StoreError>;
    /// `me` removes `target` (owner) or leaves (`target == me`). An owner who leaves hands
    /// the group to the longest-standing member; the last one out deletes it.
    async fn remove_group_member(
        &self,
        me: i64,
        gid: i64,
        target: i64,
    ) -> Result<Vec<Delivery>, StoreError>;

    // Group messages.
    /// Stores a group message in every member's mailbox (see [`store_group_chat_sync`]).
    async fn store_group_chat(&self, msg: NewGroupChat) -> Result<GroupChatOutcome, StoreError>;

    // Notices.
    /// Creates a notice for `audience` (user ids must exist). Returns it with its audience.
    async fn create_notice(
        &self,
        title: String,
        body: String,
        audience: Vec<i64>,
        all: bool,
    ) -> Result<Notice, StoreError>;
    /// Makes notice `id` visible to everyone (a new change: every cursor sees it again).
    async fn publish_notice(&self, id: i64) -> Result<Notice, StoreError>;
    /// Recalls notice `id` everywhere. Returns its audience before the recall.
    async fn recall_notice(&self, id: i64) -> Result<Notice, StoreError>;
    /// Every notice with its audience, newest first (admin).
    async fn all_notices(&self) -> Result<Vec<Notice>, StoreError>;
    /// The notices visible to `user` that changed after `cursor`, oldest change first, and
    /// the cursor to pass next time. The cursor is read first and the rows are bounded by
    /// it, so a change committed in between is returned next time, never skipped.
    async fn notices_after(&self, user: i64, cursor: i64)
        -> Result<(Vec<Notice>, i64), StoreError>;

    // Media.
    /// Records a stored file. The first upload's row stays (the bytes are the same).
    async fn insert_media(
        &self,
        sha256: String,
        mime: String,
        size: u64,
        uploader: i64,
    ) -> Result<(), StoreError>;
    /// The record of `sha256`, if stored.
    async fn media(&self, sha256: String) -> Result<Option<MediaRecord>, StoreError>;
}

/// The embedded backend: each method is [`SqliteStore`]'s own.
#[async_trait]
impl Storage for SqliteStore {
    async fn close(&self) {
        SqliteStore::close(self).await
    }

    async fn create_user(
        &self,
        username: String,
        nickname: String,
        password_hash: String,
    ) -> Result<i64, StoreError> {
        SqliteStore::create_user(self, username, nickname, password_hash).await
    }

    async fn set_disabled(&self, user_id: i64, disabled: bool) -> Result<bool, StoreError> {
        SqliteStore::set_disabled(self, user_id, disabled).await
    }

    async fn set_admin(&self, user_id: i64, admin: bool) -> Result<bool, StoreError> {
        SqliteStore::set_admin(self, user_id, admin).await
    }

    async fn user_by_username(&self, username: String) -> Result<Option<UserRecord>, StoreError> {
        SqliteStore::user_by_username(self, username).await
    }

    async fn user_by_id(&self, user_id: i64) -> Result<Option<UserRecord>, StoreError> {
        SqliteStore::user_by_id(self, user_id).await
    }

    async fn user_exists(&self, user_id: i64) -> Result<bool, StoreError> {
        SqliteStore::user_exists(self, user_id).await
    }

    async fn search_users(
        &self,
        prefix: String,
        limit: u32,
    ) -> Result<Vec<UserRecord>, StoreError> {
        SqliteStore::search_users(self, prefix, limit).await
    }

    async fn insert_token(
        &self,
        hash: String,
        user_id: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        SqliteStore::insert_token(self, hash, user_id, expires_at).await
    }

    async fn delete_token(&self, hash: String) -> Result<bool, StoreError> {
        SqliteStore::delete_token(self, hash).await
    }

    async fn token_user(&self, hash: String, now_ms: i64) -> Result<Option<TokenInfo>, StoreError> {
        SqliteStore::token_user(self, hash, now_ms).await
    }

    async fn store_chat(&self, msg: NewChat) -> Result<ChatOutcome, StoreError> {
        SqliteStore::store_chat(self, msg).await
    }

    async fn last_seq(&self, user_id: i64) -> Result<i64, StoreError> {
        SqliteStore::last_seq(self, user_id).await
    }

    async fn mailbox_after(
        &self,
        user_id: i64,
        after: i64,
        limit: u32,
    ) -> Result<Vec<MailboxRow>, StoreError> {
        SqliteStore::mailbox_after(self, user_id, after, limit).await
    }

    async fn send_friend_request(
        &self,
        from: i64,
        to: i64,
        message: String,
    ) -> Result<RequestSent, StoreError> {
        SqliteStore::send_friend_request(self, from, to, message).await
    }

    async fn answer_friend_request(
        &self,
        me: i64,
        id: i64,
        accept_it: bool,
    ) -> Result<(FriendRequest, Vec<Delivery>), StoreError> {
        SqliteStore::answer_friend_request(self, me, id, accept_it).await
    }

    async fn friend_requests(&self, me: i64) -> Result<FriendRequests, StoreError> {
        SqliteStore::friend_requests(self, me).await
    }

    async fn friends(&self, me: i64) -> Result<Vec<(User, i64)>, StoreError> {
        SqliteStore::friends(self, me).await
    }

    async fn friend_ids(&self, me: i64) -> Result<Vec<i64>, StoreError> {
        SqliteStore::friend_ids(self, me).await
    }

    async fn is_friend(&self, a: i64, b: i64) -> Result<bool, StoreError> {
        SqliteStore::is_friend(self, a, b).await
    }

    async fn remove_friend(&self, me: i64, other: i64) -> Result<Vec<Delivery>, StoreError> {
        SqliteStore::remove_friend(self, me, other).await
    }

    async fn make_friends(&self, a: i64, b: i64) -> Result<(), StoreError> {
        SqliteStore::make_friends(self, a, b).await
    }

    async fn create_group(
        &self,
        owner: i64,
        name: String,
        members: Vec<i64>,
        friends_only: bool,
    ) -> Result<(Group, Vec<Delivery>), StoreError> {
        SqliteStore::create_group(self, owner, name, members, friends_only).await
    }

    async fn groups_of(&self, me: i64) -> Result<Vec<Group>, StoreError> {
        SqliteStore::groups_of(self, me).await
    }

    async fn group(&self, me: i64, gid: i64) -> Result<Group, StoreError> {
        SqliteStore::group(self, me, gid).await
    }

    async fn is_group_member(&self, gid: i64, user: i64) -> Result<bool, StoreError> {
        SqliteStore::is_group_member(self, gid, user).await
    }

    async fn rename_group(
        &self,
        me: i64,
        gid: i64,
        name: String,
    ) -> Result<(Group, Vec<Delivery>), StoreError> {
        SqliteStore::rename_group(self, me, gid, name).await
    }

    async fn group_members(&self, me: i64, gid: i64) -> Result<Vec<Member>, StoreError> {
        SqliteStore::group_members(self, me, gid).await
    }

    async fn add_group_members(
        &self,
        me: i64,
        gid: i64,
        ids: Vec<i64>,
        friends_only: bool,
    ) -> Result<(Group, Vec<Delivery>), StoreError> {
        SqliteStore::add_group_members(self, me, gid, ids, friends_only).await
    }

    async fn remove_group_member(
        &self,
        me: i64,
        gid: i64,
        target: i64,
    ) -> Result<Vec<Delivery>, StoreError> {
        SqliteStore::remove_group_member(self, me, gid, target).await
    }

    async fn store_group_chat(&self, msg: NewGroupChat) -> Result<GroupChatOutcome, StoreError> {
        SqliteStore::store_group_chat(self, msg).await
    }

    async fn create_notice(
        &self,
        title: String,
        body: String,
        audience: Vec<i64>,
        all: bool,
    ) -> Result<Notice, StoreError> {
        SqliteStore::create_notice(self, title, body, audience, all).await
    }

    async fn publish_notice(&self, id: i64) -> Result<Notice, StoreError> {
        SqliteStore::publish_notice(self, id).await
    }

    async fn recall_notice(&self, id: i64) -> Result<Notice, StoreError> {
        SqliteStore::recall_notice(self, id).await
    }

    async fn all_notices(&self) -> Result<Vec<Notice>, StoreError> {
        SqliteStore::all_notices(self).await
    }

    async fn notices_after(
        &self,
        user: i64,
        cursor: i64,
    ) -> Result<(Vec<Notice>, i64), StoreError> {
        SqliteStore::notices_after(self, user, cursor).await
    }

    async fn insert_media(
        &self,
        sha256: String,
        mime: String,
        size: u64,
        uploader: i64,
    ) -> Result<(), StoreError> {
        SqliteStore::insert_media(self, sha256, mime, size, uploader).await
    }

    async fn media(&self, sha256: String) -> Result<Option<MediaRecord>, StoreError> {
        SqliteStore::media(self, sha256).await
    }
}

#[cfg(test)]
mod tests {
    use crate::store::{ChatOutcome, NewChat, Store, StoreError};

    /// The server only ever holds a `Store`: every call, `close` included, must reach the
    /// backend behind it (a clone shares the same backend).
    #[tokio::test]
    async fn the_store_handle_dispatches_to_its_backend_and_clones_share_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        let other = store.clone();
        let a = store
            .create_user("alice".into(), "a".into(), "h".into())
            .await
            .expect("alice");
        let b = other
            .create_user("bob".into(), "b".into(), "h".into())
            .await
            .expect("bob");
        store.make_friends(a, b).await.expect("friends");
        assert!(other.is_friend(b, a).await.expect("is_friend"));
        let outcome = store
            .store_chat(NewChat {
                from: a,
                to: b,
                fp: "fp-1".into(),
                typeu: 0,
                content: "hi".into(),
                friends_only: true,
            })
            .await
            .expect("stored");
        assert!(matches!(outcome, ChatOutcome::Stored { .. }));
        let rows = other.mailbox_after(b, 0, 10).await.expect("mailbox");
        let chat = rows.iter().find(|r| r.fp == "fp-1").expect("the chat row");
        assert_eq!((chat.seq, chat.content.as_str()), (outcome.seq(), "hi"));
        assert_eq!(other.last_seq(b).await.expect("last_seq"), outcome.seq());

        other.close().await;
        let after_close = store
            .create_user("carol".into(), "c".into(), "h".into())
            .await;
        assert!(
            matches!(after_close, Err(StoreError::Closed)),
            "{after_close:?}"
        );
    }
}
