//! Writing into mailboxes beyond 1:1 chat: server events (typeu 60/61) and group messages,
//! with the SQLite backend's semantics (`store::fanout`).
//!
//! Locking, so that concurrent writers on many nodes neither deadlock nor leave seq gaps:
//! - a transaction takes every `users` row lock it needs in one step, in id order
//!   ([`lock_users`]), before it allocates seqs (1:1 chat takes its two in id order too), so
//!   fan-outs to overlapping members wait for each other instead of deadlocking;
//! - a group's own row is locked before its members are read (shared for a message, in
//!   `hongyan_store_group_chat`; exclusive for a membership change, [`lock_group`]), so the
//!   member list cannot change between reading it and writing the copies. Group row first,
//!   then user rows: always that order.
//!
//! Group messages, the hot path, are written by one server-side function call (migration
//! 0002, `hongyan_store_group_chat`) that follows the same order; the helpers here serve
//! the events written by group, friend and account changes.

use deadpool_postgres::{GenericClient, Transaction};
use hongyan_protocol::{api::group_wire_id, now_ms};

use super::{mailbox::next_seq, refusal_or, PostgresStore};
use crate::store::{ChatOutcome, Delivery, GroupChatOutcome, MailboxRow, NewGroupChat, StoreError};

/// Locks the `users` rows of `ids` in id order (the lock `UPDATE … last_seq` takes) and
/// returns the ids that exist, sorted.
pub(super) async fn lock_users(tx: &Transaction<'_>, ids: &[i64]) -> Result<Vec<i64>, StoreError> {
    let rows = tx
        .query(
            &tx.prepare_cached(
                "SELECT id FROM users WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE",
            )
            .await?,
            &[&ids],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Locks group `gid`'s row for a membership, name or owner change (one at a time, and no
/// message fans out meanwhile: `hongyan_store_group_chat` share-locks it); returns its
/// owner, or `None` if there is no such group.
pub(super) async fn lock_group(tx: &Transaction<'_>, gid: i64) -> Result<Option<i64>, StoreError> {
    let stmt = tx
        .prepare_cached("SELECT owner_id FROM chat_groups WHERE id = $1 FOR UPDATE")
        .await?;
    Ok(tx.query_opt(&stmt, &[&gid]).await?.map(|r| r.get(0)))
}

/// The members of `gid`, by id.
pub(super) async fn member_ids(
    client: &impl GenericClient,
    gid: i64,
) -> Result<Vec<i64>, StoreError> {
    let rows = client
        .query(
            &client
                .prepare_cached(
                    "SELECT user_id FROM group_members WHERE group_id = $1 ORDER BY user_id",
                )
                .await?,
            &[&gid],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// The envelope a mailbox row with these values is delivered as.
fn delivery(user: i64, row: MailboxRow) -> Delivery {
    (user, row.to_envelope())
}

/// Appends one server event (`from` = 0) to `user_id`'s mailbox. The caller holds (or may
/// take, with no other user row locked) `user_id`'s row lock.
pub(super) async fn push_event(
    tx: &Transaction<'_>,
    user_id: i64,
    to: &str,
    fp: &str,
    typeu: i32,
    content: &str,
    sm: i64,
) -> Result<Delivery, StoreError> {
    let seq = next_seq(tx, user_id).await?;
    tx.execute(
        &tx.prepare_cached(
            "INSERT INTO mailbox (user_id, seq, fp, from_id, to_id, typeu, content, sm)
         VALUES ($1, $2, $3, 0, $4, $5, $6, $7)",
        )
        .await?,
        &[&user_id, &seq, &fp, &to, &typeu, &content, &sm],
    )
    .await?;
    Ok(delivery(
        user_id,
        MailboxRow {
            seq,
            fp: fp.to_owned(),
            from: 0,
            to: to.to_owned(),
            typeu,
            content: content.to_owned(),
            sm,
        },
    ))
}

/// One mailbox row for every user in `members` (whose rows the caller has locked with
/// [`lock_users`]), each at that member's next seq, all referencing one stored body.
/// Returns (member, seq) by member id. Three statements, whatever the member count.
#[allow(clippy::too_many_arguments)]
pub(super) async fn fan_out(
    tx: &Transaction<'_>,
    group_id: i64,
    members: &[i64],
    from: i64,
    fp: &str,
    typeu: i32,
    content: &str,
    sm: i64,
) -> Result<Vec<(i64, i64)>, StoreError> {
    if members.is_empty() {
        return Ok(Vec::new());
    }
    let body_id: i64 = tx
        .query_one(
            &tx.prepare_cached("INSERT INTO bodies (content) VALUES ($1) RETURNING id")
                .await?,
            &[&content],
        )
        .await?
        .get(0);
    let mut copies: Vec<(i64, i64)> = tx
        .query(
            &tx.prepare_cached("UPDATE users SET last_seq = last_seq + 1 WHERE id = ANY($1) RETURNING id, last_seq").await?,
            &[&members],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    copies.sort_unstable();
    let (ids, seqs): (Vec<i64>, Vec<i64>) = copies.iter().copied().unzip();
    tx.execute(
        &tx.prepare_cached(
            "INSERT INTO mailbox (user_id, seq, fp, from_id, to_id, typeu, content, sm, body_id)
         SELECT c.user_id, c.seq, $3, $4, $5, $6, '', $7, $8
         FROM unnest($1::BIGINT[], $2::BIGINT[]) AS c(user_id, seq)",
        )
        .await?,
        &[
            &ids,
            &seqs,
            &fp,
            &from,
            &group_wire_id(group_id),
            &typeu,
            &sm,
            &body_id,
        ],
    )
    .await?;
    Ok(copies)
}

/// [`fan_out`] of a server event, as deliveries.
pub(super) async fn fan_out_event(
    tx: &Transaction<'_>,
    group_id: i64,
    members: &[i64],
    fp: &str,
    typeu: i32,
    content: &str,
    sm: i64,
) -> Result<Vec<Delivery>, StoreError> {
    let to = group_wire_id(group_id);
    let copies = fan_out(tx, group_id, members, 0, fp, typeu, content, sm).await?;
    Ok(copies
        .into_iter()
        .map(|(user, seq)| {
            let row = MailboxRow {
                seq,
                fp: fp.to_owned(),
                from: 0,
                to: to.clone(),
                typeu,
                content: content.to_owned(),
                sm,
            };
            delivery(user, row)
        })
        .collect())
}

impl PostgresStore {
    /// Stores a group message in every member's mailbox: dedupe on `(from, fp)`, membership
    /// check, fan-out on write. One call of `hongyan_store_group_chat` (migration 0002) in
    /// autocommit: one round trip, atomic, committed before this returns; it locks as
    /// described above (group row shared, then the members' rows in id order).
    pub async fn store_group_chat(
        &self,
        msg: NewGroupChat,
    ) -> Result<GroupChatOutcome, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached("SELECT * FROM hongyan_store_group_chat($1, $2, $3, $4, $5, $6, $7)")
            .await?;
        let row = client
            .query_one(
                &stmt,
                &[
                    &msg.from,
                    &msg.group_id,
                    &group_wire_id(msg.group_id),
                    &msg.fp,
                    &msg.typeu,
                    &msg.content,
                    &now_ms(),
                ],
            )
            .await
            .map_err(refusal_or)?;
        let (seq, sm) = (row.get(1), row.get(2));
        if row.get(0) {
            return Ok(GroupChatOutcome {
                outcome: ChatOutcome::Duplicate { seq, sm },
                copies: Vec::new(),
            });
        }
        let members: Vec<i64> = row.get(3);
        let seqs: Vec<i64> = row.get(4);
        Ok(GroupChatOutcome {
            outcome: ChatOutcome::Stored { seq, sm },
            copies: members.into_iter().zip(seqs).collect(),
        })
    }
}
