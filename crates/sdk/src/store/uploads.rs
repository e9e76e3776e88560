//! Image messages waiting for their files to upload (table `uploads`, schema v3).
//!
//! States of an own image message:
//! - *held*: status `sending`, an `uploads` row in state `pending`, no outbox row. The
//!   uploader runs (now, or after the next login when the app was closed).
//! - *released*: the upload succeeded; the row is gone and the envelope is in the outbox,
//!   from where the engine sends and resends it like any text (QoS, parking).
//! - *upload failed*: status `failed` {code 0, "upload failed: …"}, the row in state
//!   `failed`; [`Store::restart_upload`] (retry) makes it held again.

use hongyan_protocol::Envelope;
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::messages::insert_in;
use super::Store;
use crate::error::{Error, Result};
use crate::model::{Message, MessageStatus};

/// One file an image message needs on the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadFile {
    pub sha256: String,
    pub size: u64,
}

/// A held image message and the files it waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingUpload {
    pub message_id: String,
    pub conversation_id: String,
    /// The thumbnail first, then the image (one entry when they are the same file).
    pub files: Vec<UploadFile>,
    /// `false` once the upload failed (then only a retry restarts it).
    pub pending: bool,
}

impl Store {
    /// Stores an own message whose `files` must be uploaded before its envelope may go out:
    /// the message (status Sending) and its upload row in one transaction, no outbox row.
    pub fn insert_outgoing_held(&self, m: &Message, files: &[UploadFile], now: i64) -> Result<()> {
        let files = serde_json::to_string(files)
            .map_err(|e| Error::Protocol(format!("upload files: {e}")))?;
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        if !insert_in(&tx, m)? {
            return Err(Error::InvalidRequest(format!(
                "message {} already exists",
                m.id
            )));
        }
        tx.execute(
            "INSERT INTO uploads (message_id, files, state, created_at) VALUES (?1, ?2, 'pending', ?3)",
            params![m.id, files, now],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The upload row of `message_id`, if it is held or its upload failed.
    pub fn upload(&self, message_id: &str) -> Result<Option<PendingUpload>> {
        let conn = self.lock();
        let row = conn
            .query_row(
                "SELECT u.message_id, m.conversation_id, u.files, u.state FROM uploads u
                 JOIN messages m ON m.id = u.message_id WHERE u.message_id = ?1",
                [message_id],
                read_upload,
            )
            .optional()?;
        row.map(parse_upload).transpose()
    }

    /// Every upload that should run now (state `pending`), oldest first.
    pub fn pending_uploads(&self) -> Result<Vec<PendingUpload>> {
        let conn = self.lock();
        let rows = conn
            .prepare_cached(
                "SELECT u.message_id, m.conversation_id, u.files, u.state FROM uploads u
                 JOIN messages m ON m.id = u.message_id
                 WHERE u.state = 'pending' ORDER BY u.created_at, u.message_id",
            )?
            .query_map([], read_upload)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(parse_upload).collect()
    }

    /// The upload of `message_id` succeeded: drop its row and put its envelope into the
    /// outbox (one transaction). Returns the envelope to send now; `None` when there was
    /// no held upload (already released, or the message is gone).
    pub fn release_upload(&self, message_id: &str, now: i64) -> Result<Option<Envelope>> {
        let Some(m) = self.message(message_id)? else {
            return Ok(None);
        };
        let envelope = m.to_envelope();
        let encoded = envelope.encode();
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let held = tx.execute(
            "DELETE FROM uploads WHERE message_id = ?1 AND state = 'pending'",
            [message_id],
        )? == 1;
        if !held {
            return Ok(None);
        }
        tx.execute(
            "INSERT OR REPLACE INTO outbox (id, envelope, attempts, last_sent_at, created_at)
             VALUES (?1, ?2, 0, ?3, ?3)",
            params![message_id, encoded, now],
        )?;
        tx.commit()?;
        Ok(Some(envelope))
    }

    /// The upload of `message_id` failed: the message shows Failed {0, `reason`} and waits
    /// for a retry. Returns the message if its status changed.
    pub fn fail_upload(&self, message_id: &str, reason: &str) -> Result<Option<Message>> {
        let changed = {
            let mut conn = self.lock();
            let tx = conn.transaction()?;
            let held = tx.execute(
                "UPDATE uploads SET state = 'failed' WHERE message_id = ?1 AND state = 'pending'",
                [message_id],
            )? == 1;
            let n = if held {
                tx.execute(
                    "UPDATE messages SET status = 'failed', fail_code = 0, fail_reason = ?2
                     WHERE id = ?1 AND outgoing = 1 AND status = 'sending'",
                    params![message_id, reason],
                )?
            } else {
                0
            };
            tx.commit()?;
            n > 0
        };
        if changed {
            self.message(message_id)
        } else {
            Ok(None)
        }
    }

    /// Retry of an image message whose upload failed (or is still held): back to Sending
    /// with its upload pending. Returns the message and its upload; `None` when the message
    /// has no upload row (then it is retried through the outbox like text).
    pub fn restart_upload(&self, message_id: &str) -> Result<Option<(Message, PendingUpload)>> {
        let Some(upload) = self.upload(message_id)? else {
            return Ok(None);
        };
        let before = self
            .message(message_id)?
            .ok_or_else(|| Error::MessageNotFound(message_id.to_owned()))?;
        if !retryable(&before) {
            return Err(Error::NotRetryable);
        }
        {
            let mut conn = self.lock();
            let tx = conn.transaction()?;
            tx.execute(
                "UPDATE uploads SET state = 'pending' WHERE message_id = ?1",
                [message_id],
            )?;
            tx.execute(
                "UPDATE messages SET status = 'sending', fail_code = NULL, fail_reason = NULL
                 WHERE id = ?1 AND outgoing = 1",
                [message_id],
            )?;
            tx.commit()?;
        }
        let m = self
            .message(message_id)?
            .ok_or_else(|| Error::MessageNotFound(message_id.to_owned()))?;
        Ok(Some((
            m,
            PendingUpload {
                pending: true,
                ..upload
            },
        )))
    }
}

type UploadRow = (String, String, String, String);

fn read_upload(r: &rusqlite::Row<'_>) -> rusqlite::Result<UploadRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

fn parse_upload((message_id, conversation_id, files, state): UploadRow) -> Result<PendingUpload> {
    let files = serde_json::from_str(&files)
        .map_err(|e| Error::Protocol(format!("stored upload of {message_id}: {e}")))?;
    Ok(PendingUpload {
        message_id,
        conversation_id,
        files,
        pending: state == "pending",
    })
}

/// Whether `m` may be retried: an own message that is failed or still sending.
fn retryable(m: &Message) -> bool {
    m.outgoing
        && matches!(
            m.status,
            MessageStatus::Failed { .. } | MessageStatus::Sending
        )
}
