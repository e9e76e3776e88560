//! Accounts and login tokens.

use hongyan_protocol::now_ms;
use tokio_postgres::{error::SqlState, Row};

use super::PostgresStore;
use crate::store::{sqlite::escape_like, StoreError, TokenInfo, UserRecord};

/// The unique index that makes usernames unique ignoring case.
const USERNAME_KEY: &str = "users_username_key";

const USER_SELECT: &str =
    "SELECT id, username, nickname, password_hash, disabled, created_at FROM users";

impl PostgresStore {
    /// Creates an account; ids start at [`crate::store::schema::FIRST_USER_ID`].
    pub async fn create_user(
        &self,
        username: String,
        nickname: String,
        password_hash: String,
    ) -> Result<i64, StoreError> {
        let client = self.client().await?;
        // Check first so a taken name does not use up an id of the identity.
        let taken = client
            .query_opt(
                &client
                    .prepare_cached("SELECT 1 FROM users WHERE lower(username) = lower($1)")
                    .await?,
                &[&username],
            )
            .await?
            .is_some();
        if taken {
            return Err(StoreError::UsernameTaken);
        }
        let inserted = client
            .query_one(
                &client
                    .prepare_cached(
                        "INSERT INTO users (username, nickname, password_hash, created_at)
                 VALUES ($1, $2, $3, $4) RETURNING id",
                    )
                    .await?,
                &[&username, &nickname, &password_hash, &now_ms()],
            )
            .await;
        match inserted {
            Ok(row) => Ok(row.get(0)),
            // Another node took the name between the check and the insert.
            Err(e) if is_unique_violation(&e, USERNAME_KEY) => Err(StoreError::UsernameTaken),
            Err(e) => Err(e.into()),
        }
    }

    /// Enables or disables an account. `false` if there is no such user.
    pub async fn set_disabled(&self, user_id: i64, disabled: bool) -> Result<bool, StoreError> {
        let client = self.client().await?;
        Ok(client
            .execute(
                &client
                    .prepare_cached("UPDATE users SET disabled = $2 WHERE id = $1")
                    .await?,
                &[&user_id, &disabled],
            )
            .await?
            > 0)
    }

    /// Grants or revokes administrator rights. `false` if there is no such user.
    pub async fn set_admin(&self, user_id: i64, admin: bool) -> Result<bool, StoreError> {
        let client = self.client().await?;
        Ok(client
            .execute(
                &client
                    .prepare_cached("UPDATE users SET is_admin = $2 WHERE id = $1")
                    .await?,
                &[&user_id, &admin],
            )
            .await?
            > 0)
    }

    /// The account named `username`, ignoring case.
    pub async fn user_by_username(
        &self,
        username: String,
    ) -> Result<Option<UserRecord>, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                &format!("{USER_SELECT} WHERE lower(username) = lower($1)"),
                &[&username],
            )
            .await?;
        Ok(row.as_ref().map(user_row))
    }

    pub async fn user_by_id(&self, user_id: i64) -> Result<Option<UserRecord>, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_opt(&format!("{USER_SELECT} WHERE id = $1"), &[&user_id])
            .await?;
        Ok(row.as_ref().map(user_row))
    }

    /// Whether `user_id` names an account.
    pub async fn user_exists(&self, user_id: i64) -> Result<bool, StoreError> {
        let client = self.client().await?;
        Ok(client
            .query_opt(
                &client
                    .prepare_cached("SELECT 1 FROM users WHERE id = $1")
                    .await?,
                &[&user_id],
            )
            .await?
            .is_some())
    }

    /// Accounts whose username starts with `prefix` (case-insensitive), by username.
    pub async fn search_users(
        &self,
        prefix: String,
        limit: u32,
    ) -> Result<Vec<UserRecord>, StoreError> {
        let client = self.client().await?;
        let pattern = format!("{}%", escape_like(&prefix));
        // COLLATE "C": byte order of the folded name, as SQLite's NOCASE sorts.
        let rows = client
            .query(
                &format!(
                    "{USER_SELECT} WHERE lower(username) LIKE lower($1) ESCAPE '\\'
                     ORDER BY lower(username) COLLATE \"C\" LIMIT $2"
                ),
                &[&pattern, &i64::from(limit)],
            )
            .await?;
        Ok(rows.iter().map(user_row).collect())
    }

    /// Stores a token by its hash.
    pub async fn insert_token(
        &self,
        hash: String,
        user_id: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let client = self.client().await?;
        client
            .execute(
                &client
                    .prepare_cached(
                        "INSERT INTO tokens (hash, user_id, created_at, expires_at)
                 VALUES ($1, $2, $3, $4)",
                    )
                    .await?,
                &[&hash, &user_id, &now_ms(), &expires_at],
            )
            .await?;
        Ok(())
    }

    /// Revokes a token. `false` if it was not there.
    pub async fn delete_token(&self, hash: String) -> Result<bool, StoreError> {
        let client = self.client().await?;
        Ok(client
            .execute(
                &client
                    .prepare_cached("DELETE FROM tokens WHERE hash = $1")
                    .await?,
                &[&hash],
            )
            .await?
            > 0)
    }

    /// The owner of a token that has not expired at `now_ms`.
    pub async fn token_user(
        &self,
        hash: String,
        now_ms: i64,
    ) -> Result<Option<TokenInfo>, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                &client
                    .prepare_cached(
                        "SELECT t.user_id, t.expires_at, u.disabled, u.is_admin FROM tokens t
                 JOIN users u ON u.id = t.user_id
                 WHERE t.hash = $1 AND t.expires_at > $2",
                    )
                    .await?,
                &[&hash, &now_ms],
            )
            .await?;
        Ok(row.map(|r| TokenInfo {
            user_id: r.get(0),
            expires_at: r.get(1),
            disabled: r.get(2),
            is_admin: r.get(3),
        }))
    }
}

fn user_row(r: &Row) -> UserRecord {
    UserRecord {
        id: r.get(0),
        username: r.get(1),
        nickname: r.get(2),
        password_hash: r.get(3),
        disabled: r.get(4),
        created_at: r.get(5),
    }
}

/// Whether `e` is a unique violation of `constraint`.
pub(super) fn is_unique_violation(e: &tokio_postgres::Error, constraint: &str) -> bool {
    e.as_db_error().is_some_and(|db| {
        db.code() == &SqlState::UNIQUE_VIOLATION && db.constraint() == Some(constraint)
    })
}
