//! Content-addressed image storage (issue 7, docs/MEDIA.md).
//!
//! A stored file lives at `<data-dir>/media/<sha[0..2]>/<sha>`, named by the SHA-256 of its
//! bytes; an unfinished upload is `<data-dir>/media/partial/<user>-<sha>` until it completes
//! (renamed into place) or is resumed with `Upload-Offset`. Paths are only ever built from a
//! validated [`Sha256Hex`] and a numeric user id.

pub mod sniff;
pub mod upload;

use std::{
    fmt, io,
    path::{Path, PathBuf},
    time::{Duration, SystemTime},
};

pub use sniff::sniff;
pub use upload::{UploadError, Uploads};

/// Partials untouched for longer than this are removed at start.
pub const PARTIAL_MAX_AGE: Duration = Duration::from_secs(24 * 3600);

/// A SHA-256 in its only accepted spelling: 64 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Sha256Hex(String);

impl Sha256Hex {
    /// `None` unless `s` is exactly 64 lowercase hex digits.
    pub fn parse(s: &str) -> Option<Self> {
        let ok = s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        ok.then(|| Self(s.to_owned()))
    }

    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        use sha2::Digest;
        Self(hex::encode(sha2::Sha256::digest(bytes)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Where clients fetch the file: `/api/v1/media/<sha>`.
    pub fn url(&self) -> String {
        format!("/api/v1/media/{}", self.0)
    }
}

impl fmt::Display for Sha256Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The media folder layout under the data dir.
#[derive(Debug, Clone)]
pub struct MediaDir {
    root: PathBuf,
}

impl MediaDir {
    /// `<data_dir>/media` (created lazily by uploads).
    pub fn new(data_dir: &Path) -> Self {
        Self::at(data_dir.join("media"))
    }

    /// Media kept in `root` (`--media-dir`; shared by the nodes of a deployment).
    pub fn at(root: PathBuf) -> Self {
        Self { root }
    }

    /// Where a stored file lives.
    pub fn stored_path(&self, sha: &Sha256Hex) -> PathBuf {
        self.root.join(&sha.as_str()[..2]).join(sha.as_str())
    }

    /// Folder of unfinished uploads.
    pub fn partial_dir(&self) -> PathBuf {
        self.root.join("partial")
    }

    /// `user`'s unfinished upload of `sha`.
    pub fn partial_path(&self, user: i64, sha: &Sha256Hex) -> PathBuf {
        self.partial_dir().join(format!("{user}-{sha}"))
    }

    /// Bytes of `user`'s unfinished upload of `sha` (0 when there is none).
    pub async fn partial_len(&self, user: i64, sha: &Sha256Hex) -> io::Result<u64> {
        match tokio::fs::metadata(self.partial_path(user, sha)).await {
            Ok(m) => Ok(m.len()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(e),
        }
    }

    /// Length of the stored file, `None` when it is not there.
    pub async fn stored_len(&self, sha: &Sha256Hex) -> io::Result<Option<u64>> {
        match tokio::fs::metadata(self.stored_path(sha)).await {
            Ok(m) if m.is_file() => Ok(Some(m.len())),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Removes partials last written before `now - max_age`; returns how many. Blocking.
    pub fn remove_stale_partials(&self, now: SystemTime, max_age: Duration) -> io::Result<usize> {
        let entries = match std::fs::read_dir(self.partial_dir()) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e),
        };
        let mut removed = 0;
        for entry in entries {
            let entry = entry?;
            let meta = entry.metadata()?;
            let age = meta
                .modified()
                .ok()
                .and_then(|t| now.duration_since(t).ok())
                .unwrap_or_default();
            if meta.is_file() && age > max_age {
                std::fs::remove_file(entry.path())?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn sha_must_be_64_lowercase_hex() {
        assert_eq!(
            Sha256Hex::parse(SHA).map(|s| s.to_string()),
            Some(SHA.into())
        );
        assert_eq!(Sha256Hex::of(b"").as_str(), SHA);
        for bad in [
            "",
            &SHA[..63],
            &format!("{SHA}0"),
            &SHA.to_uppercase(),
            &format!("../{}", &SHA[3..]),
            &format!("{}g", &SHA[..63]),
        ] {
            assert!(Sha256Hex::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn paths_are_built_from_the_sha_and_user_id_only() {
        let dir = MediaDir::new(Path::new("data"));
        let sha = Sha256Hex::parse(SHA).expect("sha");
        assert_eq!(dir.stored_path(&sha), Path::new("data/media/e3").join(SHA));
        assert_eq!(
            dir.partial_path(10001, &sha),
            Path::new("data/media/partial").join(format!("10001-{SHA}"))
        );
        assert_eq!(sha.url(), format!("/api/v1/media/{SHA}"));
    }

    #[test]
    fn stale_partials_are_removed_fresh_ones_kept() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = MediaDir::new(tmp.path());
        assert_eq!(
            dir.remove_stale_partials(SystemTime::now(), PARTIAL_MAX_AGE)
                .expect("no dir yet"),
            0
        );
        std::fs::create_dir_all(dir.partial_dir()).expect("mkdir");
        let sha = Sha256Hex::parse(SHA).expect("sha");
        std::fs::write(dir.partial_path(1, &sha), b"old").expect("write");
        std::fs::write(dir.partial_path(2, &sha), b"new").expect("write");
        let old = SystemTime::now() - Duration::from_secs(25 * 3600);
        std::fs::File::options()
            .write(true)
            .open(dir.partial_path(1, &sha))
            .and_then(|f| f.set_modified(old))
            .expect("age it");
        let removed = dir
            .remove_stale_partials(SystemTime::now(), PARTIAL_MAX_AGE)
            .expect("sweep");
        assert_eq!(removed, 1);
        assert!(!dir.partial_path(1, &sha).exists());
        assert!(dir.partial_path(2, &sha).exists());
    }
}
