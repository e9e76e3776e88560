//! 1:1 mailboxes: storing a chat message with sender dedup and per-user seqs.

use deadpool_postgres::Transaction;
use hongyan_protocol::now_ms;

use super::{friends::are_friends, PostgresStore};
use crate::store::{ChatOutcome, MailboxRow, NewChat, StoreError};

const INSERT_ROW: &str =
    "INSERT INTO mailbox (user_id, seq, fp, from_id, to_id, typeu, content, sm)
                          VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

impl PostgresStore {
    /// Stores a chat message: deduplicates on `(from, fp)`, allocates the recipient's next
    /// seq, writes the recipient's copy and (unless it is a note to self) the sender's copy.
    /// One transaction, committed before this returns.
    pub async fn store_chat(&self, msg: NewChat) -> Result<ChatOutcome, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // Claim (from, fp) first: a concurrent duplicate (another node, a resend) blocks on
        // this row until our commit, then finds it taken and answers with our seq.
        let claimed = tx
            .execute(
                &tx.prepare_cached(
                    "INSERT INTO sent (from_id, fp, seq, sm) VALUES ($1, $2, 0, 0)
                 ON CONFLICT DO NOTHING",
                )
                .await?,
                &[&msg.from, &msg.fp],
            )
            .await?;
        if claimed == 0 {
            let row = tx
                .query_one(
                    &tx.prepare_cached("SELECT seq, sm FROM sent WHERE from_id = $1 AND fp = $2")
                        .await?,
                    &[&msg.from, &msg.fp],
                )
                .await?;
            return Ok(ChatOutcome::Duplicate {
                seq: row.get(0),
                sm: row.get(1),
            });
        }
        if msg.friends_only && msg.to != msg.from && !are_friends(&tx, msg.from, msg.to).await? {
            // Only on this failure path: tell a missing recipient (1107) from a stranger (1101).
            let exists = tx
                .query_opt(
                    &tx.prepare_cached("SELECT 1 FROM users WHERE id = $1")
                        .await?,
                    &[&msg.to],
                )
                .await?
                .is_some();
            return Err(if exists {
                StoreError::NotAllowed
            } else {
                StoreError::NoSuchUser
            });
        }
        let sm = now_ms();
        let to = msg.to.to_string();
        // Row locks in id order, so a→b and b→a at once cannot deadlock.
        let (seq, own) = if msg.to == msg.from {
            (next_seq(&tx, msg.to).await?, None)
        } else if msg.from < msg.to {
            let own = next_seq(&tx, msg.from).await?;
            (next_seq(&tx, msg.to).await?, Some(own))
        } else {
            let seq = next_seq(&tx, msg.to).await?;
            (seq, Some(next_seq(&tx, msg.from).await?))
        };
        let insert = tx.prepare_cached(INSERT_ROW).await?;
        let copies = std::iter::once((msg.to, seq)).chain(own.map(|own| (msg.from, own)));
        for (owner, owner_seq) in copies {
            tx.execute(
                &insert,
                &[
                    &owner,
                    &owner_seq,
                    &msg.fp,
                    &msg.from,
                    &to,
                    &msg.typeu,
                    &msg.content,
                    &sm,
                ],
            )
            .await?;
        }
        tx.execute(
            &tx.prepare_cached("UPDATE sent SET seq = $3, sm = $4 WHERE from_id = $1 AND fp = $2")
                .await?,
            &[&msg.from, &msg.fp, &seq, &sm],
        )
        .await?;
        tx.commit().await?;
        Ok(ChatOutcome::Stored { seq, sm })
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
