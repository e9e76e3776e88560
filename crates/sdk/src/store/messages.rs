//! Messages: insert with dedupe by id, status updates, keyset history.

use rusqlite::{params, OptionalExtension, Row, Transaction};

use super::Store;
use crate::error::Result;
use crate::model::{Conversation, HistoryCursor, Message, MessageStatus};

/// `(sender, message id)`: what a receipt acknowledges.
pub type SenderAndId = (String, String);

pub(super) const COLUMNS: &str =
    "id, conversation_id, sender, recipient, typeu, content, sent_at, \
     seq, status, fail_code, fail_reason, outgoing";

pub(super) fn from_row(r: &Row<'_>) -> rusqlite::Result<Message> {
    let status: String = r.get(8)?;
    Ok(Message {
        id: r.get(0)?,
        conversation_id: r.get(1)?,
        from: r.get(2)?,
        to: r.get(3)?,
        typeu: r.get(4)?,
        content: r.get(5)?,
        sent_at: r.get(6)?,
        seq: r.get(7)?,
        status: MessageStatus::from_parts(&status, r.get(9)?, r.get(10)?),
        outgoing: r.get(11)?,
    })
}

fn failure(status: &MessageStatus) -> (Option<i32>, Option<&str>) {
    match status {
        MessageStatus::Failed { code, reason } => (Some(*code), Some(reason.as_str())),
        _ => (None, None),
    }
}

/// Inserts `m` unless its id exists; on insert, updates its conversation.
/// Returns whether it was new.
pub(super) fn insert_in(tx: &Transaction<'_>, m: &Message) -> rusqlite::Result<bool> {
    let (code, reason) = failure(&m.status);
    let inserted =
        tx.prepare_cached(
            "INSERT OR IGNORE INTO messages (id, conversation_id, sender, recipient, typeu, \
             content, sent_at, seq, status, fail_code, fail_reason, outgoing, stored_at, unread) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        )?
        .execute(params![
            m.id,
            m.conversation_id,
            m.from,
            m.to,
            m.typeu,
            m.content,
            m.sent_at,
            m.seq,
            m.status.as_str(),
            code,
            reason,
            m.outgoing,
            hongyan_protocol::now_ms(),
            m.counts_as_unread(),
        ])? == 1;
    if inserted {
        super::conversations::touch(tx, m)?;
    }
    Ok(inserted)
}

impl Store {
    /// Stores one message in its own transaction. Returns whether it was new
    /// (`false` = a message with this id was already stored; nothing changed).
    pub fn insert_message(&self, m: &Message) -> Result<bool> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let new = insert_in(&tx, m)?;
        tx.commit()?;
        Ok(new)
    }

    /// Stores a batch in one transaction. Returns the messages that were new, in input order.
    pub fn insert_messages(&self, batch: &[Message]) -> Result<Vec<Message>> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let mut fresh = Vec::new();
        for m in batch {
            if insert_in(&tx, m)? {
                fresh.push(m.clone());
            }
        }
        tx.commit()?;
        Ok(fresh)
    }

    /// One message by id.
    pub fn message(&self, id: &str) -> Result<Option<Message>> {
        Ok(self
            .lock()
            .prepare_cached(&format!("SELECT {COLUMNS} FROM messages WHERE id = ?1"))?
            .query_row([id], from_row)
            .optional()?)
    }

    /// Sets a message's status unconditionally. Returns the updated message.
    pub fn set_status(&self, id: &str, status: &MessageStatus) -> Result<Option<Message>> {
        let (code, reason) = failure(status);
        let n = self.lock().execute(
            "UPDATE messages SET status = ?2, fail_code = ?3, fail_reason = ?4 WHERE id = ?1",
            params![id, status.as_str(), code, reason],
        )?;
        if n == 0 {
            return Ok(None);
        }
        self.message(id)
    }

    /// Moves an own message forward (Sent → Delivered → Read), never backwards.
    /// Returns the message if its status changed.
    pub fn advance_status(&self, id: &str, status: &MessageStatus) -> Result<Option<Message>> {
        match self.message(id)? {
            Some(m)
                if m.outgoing
                    && !matches!(m.status, MessageStatus::Failed { .. })
                    && m.status.rank() < status.rank() =>
            {
                self.set_status(id, status)
            }
            _ => Ok(None),
        }
    }

    /// Up to `limit` messages of a conversation older than `before` (all if `None`),
    /// newest first, ordered by `(sent_at, id)`. Pass the last message's
    /// [`Message::cursor`] to get the next page.
    pub fn history(
        &self,
        conversation_id: &str,
        before: Option<&HistoryCursor>,
        limit: usize,
    ) -> Result<Vec<Message>> {
        let conn = self.lock();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = match before {
            Some(c) => conn
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM messages WHERE conversation_id = ?1 \
                     AND (sent_at, id) < (?2, ?3) ORDER BY sent_at DESC, id DESC LIMIT ?4"
                ))?
                .query_map(params![conversation_id, c.sent_at, c.id, limit], from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?,
            None => conn
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM messages WHERE conversation_id = ?1 \
                     ORDER BY sent_at DESC, id DESC LIMIT ?2"
                ))?
                .query_map(params![conversation_id, limit], from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?,
        };
        Ok(rows)
    }

    /// Deletes a message (a recalled notice) and repairs its conversation: the newest
    /// remaining message becomes the last one and an unread message stops counting.
    /// Returns the deleted message and the conversation after the change.
    pub fn delete_message(&self, id: &str) -> Result<Option<(Message, Option<Conversation>)>> {
        let Some(m) = self.message(id)? else {
            return Ok(None);
        };
        let unread: bool = {
            let mut conn = self.lock();
            let tx = conn.transaction()?;
            let unread: bool =
                tx.query_row("SELECT unread FROM messages WHERE id = ?1", [id], |r| {
                    r.get(0)
                })?;
            tx.execute("DELETE FROM messages WHERE id = ?1", [id])?;
            let last = tx
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM messages WHERE conversation_id = ?1 \
                     ORDER BY sent_at DESC, id DESC LIMIT 1"
                ))?
                .query_row([&m.conversation_id], from_row)
                .optional()?;
            tx.execute(
                "UPDATE conversations SET last_message_id = ?2, last_text = ?3,
                   unread = MAX(0, unread - ?4) WHERE id = ?1",
                params![
                    m.conversation_id,
                    last.as_ref().map(|l| l.id.clone()),
                    last.as_ref().map(Message::preview),
                    unread
                ],
            )?;
            tx.commit()?;
            unread
        };
        tracing::debug!(id, unread, "message deleted");
        let conversation = self.conversation(&m.conversation_id)?;
        Ok(Some((m, conversation)))
    }

    /// Marks a conversation read: its unread count goes to 0 and the messages that were
    /// unread are returned as `(sender, id)` pairs of those that want read receipts.
    pub fn mark_read_collect(
        &self,
        conversation_id: &str,
    ) -> Result<(Option<Conversation>, Vec<SenderAndId>)> {
        let newly_read = {
            let mut conn = self.lock();
            let tx = conn.transaction()?;
            let rows = tx
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM messages WHERE conversation_id = ?1 AND unread = 1 \
                     ORDER BY sent_at, id"
                ))?
                .query_map([conversation_id], from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            tx.execute(
                "UPDATE messages SET unread = 0 WHERE conversation_id = ?1 AND unread = 1",
                [conversation_id],
            )?;
            tx.execute(
                "UPDATE conversations SET unread = 0 WHERE id = ?1",
                [conversation_id],
            )?;
            tx.commit()?;
            rows
        };
        let pairs = newly_read
            .into_iter()
            .filter(Message::wants_receipts)
            .map(|m| (m.from, m.id))
            .collect();
        Ok((self.conversation(conversation_id)?, pairs))
    }

    /// Replaces a stored text fallback (what an older core_level received) by the full
    /// message `m` with the same id. Returns the message if it was a fallback.
    pub fn upgrade_fallback(&self, m: &Message) -> Result<Option<Message>> {
        let fallback = hongyan_protocol::kinds::text_fallback(m.typeu);
        let n = {
            let mut conn = self.lock();
            let tx = conn.transaction()?;
            let n = tx.execute(
                "UPDATE messages SET typeu = ?2, content = ?3
                 WHERE id = ?1 AND typeu IN (-1, 1) AND content = ?4 AND sender = ?5",
                params![m.id, m.typeu, m.content, fallback, m.from],
            )?;
            if n > 0 {
                tx.execute(
                    "UPDATE conversations SET last_text = ?2 WHERE last_message_id = ?1",
                    params![m.id, m.preview()],
                )?;
            }
            tx.commit()?;
            n
        };
        if n == 0 {
            return Ok(None);
        }
        self.message(&m.id)
    }

    /// Number of stored messages.
    pub fn message_count(&self) -> Result<u64> {
        Ok(self
            .lock()
            .query_row("SELECT COUNT(*) FROM messages", [], |r| r.get(0))?)
    }
}
