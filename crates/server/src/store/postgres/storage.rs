//! `impl Storage for PostgresStore`: each method is the backend's own inherent method (the
//! files beside this one), with the SQLite backend's semantics.

use async_trait::async_trait;
use hongyan_protocol::api::{FriendRequest, FriendRequests, Group, Member, Notice, User};

use super::PostgresStore;
use crate::store::{
    ChatOutcome, Delivery, GroupChatOutcome, MailboxRow, MediaRecord, NewChat, NewGroupChat,
    RequestSent, Storage, StoreError, TokenInfo, UserRecord,
};

/// The many-node backend: each method is [`PostgresStore`]'s own.
#[async_trait]
impl Storage for PostgresStore {
    async fn close(&self) {
        PostgresStore::close(self).await
    }

    async fn create_user(
        &self,
        username: String,
        nickname: String,
        password_hash: String,
    ) -> Result<i64, StoreError> {
        PostgresStore::create_user(self, username, nickname, password_hash).await
    }

    async fn set_disabled(&self, user_id: i64, disabled: bool) -> Result<bool, StoreError> {
        PostgresStore::set_disabled(self, user_id, disabled).await
    }

    async fn set_admin(&self, user_id: i64, admin: bool) -> Result<bool, StoreError> {
        PostgresStore::set_admin(self, user_id, admin).await
    }

    async fn user_by_username(&self, username: String) -> Result<Option<UserRecord>, StoreError> {
        PostgresStore::user_by_username(self, username).await
    }

    async fn user_by_id(&self, user_id: i64) -> Result<Option<UserRecord>, StoreError> {
        PostgresStore::user_by_id(self, user_id).await
    }

    async fn user_exists(&self, user_id: i64) -> Result<bool, StoreError> {
        PostgresStore::user_exists(self, user_id).await
    }

    async fn search_users(
        &self,
        prefix: String,
        limit: u32,
    ) -> Result<Vec<UserRecord>, StoreError> {
        PostgresStore::search_users(self, prefix, limit).await
    }

    async fn insert_token(
        &self,
        hash: String,
        user_id: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        PostgresStore::insert_token(self, hash, user_id, expires_at).await
    }

    async fn delete_token(&self, hash: String) -> Result<bool, StoreError> {
        PostgresStore::delete_token(self, hash).await
    }

    async fn token_user(&self, hash: String, now_ms: i64) -> Result<Option<TokenInfo>, StoreError> {
        PostgresStore::token_user(self, hash, now_ms).await
    }

    async fn store_chat(&self, msg: NewChat) -> Result<ChatOutcome, StoreError> {
        PostgresStore::store_chat(self, msg).await
    }

    async fn last_seq(&self, user_id: i64) -> Result<i64, StoreError> {
        PostgresStore::last_seq(self, user_id).await
    }

    async fn mailbox_after(
        &self,
        user_id: i64,
        after: i64,
        limit: u32,
    ) -> Result<Vec<MailboxRow>, StoreError> {
        PostgresStore::mailbox_after(self, user_id, after, limit).await
    }

    async fn send_friend_request(
        &self,
        from: i64,
        to: i64,
        message: String,
    ) -> Result<RequestSent, StoreError> {
        PostgresStore::send_friend_request(self, from, to, message).await
    }

    async fn answer_friend_request(
        &self,
        me: i64,
        id: i64,
        accept_it: bool,
    ) -> Result<(FriendRequest, Vec<Delivery>), StoreError> {
        PostgresStore::answer_friend_request(self, me, id, accept_it).await
    }

    async fn friend_requests(&self, me: i64) -> Result<FriendRequests, StoreError> {
        PostgresStore::friend_requests(self, me).await
    }

    async fn friends(&self, me: i64) -> Result<Vec<(User, i64)>, StoreError> {
        PostgresStore::friends(self, me).await
    }

    async fn friend_ids(&self, me: i64) -> Result<Vec<i64>, StoreError> {
        PostgresStore::friend_ids(self, me).await
    }

    async fn is_friend(&self, a: i64, b: i64) -> Result<bool, StoreError> {
        PostgresStore::is_friend(self, a, b).await
    }

    async fn remove_friend(&self, me: i64, other: i64) -> Result<Vec<Delivery>, StoreError> {
        PostgresStore::remove_friend(self, me, other).await
    }

    async fn make_friends(&self, a: i64, b: i64) -> Result<(), StoreError> {
        PostgresStore::make_friends(self, a, b).await
    }

    async fn create_group(
        &self,
        owner: i64,
        name: String,
        members: Vec<i64>,
        friends_only: bool,
    ) -> Result<(Group, Vec<Delivery>), StoreError> {
        PostgresStore::create_group(self, owner, name, members, friends_only).await
    }

    async fn groups_of(&self, me: i64) -> Result<Vec<Group>, StoreError> {
        PostgresStore::groups_of(self, me).await
    }

    async fn group(&self, me: i64, gid: i64) -> Result<Group, StoreError> {
        PostgresStore::group(self, me, gid).await
    }

    async fn is_group_member(&self, gid: i64, user: i64) -> Result<bool, StoreError> {
        PostgresStore::is_group_member(self, gid, user).await
    }

    async fn rename_group(
        &self,
        me: i64,
        gid: i64,
        name: String,
    ) -> Result<(Group, Vec<Delivery>), StoreError> {
        PostgresStore::rename_group(self, me, gid, name).await
    }

    async fn group_members(&self, me: i64, gid: i64) -> Result<Vec<Member>, StoreError> {
        PostgresStore::group_members(self, me, gid).await
    }

    async fn add_group_members(
        &self,
        me: i64,
        gid: i64,
        ids: Vec<i64>,
        friends_only: bool,
    ) -> Result<(Group, Vec<Delivery>), StoreError> {
        PostgresStore::add_group_members(self, me, gid, ids, friends_only).await
    }

    async fn remove_group_member(
        &self,
        me: i64,
        gid: i64,
        target: i64,
    ) -> Result<Vec<Delivery>, StoreError> {
        PostgresStore::remove_group_member(self, me, gid, target).await
    }

    async fn store_group_chat(&self, msg: NewGroupChat) -> Result<GroupChatOutcome, StoreError> {
        PostgresStore::store_group_chat(self, msg).await
    }

    async fn create_notice(
        &self,
        title: String,
        body: String,
        audience: Vec<i64>,
        all: bool,
    ) -> Result<Notice, StoreError> {
        PostgresStore::create_notice(self, title, body, audience, all).await
    }

    async fn publish_notice(&self, id: i64) -> Result<Notice, StoreError> {
        PostgresStore::publish_notice(self, id).await
    }

    async fn recall_notice(&self, id: i64) -> Result<Notice, StoreError> {
        PostgresStore::recall_notice(self, id).await
    }

    async fn all_notices(&self) -> Result<Vec<Notice>, StoreError> {
        PostgresStore::all_notices(self).await
    }

    async fn notices_after(
        &self,
        user: i64,
        cursor: i64,
    ) -> Result<(Vec<Notice>, i64), StoreError> {
        PostgresStore::notices_after(self, user, cursor).await
    }

    async fn insert_media(
        &self,
        sha256: String,
        mime: String,
        size: u64,
        uploader: i64,
    ) -> Result<(), StoreError> {
        PostgresStore::insert_media(self, sha256, mime, size, uploader).await
    }

    async fn media(&self, sha256: String) -> Result<Option<MediaRecord>, StoreError> {
        PostgresStore::media(self, sha256).await
    }
}
