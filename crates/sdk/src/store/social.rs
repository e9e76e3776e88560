//! Caches of the social graph (friends, pending friend requests, groups) kept so the app
//! can show them offline and events can update them; the server stays the truth and a
//! successful list call replaces the cache. Also the ids of server events already applied.

use rusqlite::params;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::Store;
use crate::error::{Error, Result};
use crate::model::{Friend, FriendRequest, FriendRequests, Group};

fn json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| Error::Protocol(format!("encoding a cache row: {e}")))
}

/// Decodes cache rows, skipping (and logging) any that no longer decode.
fn decode_all<T: DeserializeOwned>(rows: Vec<String>, what: &str) -> Vec<T> {
    rows.into_iter()
        .filter_map(|body| match serde_json::from_str(&body) {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::warn!(error = %e, what, "skipping an unreadable cache row");
                None
            }
        })
        .collect()
}

impl Store {
    fn bodies(&self, sql: &str) -> Result<Vec<String>> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(sql)?;
        let rows = stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(rows)
    }

    /// Replaces the friends cache.
    pub fn replace_friends(&self, friends: &[Friend]) -> Result<()> {
        let rows: Vec<(String, String)> = friends
            .iter()
            .map(|f| Ok((f.user.user_id.clone(), json(f)?)))
            .collect::<Result<_>>()?;
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        tx.execute("DELETE FROM friends", [])?;
        for (id, body) in rows {
            tx.execute(
                "INSERT INTO friends (user_id, body) VALUES (?1, ?2)",
                params![id, body],
            )?;
        }
        tx.commit()?;
        drop(conn);
        self.remember_users(friends.iter().map(|f| &f.user))
    }

    /// Adds or updates one cached friend.
    pub fn upsert_friend(&self, friend: &Friend) -> Result<()> {
        self.lock().execute(
            "INSERT OR REPLACE INTO friends (user_id, body) VALUES (?1, ?2)",
            params![friend.user.user_id, json(friend)?],
        )?;
        self.remember_users([&friend.user])
    }

    /// Drops a cached friend. Returns whether it was there.
    pub fn remove_friend(&self, user_id: &str) -> Result<bool> {
        Ok(self
            .lock()
            .execute("DELETE FROM friends WHERE user_id = ?1", [user_id])?
            > 0)
    }

    /// The cached friends, by nickname.
    pub fn friends(&self) -> Result<Vec<Friend>> {
        let mut list: Vec<Friend> = decode_all(self.bodies("SELECT body FROM friends")?, "friend");
        list.sort_by(|a, b| {
            (a.user.nickname.to_lowercase(), &a.user.user_id)
                .cmp(&(b.user.nickname.to_lowercase(), &b.user.user_id))
        });
        Ok(list)
    }

    /// Replaces the cache of pending friend requests.
    pub fn replace_friend_requests(&self, requests: &FriendRequests) -> Result<()> {
        let mut rows = Vec::new();
        for (incoming, list) in [(true, &requests.incoming), (false, &requests.outgoing)] {
            for r in list {
                rows.push((r.id, incoming, json(r)?));
            }
        }
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        tx.execute("DELETE FROM friend_requests", [])?;
        for (id, incoming, body) in rows {
            tx.execute(
                "INSERT OR REPLACE INTO friend_requests (id, incoming, body) VALUES (?1, ?2, ?3)",
                params![id, incoming, body],
            )?;
        }
        tx.commit()?;
        drop(conn);
        let users = requests
            .incoming
            .iter()
            .map(|r| &r.from)
            .chain(requests.outgoing.iter().map(|r| &r.to));
        self.remember_users(users)
    }

    /// Caches a pending request (`incoming` = sent to this account).
    pub fn upsert_friend_request(&self, request: &FriendRequest, incoming: bool) -> Result<()> {
        self.lock().execute(
            "INSERT OR REPLACE INTO friend_requests (id, incoming, body) VALUES (?1, ?2, ?3)",
            params![request.id, incoming, json(request)?],
        )?;
        self.remember_users([&request.from, &request.to])
    }

    /// Drops a request that is no longer pending.
    pub fn remove_friend_request(&self, id: i64) -> Result<()> {
        self.lock()
            .execute("DELETE FROM friend_requests WHERE id = ?1", [id])?;
        Ok(())
    }

    /// The cached pending requests, newest first.
    pub fn friend_requests(&self) -> Result<FriendRequests> {
        let load = |incoming: bool| -> Result<Vec<FriendRequest>> {
            let sql = format!(
                "SELECT body FROM friend_requests WHERE incoming = {} ORDER BY id DESC",
                i32::from(incoming)
            );
            Ok(decode_all(self.bodies(&sql)?, "friend request"))
        };
        Ok(FriendRequests {
            incoming: load(true)?,
            outgoing: load(false)?,
        })
    }

    /// Replaces the groups cache.
    pub fn replace_groups(&self, groups: &[Group]) -> Result<()> {
        let rows: Vec<(String, String)> = groups
            .iter()
            .map(|g| Ok((g.group_id.clone(), json(g)?)))
            .collect::<Result<_>>()?;
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        tx.execute("DELETE FROM chat_groups", [])?;
        for (id, body) in rows {
            tx.execute(
                "INSERT INTO chat_groups (group_id, body) VALUES (?1, ?2)",
                params![id, body],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Adds or updates one cached group.
    pub fn upsert_group(&self, group: &Group) -> Result<()> {
        self.lock().execute(
            "INSERT OR REPLACE INTO chat_groups (group_id, body) VALUES (?1, ?2)",
            params![group.group_id, json(group)?],
        )?;
        Ok(())
    }

    /// Drops a cached group (left, removed or dissolved). Returns whether it was there.
    pub fn remove_group(&self, group_id: &str) -> Result<bool> {
        Ok(self
            .lock()
            .execute("DELETE FROM chat_groups WHERE group_id = ?1", [group_id])?
            > 0)
    }

    /// The cached groups, by name.
    pub fn groups(&self) -> Result<Vec<Group>> {
        let mut list: Vec<Group> =
            decode_all(self.bodies("SELECT body FROM chat_groups")?, "group");
        list.sort_by(|a, b| {
            (a.name.to_lowercase(), &a.group_id).cmp(&(b.name.to_lowercase(), &b.group_id))
        });
        Ok(list)
    }

    /// Records that server event `id` (its fp) was applied. Returns false if it already was.
    pub fn first_sighting(&self, id: &str, now: i64) -> Result<bool> {
        Ok(self.lock().execute(
            "INSERT OR IGNORE INTO seen_events (id, seen_at) VALUES (?1, ?2)",
            params![id, now],
        )? == 1)
    }
}
