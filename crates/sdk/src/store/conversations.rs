//! The conversation list: last message, unread count, activity order.

use rusqlite::{params, OptionalExtension, Row, Transaction};

use super::Store;
use crate::error::Result;
use crate::model::{Conversation, Message};

/// Records a newly stored message in its conversation: it becomes the last message if it
/// is the newest, and a received message counts as unread.
pub(super) fn touch(tx: &Transaction<'_>, m: &Message) -> rusqlite::Result<()> {
    let unread = i64::from(m.counts_as_unread());
    let preview = if m.typeu == hongyan_protocol::kinds::GROUP_EVENT {
        m.preview_with(|id| super::users::display_name_in(tx, id))
    } else {
        m.preview()
    };
    tx.prepare_cached(
        "INSERT INTO conversations (id, last_message_id, last_text, last_at, unread)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(id) DO UPDATE SET
           last_message_id = CASE WHEN excluded.last_at >= conversations.last_at
                             THEN excluded.last_message_id ELSE conversations.last_message_id END,
           last_text = CASE WHEN excluded.last_at >= conversations.last_at
                       THEN excluded.last_text ELSE conversations.last_text END,
           last_at = MAX(conversations.last_at, excluded.last_at),
           unread = conversations.unread + excluded.unread",
    )?
    .execute(params![m.conversation_id, m.id, preview, m.sent_at, unread])?;
    Ok(())
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<Conversation> {
    Ok(Conversation {
        id: r.get(0)?,
        last_message_id: r.get(1)?,
        last_text: r.get(2)?,
        last_at: r.get(3)?,
        unread: r.get(4)?,
    })
}

const COLUMNS: &str = "id, last_message_id, last_text, last_at, unread";

impl Store {
    /// All conversations, most recently active first.
    pub fn conversations(&self) -> Result<Vec<Conversation>> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM conversations ORDER BY last_at DESC, id"
        ))?;
        let rows = stmt
            .query_map([], from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// One conversation.
    pub fn conversation(&self, id: &str) -> Result<Option<Conversation>> {
        Ok(self
            .lock()
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM conversations WHERE id = ?1"
            ))?
            .query_row([id], from_row)
            .optional()?)
    }

    /// Sets the unread count to 0. Returns the conversation (None if unknown).
    pub fn mark_read(&self, id: &str) -> Result<Option<Conversation>> {
        Ok(self.mark_read_collect(id)?.0)
    }
}
