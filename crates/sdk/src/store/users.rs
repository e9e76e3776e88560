//! Names of users this account has seen (friends, requests, group members, search), so
//! group system lines can say `alice added bob` without a network round trip.

use rusqlite::{params, OptionalExtension, Transaction};

use super::Store;
use crate::error::Result;
use crate::model::User;

/// The nickname (or username) of `user_id` if known, else the id itself.
pub(super) fn display_name_in(tx: &Transaction<'_>, user_id: &str) -> String {
    tx.prepare_cached("SELECT nickname, username FROM users WHERE user_id = ?1")
        .and_then(|mut s| {
            s.query_row([user_id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .optional()
        })
        .ok()
        .flatten()
        .map(|(nick, name)| if nick.is_empty() { name } else { nick })
        .unwrap_or_else(|| user_id.to_owned())
}

impl Store {
    /// Remembers users' names (upsert).
    pub fn remember_users<'a>(&self, users: impl IntoIterator<Item = &'a User>) -> Result<()> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO users (user_id, username, nickname) VALUES (?1, ?2, ?3)
                 ON CONFLICT(user_id) DO UPDATE SET username = excluded.username,
                   nickname = excluded.nickname",
            )?;
            for u in users {
                stmt.execute(params![u.user_id, u.username, u.nickname])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Remembers `user` unless a fuller record of it is already known (the account's own
    /// name at login, before any profile of it was seen).
    pub fn remember_user_if_unknown(&self, user: &User) -> Result<()> {
        self.lock().execute(
            "INSERT OR IGNORE INTO users (user_id, username, nickname) VALUES (?1, ?2, ?3)",
            params![user.user_id, user.username, user.nickname],
        )?;
        Ok(())
    }

    /// A remembered user.
    pub fn known_user(&self, user_id: &str) -> Result<Option<User>> {
        Ok(self
            .lock()
            .prepare_cached("SELECT user_id, username, nickname FROM users WHERE user_id = ?1")?
            .query_row([user_id], |r| {
                Ok(User {
                    user_id: r.get(0)?,
                    username: r.get(1)?,
                    nickname: r.get(2)?,
                })
            })
            .optional()?)
    }
}
