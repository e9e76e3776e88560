//! Friends and friend requests, with the SQLite backend's semantics (`store::friends`): every
//! change writes a friend event (typeu 60) into both users' mailboxes in the same transaction.
//! A change between two users first locks both `users` rows in id order ([`lock_users`]), so
//! requests, answers and removals of one pair are serialised across nodes (two people asking
//! each other at once end as friends, not as two crossing pending requests).

use deadpool_postgres::{GenericClient, Transaction};
use hongyan_protocol::{
    api::{FriendEvent, FriendEventKind, FriendRequest, FriendRequestStatus, FriendRequests, User},
    kinds, now_ms,
};
use tokio_postgres::Row;

use super::{
    fanout::{lock_users, push_event},
    PostgresStore,
};
use crate::store::{fanout::event_fp, Delivery, RequestSent, StoreError};

/// Whether `a` has `b` as a friend (one primary-key lookup).
pub(super) async fn are_friends(
    client: &impl GenericClient,
    a: i64,
    b: i64,
) -> Result<bool, StoreError> {
    Ok(client
        .query_opt(
            &client
                .prepare_cached("SELECT 1 FROM friends WHERE user_id = $1 AND friend_id = $2")
                .await?,
            &[&a, &b],
        )
        .await?
        .is_some())
}

fn user_at(r: &Row, at: usize) -> User {
    User {
        user_id: r.get::<_, i64>(at).to_string(),
        username: r.get(at + 1),
        nickname: r.get(at + 2),
    }
}

/// The public profile of `id`.
async fn user_view(client: &impl GenericClient, id: i64) -> Result<Option<User>, StoreError> {
    Ok(client
        .query_opt(
            &client
                .prepare_cached("SELECT id, username, nickname FROM users WHERE id = $1")
                .await?,
            &[&id],
        )
        .await?
        .map(|r| user_at(&r, 0)))
}

/// A request with both parties' profiles.
const REQUEST_SELECT: &str = "SELECT r.id, r.message, r.status, r.created_at, r.from_id,
            f.id, f.username, f.nickname, t.id, t.username, t.nickname
     FROM friend_requests r JOIN users f ON f.id = r.from_id JOIN users t ON t.id = r.to_id";

fn request_of(r: &Row) -> FriendRequest {
    let status: String = r.get(2);
    FriendRequest {
        id: r.get(0),
        from: user_at(r, 5),
        to: user_at(r, 8),
        message: r.get(1),
        status: FriendRequestStatus::parse(&status).unwrap_or(FriendRequestStatus::Pending),
        created_at: r.get(3),
    }
}

async fn request(client: &impl GenericClient, id: i64) -> Result<FriendRequest, StoreError> {
    client
        .query_opt(&format!("{REQUEST_SELECT} WHERE r.id = $1"), &[&id])
        .await?
        .map(|r| request_of(&r))
        .ok_or(StoreError::NotFound)
}

/// Both directions, in a fixed order so two transactions befriending one pair cannot
/// deadlock on each other's rows.
async fn befriend(tx: &Transaction<'_>, a: i64, b: i64, since: i64) -> Result<(), StoreError> {
    let insert = tx
        .prepare_cached(
            "INSERT INTO friends (user_id, friend_id, since) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
        )
        .await?;
    let (lo, hi) = (a.min(b), a.max(b));
    tx.execute(&insert, &[&lo, &hi, &since]).await?;
    tx.execute(&insert, &[&hi, &lo, &since]).await?;
    Ok(())
}

/// Writes `event` about the other party into both `a`'s and `b`'s mailboxes (their rows are
/// locked already).
async fn notify_both(
    tx: &Transaction<'_>,
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
            user: user_view(tx, other).await?.ok_or(StoreError::NotFound)?,
        };
        let content = serde_json::to_string(&payload).unwrap_or_default();
        let to = me.to_string();
        out.push(push_event(tx, me, &to, &fp, kinds::FRIEND_EVENT, &content, sm).await?);
    }
    Ok(out)
}

/// The oldest pending request from `a` to `b`.
async fn pending(tx: &Transaction<'_>, a: i64, b: i64) -> Result<Option<i64>, StoreError> {
    Ok(tx
        .query_opt(
            &tx.prepare_cached("SELECT id FROM friend_requests WHERE from_id = $1 AND to_id = $2 AND status = 'pending'
             ORDER BY id LIMIT 1").await?,
            &[&a, &b],
        )
        .await?
        .map(|r| r.get(0)))
}

async fn send_request(
    tx: &Transaction<'_>,
    from: i64,
    to: i64,
    message: &str,
) -> Result<RequestSent, StoreError> {
    lock_users(tx, &[from, to]).await?;
    if user_view(tx, to).await?.is_none() {
        return Err(StoreError::NotFound);
    }
    if are_friends(tx, from, to).await? {
        return Err(StoreError::AlreadyFriends);
    }
    // They asked me already: asking back accepts.
    if let Some(theirs) = pending(tx, to, from).await? {
        let (request, deliveries) = answer(tx, from, theirs, true).await?;
        return Ok(RequestSent {
            request,
            created: false,
            deliveries,
        });
    }
    // Asking twice returns the pending request instead of a second one.
    if let Some(mine) = pending(tx, from, to).await? {
        return Ok(RequestSent {
            request: request(tx, mine).await?,
            created: true,
            deliveries: Vec::new(),
        });
    }
    let id: i64 = tx
        .query_one(
            &tx.prepare_cached(
                "INSERT INTO friend_requests (from_id, to_id, message, status, created_at)
             VALUES ($1, $2, $3, 'pending', $4) RETURNING id",
            )
            .await?,
            &[&from, &to, &message, &now_ms()],
        )
        .await?
        .get(0);
    let request = request(tx, id).await?;
    let deliveries = notify_both(tx, from, to, FriendEventKind::Request, Some(&request)).await?;
    Ok(RequestSent {
        request,
        created: true,
        deliveries,
    })
}

/// Settles pending request `id` (addressed to `me`) and tells both sides. Both users' rows
/// are locked already, so the status read here is current.
async fn answer(
    tx: &Transaction<'_>,
    me: i64,
    id: i64,
    accept_it: bool,
) -> Result<(FriendRequest, Vec<Delivery>), StoreError> {
    let row = tx
        .query_opt(
            &tx.prepare_cached(
                "SELECT from_id, status FROM friend_requests WHERE id = $1 AND to_id = $2",
            )
            .await?,
            &[&id, &me],
        )
        .await?
        .ok_or(StoreError::NotFound)?;
    let (from, status): (i64, String) = (row.get(0), row.get(1));
    if status != FriendRequestStatus::Pending.as_str() {
        return Err(StoreError::NotPending);
    }
    let (status, event) = if accept_it {
        (FriendRequestStatus::Accepted, FriendEventKind::Accepted)
    } else {
        (FriendRequestStatus::Declined, FriendEventKind::Declined)
    };
    tx.execute(
        &tx.prepare_cached("UPDATE friend_requests SET status = $2 WHERE id = $1")
            .await?,
        &[&id, &status.as_str()],
    )
    .await?;
    if accept_it {
        // Any request the other way is settled by this one.
        tx.execute(
            &tx.prepare_cached(
                "UPDATE friend_requests SET status = 'accepted'
             WHERE from_id = $1 AND to_id = $2 AND status = 'pending'",
            )
            .await?,
            &[&me, &from],
        )
        .await?;
        befriend(tx, me, from, now_ms()).await?;
    }
    let request = request(tx, id).await?;
    let deliveries = notify_both(tx, me, from, event, Some(&request)).await?;
    Ok((request, deliveries))
}

async fn requests_where(
    client: &impl GenericClient,
    column: &str,
    me: i64,
) -> Result<Vec<FriendRequest>, StoreError> {
    let sql =
        format!("{REQUEST_SELECT} WHERE r.{column} = $1 AND r.status = 'pending' ORDER BY r.id");
    Ok(client
        .query(&sql, &[&me])
        .await?
        .iter()
        .map(request_of)
        .collect())
}

impl PostgresStore {
    /// Sends (or, when the other side asked first, accepts) a friend request.
    pub async fn send_friend_request(
        &self,
        from: i64,
        to: i64,
        message: String,
    ) -> Result<RequestSent, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let sent = send_request(&tx, from, to, &message).await?;
        tx.commit().await?;
        Ok(sent)
    }

    /// Accepts (`true`) or declines request `id`, which must be addressed to `me`.
    pub async fn answer_friend_request(
        &self,
        me: i64,
        id: i64,
        accept_it: bool,
    ) -> Result<(FriendRequest, Vec<Delivery>), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let from: i64 = tx
            .query_opt(
                &tx.prepare_cached(
                    "SELECT from_id FROM friend_requests WHERE id = $1 AND to_id = $2",
                )
                .await?,
                &[&id, &me],
            )
            .await?
            .ok_or(StoreError::NotFound)?
            .get(0);
        lock_users(&tx, &[me, from]).await?;
        let answered = answer(&tx, me, id, accept_it).await?;
        tx.commit().await?;
        Ok(answered)
    }

    /// The pending requests to and from `me`.
    pub async fn friend_requests(&self, me: i64) -> Result<FriendRequests, StoreError> {
        let client = self.client().await?;
        Ok(FriendRequests {
            incoming: requests_where(&client, "to_id", me).await?,
            outgoing: requests_where(&client, "from_id", me).await?,
        })
    }

    /// `me`'s friends with the time each friendship began, by username (ignoring case).
    pub async fn friends(&self, me: i64) -> Result<Vec<(User, i64)>, StoreError> {
        let client = self.client().await?;
        let rows = client
            .query(
                &client
                    .prepare_cached(
                        "SELECT u.id, u.username, u.nickname, f.since FROM friends f
                 JOIN users u ON u.id = f.friend_id
                 WHERE f.user_id = $1 ORDER BY lower(u.username) COLLATE \"C\"",
                    )
                    .await?,
                &[&me],
            )
            .await?;
        Ok(rows.iter().map(|r| (user_at(r, 0), r.get(3))).collect())
    }

    /// The ids of `me`'s friends.
    pub async fn friend_ids(&self, me: i64) -> Result<Vec<i64>, StoreError> {
        let client = self.client().await?;
        let rows = client
            .query(
                &client
                    .prepare_cached(
                        "SELECT friend_id FROM friends WHERE user_id = $1 ORDER BY friend_id",
                    )
                    .await?,
                &[&me],
            )
            .await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// Whether `a` and `b` are friends.
    pub async fn is_friend(&self, a: i64, b: i64) -> Result<bool, StoreError> {
        let client = self.client().await?;
        are_friends(&client, a, b).await
    }

    /// Ends the friendship of `me` and `other` on both sides; both get a `removed` event.
    pub async fn remove_friend(&self, me: i64, other: i64) -> Result<Vec<Delivery>, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        lock_users(&tx, &[me, other]).await?;
        let removed = tx
            .execute(
                &tx.prepare_cached(
                    "DELETE FROM friends WHERE (user_id = $1 AND friend_id = $2)
                 OR (user_id = $2 AND friend_id = $1)",
                )
                .await?,
                &[&me, &other],
            )
            .await?;
        if removed == 0 {
            return Err(StoreError::NotFound);
        }
        let deliveries = notify_both(&tx, me, other, FriendEventKind::Removed, None).await?;
        tx.commit().await?;
        Ok(deliveries)
    }

    /// Makes `a` and `b` friends directly, without requests or events (seeding for load
    /// tests and operators).
    pub async fn make_friends(&self, a: i64, b: i64) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        lock_users(&tx, &[a, b]).await?;
        befriend(&tx, a, b, now_ms()).await?;
        tx.commit().await?;
        Ok(())
    }
}
