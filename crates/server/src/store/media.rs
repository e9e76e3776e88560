//! The `media` table: which content-addressed files are stored, their type and size.

use hongyan_protocol::now_ms;
use rusqlite::{params, OptionalExtension};

pub use super::MediaRecord;
use super::{SqliteStore, StoreError};

impl SqliteStore {
    /// Records a stored file. The first upload's row stays (the bytes are the same).
    pub async fn insert_media(
        &self,
        sha256: String,
        mime: String,
        size: u64,
        uploader: i64,
    ) -> Result<(), StoreError> {
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO media (sha256, mime, size, uploader, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (sha256) DO NOTHING",
            )?
            .execute(params![sha256, mime, size as i64, uploader, now_ms()])?;
            Ok(())
        })
        .await
    }

    /// The record of `sha256`, if stored.
    pub async fn media(&self, sha256: String) -> Result<Option<MediaRecord>, StoreError> {
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT sha256, mime, size, uploader, created_at FROM media WHERE sha256 = ?1",
                )?
                .query_row([sha256], |r| {
                    Ok(MediaRecord {
                        sha256: r.get(0)?,
                        mime: r.get(1)?,
                        size: r.get::<_, i64>(2)? as u64,
                        uploader: r.get(3)?,
                        created_at: r.get(4)?,
                    })
                })
                .optional()?)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn insert_is_idempotent_and_keeps_the_first_uploader() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = SqliteStore::open(dir.path()).expect("open");
        let sha = "ab".repeat(32);
        assert_eq!(store.media(sha.clone()).await.expect("read"), None);
        store
            .insert_media(sha.clone(), "image/png".into(), 123, 10001)
            .await
            .expect("insert");
        store
            .insert_media(sha.clone(), "image/png".into(), 123, 10002)
            .await
            .expect("again");
        let rec = store.media(sha.clone()).await.expect("read").expect("row");
        assert_eq!(
            (
                rec.sha256.as_str(),
                rec.mime.as_str(),
                rec.size,
                rec.uploader
            ),
            (sha.as_str(), "image/png", 123, 10001)
        );
        store.close().await;
    }
}
