//! The outbox: own messages the server has not acknowledged yet. Rows live in SQLite so
//! they survive restarts; the QoS policy (`crate::qos`) decides when to resend.

use hongyan_protocol::Envelope;
use rusqlite::{params, OptionalExtension};

use super::messages::insert_in;
use super::Store;
use crate::error::{Error, Result};
use crate::model::{Message, MessageStatus};

/// One unacknowledged message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    /// The message id = fp.
    pub id: String,
    /// What goes on the wire (resent unchanged, same fp).
    pub envelope: Envelope,
    /// Sends on the current connection (reset to 0 when it is sent after a (re)login).
    pub attempts: u32,
    /// ms of the last send.
    pub last_sent_at: i64,
    pub created_at: i64,
    /// QoS gave up on it on the current connection (the message shows as failed); the next
    /// login sends it again.
    pub parked: bool,
}

impl Store {
    /// Stores an own message and its outbox entry in one transaction, before it goes on
    /// the wire. `now` becomes its last send time.
    pub fn insert_outgoing(&self, m: &Message, now: i64) -> Result<()> {
        let envelope = m.to_envelope().encode();
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        if !insert_in(&tx, m)? {
            return Err(Error::InvalidRequest(format!(
                "message {} already exists",
                m.id
            )));
        }
        tx.execute(
            "INSERT OR REPLACE INTO outbox (id, envelope, attempts, last_sent_at, created_at)
             VALUES (?1, ?2, 0, ?3, ?3)",
            params![m.id, envelope, now],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Queues control envelopes (receipts) in the outbox: sent and resent like chat, ACKed
    /// or dropped by their fp, but with no visible message behind them.
    pub fn queue_signals(&self, envelopes: &[Envelope], now: i64) -> Result<()> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        for env in envelopes {
            let Some(fp) = env.fp.as_deref() else {
                continue;
            };
            tx.execute(
                "INSERT OR IGNORE INTO outbox (id, envelope, attempts, last_sent_at, created_at)
                 VALUES (?1, ?2, 0, ?3, ?3)",
                params![fp, env.encode(), now],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Every outbox entry, oldest first.
    pub fn outbox(&self) -> Result<Vec<OutboxEntry>> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT id, envelope, attempts, last_sent_at, created_at, parked FROM outbox
             ORDER BY created_at, id",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, u32>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, bool>(5)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, env, attempts, last_sent_at, created_at, parked)| {
                match Envelope::decode_unbounded(env.as_bytes()) {
                    Ok(envelope) => Some(OutboxEntry {
                        id,
                        envelope,
                        attempts,
                        last_sent_at,
                        created_at,
                        parked,
                    }),
                    Err(e) => {
                        tracing::warn!(id, error = %e, "skipping an unreadable outbox entry");
                        None
                    }
                }
            })
            .collect())
    }

    /// Records that `ids` went on the wire at `now`: `fresh` (first send on a new
    /// connection) resets attempts to 0, otherwise attempts grow by one.
    pub fn outbox_sent(&self, ids: &[String], now: i64, fresh: bool) -> Result<()> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "UPDATE outbox SET last_sent_at = ?2,
                   attempts = CASE WHEN ?3 THEN 0 ELSE attempts + 1 END,
                   parked = CASE WHEN ?3 THEN 0 ELSE parked END WHERE id = ?1",
            )?;
            for id in ids {
                stmt.execute(params![id, now, fresh])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Postpones an entry's next resend (server busy, rate limited). The server answered,
    /// so the link works: the attempts that detect a dead link start over, and a message
    /// refused again and again is resent later, never marked failed for it.
    pub fn outbox_touch(&self, id: &str, now: i64) -> Result<()> {
        self.lock().execute(
            "UPDATE outbox SET last_sent_at = ?2, attempts = 0 WHERE id = ?1",
            params![id, now],
        )?;
        Ok(())
    }

    /// The server acknowledged `fp`: drop it from the outbox and mark it Sent.
    /// Returns the message if its status changed.
    pub fn ack(&self, fp: &str) -> Result<Option<Message>> {
        self.settle(
            fp,
            "DELETE FROM outbox WHERE id = ?1",
            "UPDATE messages SET status = 'sent', fail_code = NULL, fail_reason = NULL
             WHERE id = ?1 AND outgoing = 1 AND status IN ('sending', 'failed')",
            params![fp],
        )
    }

    /// QoS got no ACK after its retries on this connection: show the message as Failed
    /// (code 0) but keep it in the outbox, parked, so the next login sends it again. A link
    /// that looks alive but carries nothing must not lose messages.
    /// Returns the message if its status changed.
    pub fn park(&self, fp: &str, reason: &str) -> Result<Option<Message>> {
        self.settle(
            fp,
            "UPDATE outbox SET parked = 1 WHERE id = ?1",
            "UPDATE messages SET status = 'failed', fail_code = 0, fail_reason = ?2
             WHERE id = ?1 AND outgoing = 1 AND status = 'sending'",
            params![fp, reason],
        )
    }

    /// Turns parked entries back to Sending (they are about to be resent after a login).
    /// Returns the messages whose status changed.
    pub fn unpark_all(&self) -> Result<Vec<Message>> {
        let ids: Vec<String> = {
            let mut conn = self.lock();
            let tx = conn.transaction()?;
            let ids = tx
                .prepare("SELECT id FROM outbox WHERE parked = 1")?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?;
            tx.execute(
                "UPDATE messages SET status = 'sending', fail_code = NULL, fail_reason = NULL
                 WHERE outgoing = 1 AND status = 'failed'
                   AND id IN (SELECT id FROM outbox WHERE parked = 1)",
                [],
            )?;
            tx.execute("UPDATE outbox SET parked = 0 WHERE parked = 1", [])?;
            tx.commit()?;
            ids
        };
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.extend(self.message(&id)?);
        }
        Ok(out)
    }

    /// The message failed for good: drop it from active resending and mark it Failed.
    /// Returns the message if its status changed.
    pub fn fail(&self, fp: &str, code: i32, reason: &str) -> Result<Option<Message>> {
        self.settle(
            fp,
            "DELETE FROM outbox WHERE id = ?1",
            "UPDATE messages SET status = 'failed', fail_code = ?2, fail_reason = ?3
             WHERE id = ?1 AND outgoing = 1 AND status = 'sending'",
            params![fp, code, reason],
        )
    }

    /// In one transaction: `outbox_sql` (bound to `fp`) on the outbox entry and
    /// `message_sql` on the message. Returns the message if its status changed.
    fn settle(
        &self,
        fp: &str,
        outbox_sql: &str,
        message_sql: &str,
        message_params: impl rusqlite::Params,
    ) -> Result<Option<Message>> {
        let changed = {
            let mut conn = self.lock();
            let tx = conn.transaction()?;
            tx.execute(outbox_sql, [fp])?;
            let n = tx.execute(message_sql, message_params)?;
            tx.commit()?;
            n > 0
        };
        if changed {
            self.message(fp)
        } else {
            Ok(None)
        }
    }

    /// Puts a failed (or stuck sending) own message back into the outbox as Sending.
    pub fn requeue(&self, id: &str, now: i64) -> Result<Message> {
        let m = self
            .message(id)?
            .ok_or_else(|| Error::MessageNotFound(id.to_owned()))?;
        if !m.outgoing
            || !matches!(
                m.status,
                MessageStatus::Failed { .. } | MessageStatus::Sending
            )
        {
            return Err(Error::NotRetryable);
        }
        if self.upload(id)?.is_some() {
            // Its files are not on the server yet: only the uploader may release it.
            return Err(Error::NotRetryable);
        }
        let envelope = m.to_envelope().encode();
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        tx.execute(
            "UPDATE messages SET status = 'sending', fail_code = NULL, fail_reason = NULL
             WHERE id = ?1",
            [id],
        )?;
        let created: Option<i64> = tx
            .query_row("SELECT created_at FROM outbox WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?;
        tx.execute(
            "INSERT OR REPLACE INTO outbox (id, envelope, attempts, last_sent_at, created_at)
             VALUES (?1, ?2, 0, ?3, ?4)",
            params![id, envelope, now, created.unwrap_or(now)],
        )?;
        tx.commit()?;
        Ok(Message {
            status: MessageStatus::Sending,
            ..m
        })
    }
}
