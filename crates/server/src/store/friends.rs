//! Friends and friend requests. Every change writes a friend event (typeu 60) into both
//! users' mailboxes in the same transaction, so it reaches them live or by sync.

use hongyan_protocol::{
    api::{FriendEvent, FriendEventKind, FriendRequest, FriendRequestStatus, FriendRequests, User},
    kinds, now_ms,
};
use rusqlite::{params, Connection, OptionalExtension};

pub use super::RequestSent;
use super::{
    fanout::{event_fp, push_event},
    Delivery, SqliteStore, StoreError,
};

/// Whether `a` and `b` are friends (one primary-key lookup).
pub fn are_friends(conn: &Connection, a: i64, b: i64) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM friends WHERE user_id = ?1 AND friend_id = ?2")?
        .exists(params![a, b])?)
}

/// The public profile of `id`.
pub fn user_view(conn: &Connection, id: i64) -> Result<Option<User>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT id, username, nickname FROM users WHERE id = ?1")?
        .query_row([id], |r| {
            Ok(User {
                user_id: r.get::<_, i64>(0)?.to_string(),
                username: r.get(1)?,
                nickname: r.get(2)?,
            })
        })
        .optional()?)
}

fn must_user(conn: &Connection, id: i64) -> Result<User, StoreError> {
    user_view(conn, id)?.ok_or(StoreError::NotFound)
}

/// A stored request: (id, from, to, message, status, created_at).
type RequestRow = (i64, i64, i64, String, String, i64);

fn request_row(conn: &Connection, id: i64) -> Result<Option<RequestRow>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT id, from_id, to_id, message, status, created_at FROM friend_requests WHERE id = ?1",
        )?
        .query_row([id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
        })
        .optional()?)
}

fn to_request(conn: &Connection, row: RequestRow) -> Result<FriendRequest, StoreError> {
    let (id, from, to, message, status, created_at) = row;
    Ok(FriendRequest {
        id,
        from: must_user(conn, from)?,
        to: must_user(conn, to)?,
        message,
        status: FriendRequestStatus::parse(&status).unwrap_or(FriendRequestStatus::Pending),
        created_at,
    })
}

fn set_status(conn: &Connection, id: i64, status: FriendRequestStatus) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE friend_requests SET status = ?2 WHERE id = ?1")?
        .execute(params![id, status.as_str()])?;
    Ok(())
}

fn befriend(conn: &Connection, a: i64, b: i64, since: i64) -> Result<(), StoreError> {
    let mut insert = conn.prepare_cached(
        "INSERT OR IGNORE INTO friends (user_id, friend_id, since) VALUES (?1, ?2, ?3)",
    )?;
    insert.execute(params![a, b, since])?;
    insert.execute(params![b, a, since])?;
    Ok(())
}

/// Writes `event` about the other party into both `a`'s and `b`'s mailboxes.
fn notify_both(
    conn: &Connection,
    a: i64,
    b: i64,
    event: FriendEventKind,
    request: Option<&FriendRequest>,
) -> Result<Vec<Delivery>, StoreError> {
    let fp = event_fp();
    let sm = now_ms();
    let mut out = Vec::with_capacity(2);
    for (me, other) in [(a, b), (b, a)] {
        let payload = FriendEvent {
            event,
            request: request.cloned(),
            user: must_user(conn, other)?,
        };
        let content = serde_json::to_string(&payload).unwrap_or_default();
        out.push(push_event(
            conn,
            me,
            &me.to_string(),
            &fp,
            kinds::FRIEND_EVENT,
            &content,
            sm,
        )?);
    }
    Ok(out)
}

fn send_request(
    conn: &Connection,
    from: i64,
    to: i64,
    message: &str,
) -> Result<RequestSent, StoreError> {
    if user_view(conn, to)?.is_none() {
        return Err(StoreError::NotFound);
    }
    if are_friends(conn, from, to)? {
        return Err(StoreError::AlreadyFriends);
    }
    let pending = |a: i64, b: i64| -> Result<Option<i64>, StoreError> {
        Ok(conn
            .prepare_cached(
                "SELECT id FROM friend_requests WHERE from_id = ?1 AND to_id = ?2 AND status = 'pending'
                 ORDER BY id LIMIT 1",
            )?
            .query_row(params![a, b], |r| r.get(0))
            .optional()?)
    };
    // They asked me already: asking back accepts.
    if let Some(theirs) = pending(to, from)? {
        let sent = accept(conn, from, theirs)?;
        return Ok(RequestSent {
            request: sent.0,
            created: false,
            deliveries: sent.1,
        });
    }
    // Asking twice returns the pending request instead of a second one.
    if let Some(mine) = pending(from, to)? {
        let row = request_row(conn, mine)?.ok_or(StoreError::NotFound)?;
        return Ok(RequestSent {
            request: to_request(conn, row)?,
            created: true,
            deliveries: Vec::new(),
        });
    }
    let id: i64 = conn
        .prepare_cached(
            "INSERT INTO friend_requests (from_id, to_id, message, status, created_at)
             VALUES (?1, ?2, ?3, 'pending', ?4) RETURNING id",
        )?
        .query_row(params![from, to, message, now_ms()], |r| r.get(0))?;
    let row = request_row(conn, id)?.ok_or(StoreError::NotFound)?;
    let request = to_request(conn, row)?;
    let deliveries = notify_both(conn, from, to, FriendEventKind::Request, Some(&request))?;
    Ok(RequestSent {
        request,
        created: true,
        deliveries,
    })
}

/// Loads request `id` addressed to `me` and still pending.
fn pending_for(conn: &Connection, me: i64, id: i64) -> Result<RequestRow, StoreError> {
    let row = request_row(conn, id)?
        .filter(|r| r.2 == me)
        .ok_or(StoreError::NotFound)?;
    if row.4 != FriendRequestStatus::Pending.as_str() {
        return Err(StoreError::NotPending);
    }
    Ok(row)
}

/// Accepts request `id` (addressed to `me`): both become friends.
fn accept(
    conn: &Connection,
    me: i64,
    id: i64,
) -> Result<(FriendRequest, Vec<Delivery>), StoreError> {
    answer(conn, me, id, true)
}

/// Settles pending request `id` (addressed to `me`) and tells both sides.
fn answer(
    conn: &Connection,
    me: i64,
    id: i64,
    accept_it: bool,
) -> Result<(FriendRequest, Vec<Delivery>), StoreError> {
    let from = pending_for(conn, me, id)?.1;
    let (status, event) = if accept_it {
        (FriendRequestStatus::Accepted, FriendEventKind::Accepted)
    } else {
        (FriendRequestStatus::Declined, FriendEventKind::Declined)
    };
    set_status(conn, id, status)?;
    if accept_it {
        // Any request the other way is settled by this one.
        conn.prepare_cached(
            "UPDATE friend_requests SET status = 'accepted'
             WHERE from_id = ?1 AND to_id = ?2 AND status = 'pending'",
        )?
        .execute(params![me, from])?;
        befriend(conn, me, from, now_ms())?;
    }
    let row = request_row(conn, id)?.ok_or(StoreError::NotFound)?;
    let request = to_request(conn, row)?;
    let deliveries = notify_both(conn, me, from, event, Some(&request))?;
    Ok((request, deliveries))
}

fn requests_where(
    conn: &Connection,
    column: &str,
    me: i64,
) -> Result<Vec<FriendRequest>, StoreError> {
    let sql = format!(
        "SELECT id, from_id, to_id, message, status, created_at FROM friend_requests
         WHERE {column} = ?1 AND status = 'pending' ORDER BY id"
    );
    let rows = conn
        .prepare_cached(&sql)?
        .query_map([me], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?
        .collect::<Result<Vec<RequestRow>, _>>()?;
    rows.into_iter().map(|row| to_request(conn, row)).collect()
}

impl SqliteStore {
    /// Sends (or, when the other side asked first, accepts) a friend request.
    pub async fn send_friend_request(
        &self,
        from: i64,
        to: i64,
        message: String,
    ) -> Result<RequestSent, StoreError> {
        self.write(move |conn| send_request(conn, from, to, &message))
            .await
    }

    /// Accepts (`true`) or declines request `id`, which must be addressed to `me`.
    pub async fn answer_friend_request(
        &self,
        me: i64,
        id: i64,
        accept_it: bool,
    ) -> Result<(FriendRequest, Vec<Delivery>), StoreError> {
        self.write(move |conn| answer(conn, me, id, accept_it))
            .await
    }

    /// The pending requests to and from `me`.
    pub async fn friend_requests(&self, me: i64) -> Result<FriendRequests, StoreError> {
        self.read(move |conn| {
            Ok(FriendRequests {
                incoming: requests_where(conn, "to_id", me)?,
                outgoing: requests_where(conn, "from_id", me)?,
            })
        })
        .await
    }

    /// `me`'s friends with the time each friendship began, by username.
    pub async fn friends(&self, me: i64) -> Result<Vec<(User, i64)>, StoreError> {
        self.read(move |conn| {
            let rows = conn
                .prepare_cached(
                    "SELECT u.id, u.username, u.nickname, f.since FROM friends f
                     JOIN users u ON u.id = f.friend_id
                     WHERE f.user_id = ?1 ORDER BY u.username",
                )?
                .query_map([me], |r| {
                    Ok((
                        User {
                            user_id: r.get::<_, i64>(0)?.to_string(),
                            username: r.get(1)?,
                            nickname: r.get(2)?,
                        },
                        r.get(3)?,
                    ))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
    }

    /// The ids of `me`'s friends.
    pub async fn friend_ids(&self, me: i64) -> Result<Vec<i64>, StoreError> {
        self.read(move |conn| {
            let ids = conn
                .prepare_cached("SELECT friend_id FROM friends WHERE user_id = ?1")?
                .query_map([me], |r| r.get(0))?
                .collect::<Result<Vec<i64>, _>>()?;
            Ok(ids)
        })
        .await
    }

    /// Whether `a` and `b` are friends.
    pub async fn is_friend(&self, a: i64, b: i64) -> Result<bool, StoreError> {
        self.read(move |conn| are_friends(conn, a, b)).await
    }

    /// Ends the friendship of `me` and `other` on both sides; both get a `removed` event.
    pub async fn remove_friend(&self, me: i64, other: i64) -> Result<Vec<Delivery>, StoreError> {
        self.write(move |conn| {
            let removed = conn
                .prepare_cached(
                    "DELETE FROM friends WHERE (user_id = ?1 AND friend_id = ?2)
                     OR (user_id = ?2 AND friend_id = ?1)",
                )?
                .execute(params![me, other])?;
            if removed == 0 {
                return Err(StoreError::NotFound);
            }
            notify_both(conn, me, other, FriendEventKind::Removed, None)
        })
        .await
    }

    /// Makes `a` and `b` friends directly, without requests or events (seeding for load
    /// tests and operators).
    pub async fn make_friends(&self, a: i64, b: i64) -> Result<(), StoreError> {
        self.write(move |conn| befriend(conn, a, b, now_ms())).await
    }
}
