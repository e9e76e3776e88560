//! What the search index needs from the store: the index journal, the "indexed up to"
//! watermark, new rows in insertion order, and the history window around a search hit.
//!
//! SQLite stays the truth. New messages are found by `rowid` above what the indexer has
//! read; deletes and in-place rewrites (a recalled notice, a text fallback upgraded to its
//! full form) are written to `search_journal` by triggers in the same transaction as the
//! change, so nothing that changes `messages` can be missed by the indexer, whatever code
//! path made the change and whenever the app crashed. Two `sync_state` keys: the committed
//! watermark [`WATERMARK_KEY`] (every row up to it is in the committed index; survives a
//! restart) and the read mark [`READ_KEY`] (every row up to it has been handed to the
//! indexer). SQLite gives a new row `MAX(rowid) + 1`, so after the newest rows are deleted a
//! later insert can reuse a rowid the indexer already passed: the insert trigger journals
//! any row that appears at or below the read mark.

use rusqlite::{params, OptionalExtension};

use super::messages::{from_row, COLUMNS};
use super::Store;
use crate::error::{Error, Result};
use crate::model::Message;

/// `sync_state` key: the highest `messages.rowid` whose row is in the committed index.
pub const WATERMARK_KEY: &str = "search_indexed_rowid";

/// Most rows `history_around` returns on each side.
pub const MAX_AROUND: u32 = 500;

/// `sync_state` key: the highest `messages.rowid` handed to the indexer (committed or not).
pub const READ_KEY: &str = "search_read_rowid";

/// The journal table and its triggers. Idempotent; installed when the index is opened.
const JOURNAL: &str = "
CREATE TABLE IF NOT EXISTS search_journal (
    -- AUTOINCREMENT: a seq is never reused once the table was emptied, so the indexer's
    -- applied-up-to mark stays valid.
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS search_journal_on_delete AFTER DELETE ON messages BEGIN
    INSERT INTO search_journal (message_id) VALUES (old.id);
END;
CREATE TRIGGER IF NOT EXISTS search_journal_on_rewrite
AFTER UPDATE OF typeu, content ON messages BEGIN
    INSERT INTO search_journal (message_id) VALUES (new.id);
END;
CREATE TRIGGER IF NOT EXISTS search_journal_on_reused_rowid AFTER INSERT ON messages
WHEN new.rowid <= IFNULL(
    (SELECT CAST(value AS INTEGER) FROM sync_state WHERE key = 'search_read_rowid'), 0)
BEGIN
    INSERT INTO search_journal (message_id) VALUES (new.id);
END;
";

/// One row read for indexing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexRow {
    pub rowid: i64,
    pub message: Message,
}

/// A journal entry: the message `message_id` was deleted or rewritten.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalEntry {
    pub seq: i64,
    pub message_id: String,
}

impl Store {
    /// Creates the search journal and its triggers if they do not exist yet.
    pub fn install_search_journal(&self) -> Result<()> {
        let conn = self.lock();
        // A journal from a development build reused seqs: drop it and forget what was
        // indexed, which makes the next open rebuild the index.
        let old: Option<String> = conn
            .query_row(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'search_journal'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        if old.is_some_and(|sql| !sql.contains("AUTOINCREMENT")) {
            conn.execute_batch(&format!(
                "DROP TABLE search_journal;
                 DELETE FROM sync_state WHERE key IN ('{WATERMARK_KEY}', '{READ_KEY}');"
            ))?;
        }
        conn.execute_batch(JOURNAL)?;
        Ok(())
    }

    /// The persisted watermark (0 = nothing indexed).
    pub fn search_watermark(&self) -> Result<i64> {
        Ok(self
            .state(WATERMARK_KEY)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }

    /// Records that every row up to `rowid` is in the committed index.
    pub fn set_search_watermark(&self, rowid: i64) -> Result<()> {
        self.set_state(WATERMARK_KEY, &rowid.to_string())
    }

    /// Forgets everything indexed: watermark 0 and an empty journal (before a rebuild).
    pub fn reset_search_progress(&self) -> Result<()> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        tx.execute("DELETE FROM search_journal", [])?;
        for key in [WATERMARK_KEY, READ_KEY] {
            tx.execute(
                "INSERT INTO sync_state (key, value) VALUES (?1, '0')
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [key],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Starts reading again from the committed watermark (after a restart: whatever was
    /// read but not committed is read again). Returns the watermark.
    pub fn rewind_search_reads(&self) -> Result<i64> {
        let watermark = self.search_watermark()?;
        self.set_state(READ_KEY, &watermark.to_string())?;
        Ok(watermark)
    }

    /// Up to `limit` messages with `rowid > after`, in rowid (= insertion) order, for the
    /// indexer: the read mark moves to the last one in the same locked step, so a row that
    /// later reuses one of these rowids is journaled.
    pub fn read_rows_after(&self, after: i64, limit: usize) -> Result<Vec<IndexRow>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let conn = self.lock();
        let rows = conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS}, rowid FROM messages WHERE rowid > ?1 ORDER BY rowid LIMIT ?2"
            ))?
            .query_map(params![after, limit], |r| {
                Ok(IndexRow {
                    message: from_row(r)?,
                    rowid: r.get(12)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        if let Some(last) = rows.last() {
            conn.prepare_cached(
                "INSERT INTO sync_state (key, value) VALUES (?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value
                 WHERE CAST(sync_state.value AS INTEGER) < CAST(excluded.value AS INTEGER)",
            )?
            .execute(params![READ_KEY, last.rowid.to_string()])?;
        }
        Ok(rows)
    }

    /// How many messages have `rowid > after`, and the highest rowid (0 if none).
    pub fn rows_after_count(&self, after: i64) -> Result<(u64, i64)> {
        Ok(self.lock().query_row(
            "SELECT COUNT(*), IFNULL(MAX(rowid), 0) FROM messages WHERE rowid > ?1",
            [after],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    }

    /// Up to `limit` journal entries after `after`, oldest first.
    pub fn search_journal(&self, after: i64, limit: usize) -> Result<Vec<JournalEntry>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let conn = self.lock();
        let rows = conn
            .prepare_cached(
                "SELECT seq, message_id FROM search_journal WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )?
            .query_map([after, limit], |r| {
                Ok(JournalEntry {
                    seq: r.get(0)?,
                    message_id: r.get(1)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Drops the journal entries up to `seq` (they are in the committed index).
    pub fn trim_search_journal(&self, seq: i64) -> Result<()> {
        self.lock()
            .execute("DELETE FROM search_journal WHERE seq <= ?1", [seq])?;
        Ok(())
    }

    /// The message `message_id` of `conversation_id` with up to `limit` newer and `limit`
    /// older messages of the same conversation, newest first, ordered by `(sent_at, id)`
    /// like [`Store::history`]. Both sides are keyset queries on the conversation index.
    /// `limit` is capped at [`MAX_AROUND`]. An id not stored in that conversation is
    /// [`Error::MessageNotFound`].
    pub fn history_around(
        &self,
        conversation_id: &str,
        message_id: &str,
        limit: u32,
    ) -> Result<Vec<Message>> {
        let limit = i64::from(limit.min(MAX_AROUND));
        let conn = self.lock();
        let centre = conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM messages WHERE id = ?1 AND conversation_id = ?2"
            ))?
            .query_row([message_id, conversation_id], from_row)
            .optional()?
            .ok_or_else(|| Error::MessageNotFound(message_id.to_owned()))?;
        let mut newer = conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM messages WHERE conversation_id = ?1 \
                 AND (sent_at, id) > (?2, ?3) ORDER BY sent_at ASC, id ASC LIMIT ?4"
            ))?
            .query_map(
                params![conversation_id, centre.sent_at, centre.id, limit],
                from_row,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let older = conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM messages WHERE conversation_id = ?1 \
                 AND (sent_at, id) < (?2, ?3) ORDER BY sent_at DESC, id DESC LIMIT ?4"
            ))?
            .query_map(
                params![conversation_id, centre.sent_at, centre.id, limit],
                from_row,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        newer.reverse();
        newer.push(centre);
        newer.extend(older);
        Ok(newer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::MessageStatus;

    fn msg(id: &str, conversation: &str, sent_at: i64, text: &str) -> Message {
        Message {
            id: id.into(),
            conversation_id: conversation.into(),
            from: conversation.into(),
            to: "me".into(),
            typeu: 1,
            content: text.into(),
            sent_at,
            seq: None,
            status: MessageStatus::Received,
            outgoing: false,
        }
    }

    fn ids(ms: &[Message]) -> Vec<&str> {
        ms.iter().map(|m| m.id.as_str()).collect()
    }

    #[test]
    fn history_around_is_the_window_newest_first_across_equal_timestamps() {
        let s = Store::open_in_memory().expect("open");
        // 12 messages, 3 per timestamp, inserted out of order, plus another conversation.
        let batch: Vec<Message> = (0..12)
            .map(|i| (i * 5) % 12)
            .map(|i| msg(&format!("m{i:02}"), "7", 100 + i / 3, "x"))
            .collect();
        s.insert_messages(&batch).expect("insert");
        s.insert_message(&msg("other", "8", 102, "elsewhere"))
            .expect("other");
        // Sorted by (sent_at, id) the ids are m00..m11.
        let got = s.history_around("7", "m05", 3).expect("around");
        assert_eq!(ids(&got), ["m08", "m07", "m06", "m05", "m04", "m03", "m02"]);
        // At the edges the window is short on one side.
        let got = s.history_around("7", "m10", 4).expect("around");
        assert_eq!(ids(&got), ["m11", "m10", "m09", "m08", "m07", "m06"]);
        let got = s.history_around("7", "m00", 2).expect("around");
        assert_eq!(ids(&got), ["m02", "m01", "m00"]);
        assert_eq!(ids(&s.history_around("7", "m03", 0).expect("0")), ["m03"]);
        // The window agrees with keyset history paging.
        let page = s
            .history(
                "7",
                Some(&s.message("m05").expect("q").expect("m").cursor()),
                3,
            )
            .expect("page");
        assert_eq!(ids(&page), ["m04", "m03", "m02"]);
    }

    #[test]
    fn history_around_an_unknown_or_foreign_message_is_not_found() {
        let s = Store::open_in_memory().expect("open");
        s.insert_message(&msg("a", "7", 1, "x")).expect("i");
        assert!(matches!(
            s.history_around("7", "nope", 5),
            Err(Error::MessageNotFound(id)) if id == "nope"
        ));
        assert!(matches!(
            s.history_around("8", "a", 5),
            Err(Error::MessageNotFound(_))
        ));
    }

    #[test]
    fn history_around_caps_the_window() {
        let s = Store::open_in_memory().expect("open");
        let batch: Vec<Message> = (0..(MAX_AROUND as i64 + 10))
            .map(|i| msg(&format!("m{i:04}"), "7", i, "x"))
            .collect();
        s.insert_messages(&batch).expect("insert");
        let got = s.history_around("7", "m0000", u32::MAX).expect("around");
        assert_eq!(got.len(), MAX_AROUND as usize + 1);
    }

    #[test]
    fn rows_come_in_insertion_order_above_the_watermark() {
        let s = Store::open_in_memory().expect("open");
        s.install_search_journal().expect("journal");
        s.insert_messages(&[msg("b", "7", 5, "x"), msg("a", "7", 1, "y")])
            .expect("i");
        s.insert_message(&msg("c", "8", 3, "z")).expect("i");
        let rows = s.read_rows_after(0, 10).expect("rows");
        assert_eq!(
            rows.iter()
                .map(|r| r.message.id.as_str())
                .collect::<Vec<_>>(),
            ["b", "a", "c"]
        );
        assert!(rows.windows(2).all(|w| w[0].rowid < w[1].rowid));
        assert_eq!(
            s.read_rows_after(rows[0].rowid, 1).expect("r")[0]
                .message
                .id,
            "a"
        );
        assert_eq!(
            s.rows_after_count(rows[0].rowid).expect("n"),
            (2, rows[2].rowid)
        );
        assert_eq!(s.search_watermark().expect("w"), 0);
        s.set_search_watermark(rows[1].rowid).expect("set");
        assert_eq!(s.search_watermark().expect("w"), rows[1].rowid);
    }

    #[test]
    fn deletes_and_rewrites_are_journaled_but_status_changes_are_not() {
        let s = Store::open_in_memory().expect("open");
        s.install_search_journal().expect("journal");
        s.install_search_journal().expect("twice is fine");
        let own = Message::new_outgoing("me", "7", 1, "mine", 1);
        s.insert_outgoing(&own, 1).expect("own");
        s.ack(&own.id).expect("ack");
        s.insert_message(&msg("gone", "7", 2, "bye")).expect("i");
        assert!(s.search_journal(0, 10).expect("j").is_empty());

        s.delete_message("gone").expect("delete");
        let sticker = hongyan_protocol::kinds::STICKER;
        let fallback = msg(
            "st",
            "7",
            3,
            hongyan_protocol::kinds::text_fallback(sticker),
        );
        s.insert_message(&fallback).expect("i");
        s.upgrade_fallback(&Message {
            typeu: sticker,
            content: "{}".into(),
            ..fallback
        })
        .expect("upgrade")
        .expect("upgraded");
        let journal = s.search_journal(0, 10).expect("j");
        assert_eq!(
            journal
                .iter()
                .map(|e| e.message_id.as_str())
                .collect::<Vec<_>>(),
            ["gone", "st"]
        );
        s.trim_search_journal(journal[0].seq).expect("trim");
        assert_eq!(s.search_journal(0, 10).expect("j").len(), 1);
        s.reset_search_progress().expect("reset");
        assert!(s.search_journal(0, 10).expect("j").is_empty());
        // Seqs keep growing after the journal was emptied: the indexer's mark stays valid.
        s.delete_message(&own.id).expect("delete");
        let next = s.search_journal(journal[1].seq, 10).expect("j");
        assert_eq!(next.len(), 1);
        assert!(next[0].seq > journal[1].seq);
    }

    #[test]
    fn a_journal_that_reused_seqs_is_replaced_and_forces_a_rebuild() {
        let s = Store::open_in_memory().expect("open");
        s.with_connection(|c| {
            c.execute_batch(
                "CREATE TABLE search_journal (seq INTEGER PRIMARY KEY, message_id TEXT NOT NULL)",
            )
        })
        .expect("old journal");
        s.set_search_watermark(9).expect("w");
        s.install_search_journal().expect("upgrade");
        assert_eq!(
            s.search_watermark().expect("w"),
            0,
            "forgotten: the index rebuilds"
        );
        let sql: String = s
            .with_connection(|c| {
                c.query_row(
                    "SELECT sql FROM sqlite_master WHERE name = 'search_journal'",
                    [],
                    |r| r.get(0),
                )
            })
            .expect("sql");
        assert!(sql.contains("AUTOINCREMENT"), "{sql}");
        s.set_search_watermark(9).expect("w");
        s.install_search_journal().expect("again");
        assert_eq!(
            s.search_watermark().expect("w"),
            9,
            "a current journal is kept"
        );
    }

    #[test]
    fn a_rowid_reused_below_the_read_mark_is_journaled() {
        let s = Store::open_in_memory().expect("open");
        s.install_search_journal().expect("journal");
        s.insert_messages(&[
            msg("a", "7", 1, "x"),
            msg("b", "7", 2, "y"),
            msg("c", "7", 3, "z"),
        ])
        .expect("i");
        let rows = s.read_rows_after(0, 10).expect("rows");
        assert_eq!(
            s.state(READ_KEY).expect("r"),
            Some(rows[2].rowid.to_string())
        );
        // Deleting the newest row lets the next insert take its rowid again.
        s.delete_message("c").expect("delete");
        s.insert_message(&msg("d", "7", 4, "new")).expect("i");
        assert!(s.read_rows_after(rows[2].rowid, 10).expect("r").is_empty());
        let journal = s.search_journal(0, 10).expect("j");
        assert_eq!(
            journal
                .iter()
                .map(|e| e.message_id.as_str())
                .collect::<Vec<_>>(),
            ["c", "d"]
        );
        // After a restart reading starts again at the committed watermark.
        s.set_search_watermark(rows[0].rowid).expect("commit");
        assert_eq!(s.rewind_search_reads().expect("rewind"), rows[0].rowid);
        let again = s.read_rows_after(rows[0].rowid, 10).expect("r");
        assert_eq!(
            again
                .iter()
                .map(|r| r.message.id.as_str())
                .collect::<Vec<_>>(),
            ["b", "d"]
        );
        // Reading an older range never moves the read mark back.
        s.read_rows_after(0, 1).expect("r");
        assert_eq!(
            s.state(READ_KEY).expect("r"),
            Some(again[1].rowid.to_string())
        );
    }
}
