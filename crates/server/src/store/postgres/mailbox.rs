//! 1:1 mailboxes: storing a chat message with sender dedup and per-user seqs.

use deadpool_postgres::Transaction;
use hongyan_protocol::now_ms;

use super::{refusal_or, PostgresStore};
use crate::store::{ChatOutcome, MailboxRow, NewChat, StoreError};

impl PostgresStore {
    /// Stores a chat message: deduplicates on `(from, fp)`, allocates the recipient's next
    /// seq, writes the recipient's copy and (unless it is a note to self) the sender's copy.
    /// One call of `hongyan_store_chat` (migration 0002) in autocommit: one round trip,
    /// atomic, committed before this returns.
    pub async fn store_chat(&self, msg: NewChat) -> Result<ChatOutcome, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached("SELECT * FROM hongyan_store_chat($1, $2, $3, $4, $5, $6, $7)")
            .await?;
        let row = client
            .query_one(
                &stmt,
                &[
                    &msg.from,
                    &msg.to,
                    &msg.fp,
                    &msg.typeu,
                    &msg.content,
                    &now_ms(),
                    &msg.friends_only,
                ],
            )
            .await
            .map_err(refusal_or)?;
        let (seq, sm) = (row.get(1), row.get(2));
        Ok(if row.get(0) {
            ChatOutcome::Duplicate { seq, sm }
        } else {
            ChatOutcome::Stored { seq, sm }
        })
    }

    /// The newest seq in `user_id`'s mailbox (0 when empty or no such user).
    pub async fn last_seq(&self, user_id: i64) -> Result<i64, StoreError> {
        let client = self.client().await?;
        Ok(client
            .query_opt(
                &client
                    .prepare_cached("SELECT last_seq FROM users WHERE id = $1")
                    .await?,
                &[&user_id],
            )
            .await?
            .map_or(0, |r| r.get(0)))
    }

    /// Up to `limit` mailbox rows of `user_id` with seq > `after`, in seq order.
    pub async fn mailbox_after(
        &self,
        user_id: i64,
        after: i64,
        limit: u32,
    ) -> Result<Vec<MailboxRow>, StoreError> {
        let client = self.client().await?;
        let rows = client
            .query(
                &client
                    .prepare_cached(
                        "SELECT m.seq, m.fp, m.from_id, m.to_id, m.typeu,
                        COALESCE(b.content, m.content), m.sm
                 FROM mailbox m LEFT JOIN bodies b ON b.id = m.body_id
                 WHERE m.user_id = $1 AND m.seq > $2 ORDER BY m.seq LIMIT $3",
                    )
                    .await?,
                &[&user_id, &after, &i64::from(limit)],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| MailboxRow {
                seq: r.get(0),
                fp: r.get(1),
                from: r.get(2),
                to: r.get(3),
                typeu: r.get(4),
                content: r.get(5),
                sm: r.get(6),
            })
            .collect())
    }
}

/// Allocates `user_id`'s next mailbox seq; the row lock it takes serialises every writer of
/// that mailbox, on every node, until the transaction ends.
pub(super) async fn next_seq(tx: &Transaction<'_>, user_id: i64) -> Result<i64, StoreError> {
    tx.query_opt(
        &tx.prepare_cached(
            "UPDATE users SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq",
        )
        .await?,
        &[&user_id],
    )
    .await?
    .map(|r| r.get(0))
    .ok_or(StoreError::NoSuchUser)
}
