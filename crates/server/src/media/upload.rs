//! Receiving one upload: stream the body into this user's partial file while hashing it,
//! then check size, type and hash and move the file into place.
//!
//! Disk writes and hashing run on one blocking task per upload fed through a small channel
//! (backpressure reaches the socket), so the runtime never waits on the disk. A body that
//! breaks off keeps what arrived for an `Upload-Offset` resume; a newer upload of the same
//! file by the same user takes over from one still running (its connection may be dead
//! without the server knowing yet).

use std::{
    collections::HashMap,
    fs::File,
    io::{self, Read, Write},
    path::Path,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{sniff, sniff::SNIFF_LEN, MediaDir, Sha256Hex};

/// Chunks queued for the disk writer before the socket is read more slowly.
const WRITE_QUEUE: usize = 8;
/// An upload that sends nothing for this long is treated as broken off (its bytes are kept
/// for a resume), so a dead connection does not hold the upload open.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Why an upload did not complete.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("the file is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("the upload continues at byte {actual}, not at the requested offset")]
    OffsetMismatch { actual: u64 },
    #[error("the bytes hash to {actual}, not to the sha256 in the URL")]
    HashMismatch { actual: Sha256Hex },
    #[error("only JPEG, PNG, GIF and WebP images are accepted")]
    Unsupported,
    /// The body broke off; the bytes that arrived are kept for a resume.
    #[error("the upload broke off after {kept} bytes: {reason}")]
    Interrupted { kept: u64, reason: String },
    /// A newer upload of the same file by the same user took over.
    #[error("a newer upload of this file took over")]
    Superseded,
    #[error("media storage error: {0}")]
    Io(#[from] io::Error),
}

/// A stored upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completed {
    pub sha: Sha256Hex,
    pub mime: &'static str,
    pub size: u64,
}

/// Every upload in progress, by (user, sha).
#[derive(Debug)]
pub struct Uploads {
    dir: MediaDir,
    max_bytes: u64,
    idle_timeout: Duration,
    active: Mutex<HashMap<(i64, Sha256Hex), Slot>>,
    generation: AtomicU64,
}

#[derive(Debug)]
struct Slot {
    generation: u64,
    cancel: CancellationToken,
    lock: Arc<tokio::sync::Mutex<()>>,
}

/// This upload's hold on its (user, sha) slot; frees the slot unless a newer one took it.
struct Claim<'a> {
    uploads: &'a Uploads,
    key: (i64, Sha256Hex),
    generation: u64,
    cancel: CancellationToken,
    _turn: tokio::sync::OwnedMutexGuard<()>,
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        let mut active = self
            .uploads
            .active
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if active
            .get(&self.key)
            .is_some_and(|slot| slot.generation == self.generation)
        {
            active.remove(&self.key);
        }
    }
}

/// How the body loop ended.
enum Flow {
    Ended,
    BrokeOff(String),
    Superseded,
    TooLarge,
    Unsupported,
    WriterGone,
}

impl Uploads {
    pub fn new(dir: MediaDir, max_bytes: u64) -> Self {
        Self {
            dir,
            max_bytes,
            idle_timeout: IDLE_TIMEOUT,
            active: Mutex::new(HashMap::new()),
            generation: AtomicU64::new(0),
        }
    }

    /// Another idle timeout than [`IDLE_TIMEOUT`] (tests).
    pub fn with_idle_timeout(mut self, idle: Duration) -> Self {
        self.idle_timeout = idle;
        self
    }

    pub fn dir(&self) -> &MediaDir {
        &self.dir
    }

    /// The largest file accepted, bytes.
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// Streams `body` into `user`'s partial upload of `sha`: from scratch when `offset` is
    /// `None`, else continuing at `offset`, which must be the partial's length. A body that
    /// ends normally completes the upload (size, sniffed type and hash checked, file renamed
    /// into place); the caller then records it.
    pub async fn receive<S, E>(
        &self,
        user: i64,
        sha: &Sha256Hex,
        offset: Option<u64>,
        mut body: S,
    ) -> Result<Completed, UploadError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let claim = self.claim(user, sha).await?;
        let partial = self.dir.partial_path(user, sha);
        let opened = {
            let partial = partial.clone();
            let max = self.max_bytes;
            blocking(move || open_partial(&partial, offset, max)).await??
        };
        let Opened {
            file,
            hasher,
            mut len,
            mut head,
        } = opened;
        let (tx, rx) = mpsc::channel::<Bytes>(WRITE_QUEUE);
        let writer = tokio::task::spawn_blocking(move || write_loop(file, hasher, rx));
        let mut sniffed = head.len() >= SNIFF_LEN && sniff(&head).is_some();
        let flow = loop {
            let item = tokio::select! {
                _ = claim.cancel.cancelled() => break Flow::Superseded,
                item = tokio::time::timeout(self.idle_timeout, body.next()) => item,
            };
            let Ok(item) = item else {
                break Flow::BrokeOff(format!("nothing received for {:?}", self.idle_timeout));
            };
            let chunk = match item {
                None => break Flow::Ended,
                Some(Err(e)) => break Flow::BrokeOff(e.to_string()),
                Some(Ok(chunk)) => chunk,
            };
            if len + chunk.len() as u64 > self.max_bytes {
                break Flow::TooLarge;
            }
            if head.len() < SNIFF_LEN {
                let take = (SNIFF_LEN - head.len()).min(chunk.len());
                head.extend_from_slice(&chunk[..take]);
            }
            // Refuse a non-image as soon as its first bytes are in, not after 32 MiB.
            if !sniffed && head.len() >= SNIFF_LEN {
                if sniff(&head).is_none() {
                    break Flow::Unsupported;
                }
                sniffed = true;
            }
            len += chunk.len() as u64;
            if tx.send(chunk).await.is_err() {
                break Flow::WriterGone;
            }
        };
        drop(tx);
        let written = writer.await.map_err(io::Error::other)?;
        let (file, hasher, written_len) = match (written, flow) {
            (Ok(w), Flow::Ended) => w,
            (Ok((_, _, kept)), Flow::BrokeOff(reason)) => {
                return Err(UploadError::Interrupted { kept, reason })
            }
            (Ok(_), Flow::Superseded) => return Err(UploadError::Superseded),
            (Ok(_), Flow::TooLarge) => {
                discard(&partial).await;
                return Err(UploadError::TooLarge {
                    limit: self.max_bytes,
                });
            }
            (Ok(_), Flow::Unsupported) => {
                discard(&partial).await;
                return Err(UploadError::Unsupported);
            }
            (Err(e), _) => return Err(e.into()),
            (Ok(_), Flow::WriterGone) => {
                return Err(io::Error::other("the media writer stopped").into())
            }
        };
        let Some(mime) = sniff(&head) else {
            discard(&partial).await;
            return Err(UploadError::Unsupported);
        };
        let actual = Sha256Hex(hex::encode(hasher.finalize()));
        if &actual != sha {
            discard(&partial).await;
            return Err(UploadError::HashMismatch { actual });
        }
        let stored = self.dir.stored_path(sha);
        blocking(move || move_into_place(file, &partial, &stored)).await??;
        drop(claim);
        Ok(Completed {
            sha: sha.clone(),
            mime,
            size: written_len,
        })
    }

    /// Waits for this (user, sha)'s turn, cancelling an upload of it still running.
    async fn claim(&self, user: i64, sha: &Sha256Hex) -> Result<Claim<'_>, UploadError> {
        let key = (user, sha.clone());
        let generation = self.generation.fetch_add(1, Ordering::Relaxed);
        let cancel = CancellationToken::new();
        let lock = {
            let mut active = self.active.lock().unwrap_or_else(|e| e.into_inner());
            let lock = match active.get(&key) {
                Some(slot) => {
                    slot.cancel.cancel();
                    slot.lock.clone()
                }
                None => Arc::new(tokio::sync::Mutex::new(())),
            };
            active.insert(
                key.clone(),
                Slot {
                    generation,
                    cancel: cancel.clone(),
                    lock: lock.clone(),
                },
            );
            lock
        };
        let turn = lock.lock_owned().await;
        let claim = Claim {
            uploads: self,
            key,
            generation,
            cancel,
            _turn: turn,
        };
        if claim.cancel.is_cancelled() {
            // An even newer upload arrived while this one waited.
            return Err(UploadError::Superseded);
        }
        Ok(claim)
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, io::Error> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(io::Error::other)
}

async fn discard(partial: &Path) {
    if let Err(e) = tokio::fs::remove_file(partial).await {
        if e.kind() != io::ErrorKind::NotFound {
            tracing::warn!(path = %partial.display(), error = %e, "cannot remove a partial upload");
        }
    }
}

struct Opened {
    file: File,
    hasher: Sha256,
    len: u64,
    head: Vec<u8>,
}

/// Opens the partial for writing at `offset` (fresh when `None`), hashing what is already
/// there so the final digest covers the whole file.
fn open_partial(path: &Path, offset: Option<u64>, max: u64) -> Result<Opened, UploadError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let Some(offset) = offset else {
        return Ok(Opened {
            file: File::create(path)?,
            hasher: Sha256::new(),
            len: 0,
            head: Vec::new(),
        });
    };
    let mut file = match File::options().read(true).append(true).open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if offset == 0 {
                File::create(path)?
            } else {
                return Err(UploadError::OffsetMismatch { actual: 0 });
            }
        }
        Err(e) => return Err(e.into()),
    };
    let actual = file.metadata()?.len();
    if actual != offset {
        return Err(UploadError::OffsetMismatch { actual });
    }
    if actual > max {
        return Err(UploadError::TooLarge { limit: max });
    }
    let mut hasher = Sha256::new();
    let mut head = Vec::with_capacity(SNIFF_LEN);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        if head.len() < SNIFF_LEN {
            head.extend_from_slice(&buf[..n.min(SNIFF_LEN - head.len())]);
        }
        hasher.update(&buf[..n]);
    }
    Ok(Opened {
        file,
        hasher,
        len: actual,
        head,
    })
}

/// The disk side of an upload: appends and hashes each chunk; returns the file, the hash so
/// far and the partial's length once the channel closes.
fn write_loop(
    mut file: File,
    mut hasher: Sha256,
    mut rx: mpsc::Receiver<Bytes>,
) -> io::Result<(File, Sha256, u64)> {
    while let Some(chunk) = rx.blocking_recv() {
        file.write_all(&chunk)?;
        hasher.update(&chunk);
    }
    file.flush()?;
    let len = file.metadata()?.len();
    Ok((file, hasher, len))
}

/// Makes the completed file durable and renames it to its content address (atomic: readers
/// see the whole file or none).
fn move_into_place(file: File, partial: &Path, stored: &Path) -> io::Result<()> {
    file.sync_data()?;
    drop(file);
    if let Some(dir) = stored.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::rename(partial, stored)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use futures_util::stream;

    use super::*;

    fn png_like(len: usize) -> Vec<u8> {
        let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        bytes.extend((0..len.saturating_sub(bytes.len())).map(|i| (i * 7 % 251) as u8));
        bytes
    }

    fn chunks(bytes: &[u8], size: usize) -> Vec<Result<Bytes, Infallible>> {
        bytes
            .chunks(size)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect()
    }

    fn uploads(max: u64) -> (tempfile::TempDir, Uploads) {
        let tmp = tempfile::tempdir().expect("tmp");
        let uploads = Uploads::new(MediaDir::new(tmp.path()), max);
        (tmp, uploads)
    }

    #[tokio::test]
    async fn a_whole_body_is_verified_and_moved_into_place() {
        let (_tmp, up) = uploads(1 << 20);
        let bytes = png_like(100_000);
        let sha = Sha256Hex::of(&bytes);
        let done = up
            .receive(7, &sha, None, stream::iter(chunks(&bytes, 4096)))
            .await
            .expect("stored");
        assert_eq!(
            done,
            Completed {
                sha: sha.clone(),
                mime: "image/png",
                size: 100_000
            }
        );
        assert_eq!(
            std::fs::read(up.dir().stored_path(&sha)).expect("read"),
            bytes
        );
        assert!(!up.dir().partial_path(7, &sha).exists());
        assert!(up.active.lock().expect("lock").is_empty());
    }

    #[tokio::test]
    async fn wrong_hash_wrong_type_and_too_large_leave_nothing_behind() {
        let (_tmp, up) = uploads(10_000);
        let bytes = png_like(5_000);
        let other = Sha256Hex::of(b"something else");
        let err = up
            .receive(7, &other, None, stream::iter(chunks(&bytes, 1000)))
            .await;
        assert!(
            matches!(&err, Err(UploadError::HashMismatch { actual }) if *actual == Sha256Hex::of(&bytes)),
            "{err:?}"
        );
        assert!(!up.dir().partial_path(7, &other).exists());
        assert!(!up.dir().stored_path(&other).exists());

        let text = b"just some text pretending to be a jpeg".repeat(10);
        let sha = Sha256Hex::of(&text);
        let err = up
            .receive(7, &sha, None, stream::iter(chunks(&text, 100)))
            .await;
        assert!(matches!(err, Err(UploadError::Unsupported)), "{err:?}");
        assert!(!up.dir().partial_path(7, &sha).exists());
        // Shorter than the sniff window: judged at the end.
        let tiny = b"GIF8".to_vec();
        let err = up
            .receive(
                7,
                &Sha256Hex::of(&tiny),
                None,
                stream::iter(chunks(&tiny, 2)),
            )
            .await;
        assert!(matches!(err, Err(UploadError::Unsupported)), "{err:?}");

        let big = png_like(10_001);
        let sha = Sha256Hex::of(&big);
        let err = up
            .receive(7, &sha, None, stream::iter(chunks(&big, 4096)))
            .await;
        assert!(
            matches!(err, Err(UploadError::TooLarge { limit: 10_000 })),
            "{err:?}"
        );
        assert!(!up.dir().partial_path(7, &sha).exists());
    }

    #[tokio::test]
    async fn a_broken_body_is_kept_and_resumed_at_the_right_offset_only() {
        let (_tmp, up) = uploads(1 << 20);
        let bytes = png_like(50_000);
        let sha = Sha256Hex::of(&bytes);
        let mut first: Vec<Result<Bytes, String>> = bytes[..20_000]
            .chunks(3000)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        first.push(Err("connection reset".into()));
        let err = up.receive(9, &sha, None, stream::iter(first)).await;
        assert!(
            matches!(&err, Err(UploadError::Interrupted { kept: 20_000, .. })),
            "{err:?}"
        );
        assert_eq!(up.dir().partial_len(9, &sha).await.expect("len"), 20_000);
        // Another user's partial is separate.
        assert_eq!(up.dir().partial_len(8, &sha).await.expect("len"), 0);

        let rest = || stream::iter(chunks(&bytes[20_000..], 7000));
        let err = up.receive(9, &sha, Some(19_999), rest()).await;
        assert!(
            matches!(err, Err(UploadError::OffsetMismatch { actual: 20_000 })),
            "{err:?}"
        );
        let err = up.receive(8, &sha, Some(20_000), rest()).await;
        assert!(
            matches!(err, Err(UploadError::OffsetMismatch { actual: 0 })),
            "{err:?}"
        );
        let done = up
            .receive(9, &sha, Some(20_000), rest())
            .await
            .expect("resumed");
        assert_eq!(done.size, 50_000);
        assert_eq!(
            std::fs::read(up.dir().stored_path(&sha)).expect("read"),
            bytes
        );
        assert!(!up.dir().partial_path(9, &sha).exists());
    }

    #[tokio::test]
    async fn a_newer_upload_takes_over_from_a_stalled_one() {
        let (_tmp, up) = uploads(1 << 20);
        let up = Arc::new(up);
        let bytes = png_like(30_000);
        let sha = Sha256Hex::of(&bytes);
        // The first upload sends 10 000 bytes, then its connection hangs.
        let (tx, rx) = mpsc::channel::<Result<Bytes, Infallible>>(4);
        let stalled = {
            let (up, sha) = (up.clone(), sha.clone());
            tokio::spawn(async move {
                let body = tokio_stream_from(rx);
                up.receive(5, &sha, None, body).await
            })
        };
        tx.send(Ok(Bytes::copy_from_slice(&bytes[..10_000])))
            .await
            .expect("send");
        // Wait until the first chunk is on disk.
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        while up.dir().partial_len(5, &sha).await.expect("len") < 10_000 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "first chunk never written"
            );
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        let done = up
            .receive(
                5,
                &sha,
                Some(10_000),
                stream::iter(chunks(&bytes[10_000..], 4096)),
            )
            .await
            .expect("the resume completes");
        assert_eq!(done.size, 30_000);
        let first = stalled.await.expect("join");
        assert!(matches!(first, Err(UploadError::Superseded)), "{first:?}");
        drop(tx);
        assert!(up.active.lock().expect("lock").is_empty());
    }

    #[tokio::test]
    async fn a_silent_body_counts_as_broken_off() {
        let (_tmp, up) = uploads(1 << 20);
        let up = up.with_idle_timeout(std::time::Duration::from_millis(100));
        let bytes = png_like(8_000);
        let sha = Sha256Hex::of(&bytes);
        let (tx, rx) = mpsc::channel::<Result<Bytes, Infallible>>(4);
        tx.send(Ok(Bytes::copy_from_slice(&bytes[..3_000])))
            .await
            .expect("send");
        let err = up.receive(3, &sha, None, tokio_stream_from(rx)).await;
        assert!(
            matches!(&err, Err(UploadError::Interrupted { kept: 3_000, .. })),
            "{err:?}"
        );
        drop(tx);
        assert_eq!(up.dir().partial_len(3, &sha).await.expect("len"), 3_000);
    }

    fn tokio_stream_from<T: Send + 'static>(
        rx: mpsc::Receiver<T>,
    ) -> impl Stream<Item = T> + Unpin {
        Box::pin(stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        }))
    }
}
