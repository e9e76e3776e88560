//! The `media` table: which content-addressed files are stored, their type and size.

use hongyan_protocol::now_ms;

use super::PostgresStore;
use crate::store::{MediaRecord, StoreError};

impl PostgresStore {
    /// Records a stored file. The first upload's row stays (the bytes are the same).
    pub async fn insert_media(
        &self,
        sha256: String,
        mime: String,
        size: u64,
        uploader: i64,
    ) -> Result<(), StoreError> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO media (sha256, mime, size, uploader, created_at)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (sha256) DO NOTHING",
                &[&sha256, &mime, &(size as i64), &uploader, &now_ms()],
            )
            .await?;
        Ok(())
    }

    /// The record of `sha256`, if stored.
    pub async fn media(&self, sha256: String) -> Result<Option<MediaRecord>, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT sha256, mime, size, uploader, created_at FROM media WHERE sha256 = $1",
                &[&sha256],
            )
            .await?;
        Ok(row.map(|r| MediaRecord {
            sha256: r.get(0),
            mime: r.get(1),
            size: r.get::<_, i64>(2) as u64,
            uploader: r.get(3),
            created_at: r.get(4),
        }))
    }
}
