//! The account's media cache: `<account dir>/media/<sha[0..2]>/<sha>`. Content-addressed:
//! a file's name is its SHA-256, so a file found under its name is the right one. Files are
//! written atomically (a temp file in `media/tmp/` renamed into place), so a crash never
//! leaves half a file under a hash. Sent images are cached before upload; received ones on
//! first view, downloaded with the session's token and checked against their hash.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::http::Http;

/// The cache directory's name inside the account dir.
pub const DIR_NAME: &str = "media";

/// Whether `s` is a SHA-256 as the API writes it: 64 lowercase hex digits.
pub fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Writes `bytes` to `path` atomically: into a fresh temp file in `tmp_dir` (same file
/// system), flushed, then renamed over `path`.
pub(crate) fn write_atomic(tmp_dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(tmp_dir)?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = temp_path(tmp_dir);
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// A unique temp file name in `dir`.
fn temp_path(dir: &Path) -> PathBuf {
    dir.join(format!("{}.part", uuid::Uuid::now_v7()))
}

/// One account's media cache.
#[derive(Debug, Clone)]
pub struct MediaCache {
    root: PathBuf,
}

impl MediaCache {
    /// The cache of the account whose directory is `account_dir`.
    pub fn new(account_dir: &Path) -> Self {
        Self {
            root: account_dir.join(DIR_NAME),
        }
    }

    /// Where the file `sha256` lives (whether or not it is there yet).
    pub fn path(&self, sha256: &str) -> Result<PathBuf> {
        if !is_sha256(sha256) {
            return Err(Error::InvalidRequest(format!(
                "{sha256:?} is not a sha256 (64 lowercase hex digits)"
            )));
        }
        Ok(self.root.join(&sha256[..2]).join(sha256))
    }

    fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// The cached file `sha256`, if present.
    pub fn get(&self, sha256: &str) -> Result<Option<PathBuf>> {
        let path = self.path(sha256)?;
        Ok(path.is_file().then_some(path))
    }

    /// Stores `bytes` under their hash (blocking; no-op when already cached). Returns the
    /// hash.
    pub fn put(&self, bytes: &[u8]) -> Result<String> {
        let sha = sha256_hex(bytes);
        let path = self.path(&sha)?;
        if !path.is_file() {
            write_atomic(&self.tmp_dir(), &path, bytes)?;
        }
        Ok(sha)
    }

    /// The cached file `sha256`, downloaded first when missing (`GET /api/v1/media/{sha}`
    /// with the token). The download streams into a temp file while hashing and is renamed
    /// into place only when its hash matches. A download that stalls for
    /// [`Http::stall_timeout`] is [`Error::Timeout`].
    pub async fn fetch(&self, http: &Http, token: &str, sha256: &str) -> Result<PathBuf> {
        if let Some(path) = self.get(sha256)? {
            return Ok(path);
        }
        let path = self.path(sha256)?;
        let mut resp = http.media_get(token, sha256).await?;
        let tmp_dir = self.tmp_dir();
        tokio::fs::create_dir_all(&tmp_dir).await?;
        let tmp = temp_path(&tmp_dir);
        let result = download_into(&mut resp, &tmp, http.stall_timeout()).await;
        let finished = match result {
            Ok(hash) if hash == sha256 => {
                if let Some(dir) = path.parent() {
                    tokio::fs::create_dir_all(dir).await?;
                }
                tokio::fs::rename(&tmp, &path).await.map_err(Error::from)
            }
            Ok(_) => Err(Error::Protocol(format!(
                "the server sent media that does not match its hash {sha256}"
            ))),
            Err(e) => Err(e),
        };
        if finished.is_err() {
            let _ = tokio::fs::remove_file(&tmp).await;
        }
        finished.map(|()| path)
    }
}

/// Streams a response body into `tmp` (synced), returning the hex SHA-256 of what arrived.
async fn download_into(
    resp: &mut reqwest::Response,
    tmp: &Path,
    stall: Duration,
) -> Result<String> {
    use tokio::io::AsyncWriteExt;
    let mut file = tokio::fs::File::create(tmp).await?;
    let mut hasher = Sha256::new();
    loop {
        let chunk = tokio::time::timeout(stall, resp.chunk())
            .await
            .map_err(|_| Error::Timeout)??;
        let Some(chunk) = chunk else { break };
        hasher.update(&chunk);
        file.write_all(&chunk).await?;
    }
    file.sync_all().await?;
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_stored_under_their_hash_in_two_level_dirs() {
        let dir = tempfile::tempdir().expect("tmp");
        let cache = MediaCache::new(dir.path());
        let sha = cache.put(b"hello").expect("put");
        assert_eq!(
            sha,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        let path = cache.get(&sha).expect("get").expect("cached");
        assert_eq!(
            path,
            dir.path().join("media").join("2c").join(&sha),
            "<account dir>/media/<sha[0..2]>/<sha>"
        );
        assert_eq!(std::fs::read(&path).expect("read"), b"hello");
        // Putting it again is a no-op; nothing is left in the temp dir.
        assert_eq!(cache.put(b"hello").expect("again"), sha);
        let leftovers = std::fs::read_dir(dir.path().join("media").join("tmp"))
            .expect("tmp dir")
            .count();
        assert_eq!(leftovers, 0);
        assert!(cache.get(&"0".repeat(64)).expect("miss").is_none());
    }

    #[test]
    fn names_that_are_not_hashes_never_become_paths() {
        let dir = tempfile::tempdir().expect("tmp");
        let cache = MediaCache::new(dir.path());
        for bad in ["", "../../etc/passwd", &"A".repeat(64), &"a".repeat(63)] {
            assert!(
                matches!(cache.path(bad), Err(Error::InvalidRequest(_))),
                "{bad}"
            );
        }
        assert!(is_sha256(&"f".repeat(64)));
    }
}
