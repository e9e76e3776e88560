//! Uploads the files of held image messages (`store/uploads.rs`), then releases each
//! message's envelope to the outbox.
//!
//! Per file: `HEAD` first — the server has it: skip (instant send, 秒传); otherwise `PUT`
//! the cached file, streamed, resuming at the `Upload-Offset` the server reports for this
//! user's unfinished upload. A broken connection, a stall, a 5xx or a damaged body is tried
//! again (with backoff; attempts that moved bytes do not count against the limit); 413, 415
//! and a refused token fail at once. A failed upload marks the message Failed
//! {0, "upload failed: …"} until `Client::retry`.

use std::collections::HashMap;
use std::future::Future;
use std::io::SeekFrom;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hongyan_protocol::now_ms;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::sync::broadcast;
use tokio::task::AbortHandle;

use crate::engine::{Command, Session};
use crate::error::{Error, Result};
use crate::events::Event;
use crate::http::{MediaHead, PutOutcome};
use crate::store::{PendingUpload, UploadFile};

/// Failed attempts per file (without progress in between) before the upload fails.
pub const MAX_ATTEMPTS: u32 = 5;
/// The first pause before another attempt; it doubles each time.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// How many 409 `offset_mismatch` answers one attempt follows.
const MAX_OFFSET_FIXES: u32 = 3;
/// Bytes read from the cached file per body chunk.
const CHUNK: usize = 64 * 1024;
/// After a connection broke, how long a PUT waits after its headers before the body.
const HOLD_AFTER_BREAK: Duration = Duration::from_millis(300);

/// The upload tasks of one session: at most one per message.
#[derive(Debug, Default)]
pub(crate) struct Uploads {
    running: Mutex<HashMap<String, (u64, AbortHandle)>>,
    next_token: AtomicU64,
    /// One transfer per file at a time: the same image in two messages uploads once, the
    /// second finds it stored (two PUTs of one sha would take the upload from each other).
    files: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl Uploads {
    /// Starts uploading `upload` unless a task for that message is already running.
    pub fn start(session: &Arc<Session>, upload: PendingUpload) {
        let mut running = session
            .uploads
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if running
            .get(&upload.message_id)
            .is_some_and(|(_, h)| !h.is_finished())
        {
            return;
        }
        let token = session.uploads.next_token.fetch_add(1, Ordering::Relaxed);
        let id = upload.message_id.clone();
        let s = session.clone();
        let task = tokio::spawn(async move {
            let id = upload.message_id.clone();
            run(&s, upload).await;
            let mut running = s.uploads.running.lock().unwrap_or_else(|p| p.into_inner());
            if running.get(&id).is_some_and(|(t, _)| *t == token) {
                running.remove(&id);
            }
        });
        running.insert(id, (token, task.abort_handle()));
    }

    /// Starts every pending upload of the store (after a login).
    pub async fn resume_pending(session: &Arc<Session>) {
        match session.store.call(|s| s.pending_uploads()).await {
            Ok(list) => {
                if !list.is_empty() {
                    tracing::info!(count = list.len(), "resuming image uploads");
                }
                for upload in list {
                    Self::start(session, upload);
                }
            }
            Err(e) => tracing::error!(error = %e, "could not read the pending uploads"),
        }
    }

    /// The lock of file `sha256` (dropped from the map once nobody holds it).
    fn file_lock(&self, sha256: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut files = self.files.lock().unwrap_or_else(|p| p.into_inner());
        files.retain(|_, lock| Arc::strong_count(lock) > 1);
        files.entry(sha256.to_owned()).or_default().clone()
    }

    /// Stops every running upload (logout, shutdown). They stay pending in the store.
    pub fn abort_all(&self) {
        let running = std::mem::take(&mut *self.running.lock().unwrap_or_else(|p| p.into_inner()));
        for (_, (_, handle)) in running {
            handle.abort();
        }
    }
}

/// Uploads one message's files, then releases it (or marks it failed).
async fn run(session: &Arc<Session>, upload: PendingUpload) {
    let id = upload.message_id.clone();
    match upload_files(session, &upload).await {
        Ok(()) => {
            let mid = id.clone();
            match session
                .store
                .call(move |s| s.release_upload(&mid, now_ms()))
                .await
            {
                Ok(Some(envelope)) => {
                    tracing::debug!(id, "upload done; the message goes to the outbox");
                    let _ = session.commands.send(Command::Send(envelope));
                }
                Ok(None) => {}
                Err(e) => tracing::error!(id, error = %e, "could not release an uploaded message"),
            }
        }
        Err(e) => {
            tracing::info!(id, error = %e, "image upload failed");
            let reason = format!("upload failed: {e}");
            let mid = id.clone();
            match session
                .store
                .call(move |s| s.fail_upload(&mid, &reason))
                .await
            {
                Ok(Some(m)) => session.emit(Event::MessageStatusChanged {
                    id: m.id,
                    status: m.status,
                }),
                Ok(None) => {}
                Err(e) => tracing::error!(id, error = %e, "could not record a failed upload"),
            }
        }
    }
}

async fn upload_files(session: &Session, upload: &PendingUpload) -> Result<()> {
    let total = upload.files.iter().map(|f| f.size).sum();
    let progress = Arc::new(Progress::new(
        session.events.clone(),
        upload.message_id.clone(),
        upload.conversation_id.clone(),
        total,
    ));
    progress.report(0);
    let mut done = 0;
    for file in &upload.files {
        upload_file(session, file, &progress, done).await?;
        done += file.size;
        progress.report(done);
    }
    Ok(())
}

/// Gets one file onto the server, with retries.
async fn upload_file(
    session: &Session,
    file: &UploadFile,
    progress: &Arc<Progress>,
    base: u64,
) -> Result<()> {
    let path = session.media.get(&file.sha256)?.ok_or_else(|| {
        Error::Io(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "the image is no longer in the local media cache",
        ))
    })?;
    let lock = session.uploads.file_lock(&file.sha256);
    let _transfer = lock.lock().await;
    let mut failures = 0;
    let mut backoff = FIRST_BACKOFF;
    let mut hold = Duration::ZERO;
    loop {
        let before = progress.sent();
        match attempt(session, file, &path, progress, base, hold).await {
            Ok(()) => return Ok(()),
            Err(e) if worth_retrying(&e) => {
                // A connection that broke may have carried an answer we could not read
                // (a 413 sent before the body): next time, give it a moment to arrive.
                hold = if matches!(e, Error::Network(_)) {
                    HOLD_AFTER_BREAK
                } else {
                    Duration::ZERO
                };
                if progress.sent() > before {
                    // The last attempt moved bytes: a new chance from there.
                    failures = 0;
                    backoff = FIRST_BACKOFF;
                }
                failures += 1;
                if failures >= MAX_ATTEMPTS {
                    return Err(e);
                }
                tracing::debug!(sha = file.sha256, error = %e, failures, "upload attempt failed");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(4));
            }
            Err(e) => return Err(e),
        }
    }
}

/// Errors another attempt may cure: the network, the server's own trouble, a body damaged
/// on the way (the server discards that partial, so the next attempt starts clean), a body
/// the server saw break off, and an upload of the same file taken over by another PUT of
/// this user (the same image in two messages at once: the next HEAD finds it stored).
fn worth_retrying(e: &Error) -> bool {
    e.is_transient()
        || matches!(e, Error::HashMismatch)
        || matches!(e, Error::Server { status: 400 | 409, code, .. }
            if code == "upload_interrupted" || code == "upload_superseded")
}

/// One HEAD (+ PUT) of one file.
async fn attempt(
    session: &Session,
    file: &UploadFile,
    path: &Path,
    progress: &Arc<Progress>,
    base: u64,
    hold: Duration,
) -> Result<()> {
    let http = &session.http;
    let mut offset = match http.media_head(&session.token, &file.sha256).await? {
        MediaHead::Stored { .. } => return Ok(()),
        // More than the file would be a stale partial: start over (the PUT's 409 corrects).
        MediaHead::Missing { offset } if offset <= file.size => offset,
        MediaHead::Missing { .. } => 0,
    };
    for _ in 0..=MAX_OFFSET_FIXES {
        let sent = Arc::new(AtomicU64::new(offset));
        progress.report(base + offset);
        let body = file_body(path.to_path_buf(), offset, file.size, hold, sent.clone(), {
            let p = progress.clone();
            move |n| p.report(base + n)
        });
        let put = http.media_put(
            &session.token,
            &file.sha256,
            offset,
            file.size - offset,
            body,
        );
        match until_stalled(put, &sent, http.stall_timeout()).await? {
            PutOutcome::Stored => return Ok(()),
            PutOutcome::OffsetMismatch { actual } if actual <= file.size => offset = actual,
            PutOutcome::OffsetMismatch { actual } => {
                return Err(Error::Protocol(format!(
                    "the server holds {actual} bytes of a {}-byte file",
                    file.size
                )))
            }
        }
    }
    Err(Error::Protocol(
        "the server kept refusing the upload offset".into(),
    ))
}

/// The body of a PUT: bytes `offset..end` of the file at `path`, read in chunks as the
/// connection takes them, the first one after `hold` (time for an early answer to the
/// headers, such as 413, to arrive before any body byte). `sent` and `on_progress` see the
/// position after each chunk.
fn file_body(
    path: PathBuf,
    offset: u64,
    end: u64,
    hold: Duration,
    sent: Arc<AtomicU64>,
    on_progress: impl Fn(u64) + Send + Sync + 'static,
) -> reqwest::Body {
    use futures_util::StreamExt;
    let pause = futures_util::stream::once(tokio::time::sleep(hold))
        .filter_map(|()| async { None::<std::io::Result<bytes::Bytes>> });
    reqwest::Body::wrap_stream(pause.chain(file_chunks(path, offset, end, sent, on_progress)))
}

/// The chunks of [`file_body`].
fn file_chunks(
    path: PathBuf,
    offset: u64,
    end: u64,
    sent: Arc<AtomicU64>,
    on_progress: impl Fn(u64) + Send + Sync + 'static,
) -> impl futures_util::Stream<Item = std::io::Result<bytes::Bytes>> + Send + 'static {
    struct Reader {
        file: Option<tokio::fs::File>,
        path: PathBuf,
        pos: u64,
        end: u64,
    }
    let start = Reader {
        file: None,
        path,
        pos: offset,
        end,
    };
    let on_progress = Arc::new(on_progress);
    futures_util::stream::try_unfold(start, move |mut r| {
        let (sent, on_progress) = (sent.clone(), on_progress.clone());
        async move {
            if r.pos >= r.end {
                return Ok::<_, std::io::Error>(None);
            }
            let file = match r.file.as_mut() {
                Some(f) => f,
                None => {
                    let mut f = tokio::fs::File::open(&r.path).await?;
                    f.seek(SeekFrom::Start(r.pos)).await?;
                    r.file.insert(f)
                }
            };
            let want = usize::try_from(r.end - r.pos).unwrap_or(CHUNK).min(CHUNK);
            let mut buf = vec![0; want];
            let n = file.read(&mut buf).await?;
            if n == 0 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the cached image is shorter than recorded",
                ));
            }
            buf.truncate(n);
            r.pos += n as u64;
            sent.store(r.pos, Ordering::Relaxed);
            on_progress(r.pos);
            Ok(Some((bytes::Bytes::from(buf), r)))
        }
    })
}

/// Runs `transfer` until it finishes, or fails it with [`Error::Timeout`] once `moved`
/// has not changed for `stall` (a link that carries nothing).
pub(crate) async fn until_stalled<T>(
    transfer: impl Future<Output = Result<T>>,
    moved: &AtomicU64,
    stall: Duration,
) -> Result<T> {
    tokio::pin!(transfer);
    let check = (stall / 4).max(Duration::from_millis(20));
    let mut tick = tokio::time::interval(check);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last = moved.load(Ordering::Relaxed);
    let mut since = tokio::time::Instant::now();
    loop {
        tokio::select! {
            r = &mut transfer => return r,
            _ = tick.tick() => {
                let now = moved.load(Ordering::Relaxed);
                if now != last {
                    last = now;
                    since = tokio::time::Instant::now();
                } else if since.elapsed() >= stall {
                    return Err(Error::Timeout);
                }
            }
        }
    }
}

/// [`Event::UploadProgress`] for one message, at most once per percent (and always for
/// the start and the end).
struct Progress {
    events: broadcast::Sender<Event>,
    message_id: String,
    conversation_id: String,
    total: u64,
    sent: AtomicU64,
    /// The last percent announced, +1 (0 = nothing yet).
    last_step: AtomicU64,
}

impl Progress {
    fn new(
        events: broadcast::Sender<Event>,
        message_id: String,
        conversation_id: String,
        total: u64,
    ) -> Self {
        Self {
            events,
            message_id,
            conversation_id,
            total,
            sent: AtomicU64::new(0),
            last_step: AtomicU64::new(0),
        }
    }

    fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    fn report(&self, sent: u64) {
        let sent = sent.min(self.total);
        self.sent.store(sent, Ordering::Relaxed);
        let percent = (sent.saturating_mul(100))
            .checked_div(self.total)
            .unwrap_or(100);
        if self.last_step.swap(percent + 1, Ordering::Relaxed) == percent + 1 {
            return;
        }
        let _ = self.events.send(Event::UploadProgress {
            message_id: self.message_id.clone(),
            conversation_id: self.conversation_id.clone(),
            sent,
            total: self.total,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    #[tokio::test]
    async fn the_body_streams_the_rest_of_the_file_and_counts_it() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("f");
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).expect("write");
        let sent = Arc::new(AtomicU64::new(0));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        let stream = file_chunks(path, 70_000, data.len() as u64, sent.clone(), move |n| {
            s.lock().expect("lock").push(n)
        });
        let mut stream = std::pin::pin!(stream);
        let mut got = Vec::new();
        while let Some(chunk) = stream.next().await {
            got.extend_from_slice(&chunk.expect("chunk"));
        }
        assert_eq!(got, &data[70_000..]);
        assert_eq!(sent.load(Ordering::Relaxed), data.len() as u64);
        let seen = seen.lock().expect("lock").clone();
        assert_eq!(seen.first(), Some(&(70_000 + CHUNK as u64)));
        assert_eq!(seen.last(), Some(&(data.len() as u64)));
    }

    #[tokio::test]
    async fn a_shrunken_file_ends_the_body_with_an_error() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("f");
        std::fs::write(&path, [1u8; 10]).expect("write");
        let stream = file_chunks(path, 0, 20, Arc::default(), |_| {});
        let mut stream = std::pin::pin!(stream);
        assert!(stream.next().await.expect("first").is_ok());
        assert!(stream.next().await.expect("second").is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn a_transfer_that_stops_moving_times_out_but_a_slow_one_does_not() {
        let moved = Arc::new(AtomicU64::new(0));
        let stall = Duration::from_secs(2);
        let never = std::future::pending::<Result<()>>();
        assert!(matches!(
            until_stalled(never, &moved, stall).await,
            Err(Error::Timeout)
        ));
        // Moves a byte every second for 10 s: slow but alive.
        let m = moved.clone();
        let slow = async move {
            for _ in 0..10 {
                tokio::time::sleep(Duration::from_secs(1)).await;
                m.fetch_add(1, Ordering::Relaxed);
            }
            Ok(7)
        };
        assert_eq!(until_stalled(slow, &moved, stall).await.expect("done"), 7);
    }

    #[test]
    fn progress_is_announced_once_per_percent_with_start_and_end() {
        let (tx, mut rx) = broadcast::channel(1000);
        let p = Progress::new(tx, "m".into(), "7".into(), 1000);
        for sent in [0, 0, 3, 9, 10, 11, 500, 999, 1000, 1000] {
            p.report(sent);
        }
        let mut got = Vec::new();
        while let Ok(Event::UploadProgress { sent, total, .. }) = rx.try_recv() {
            assert_eq!(total, 1000);
            got.push(sent);
        }
        assert_eq!(got, vec![0, 10, 500, 999, 1000]);
        assert!(worth_retrying(&Error::Timeout));
        assert!(worth_retrying(&Error::HashMismatch));
        assert!(!worth_retrying(&Error::MediaTooLarge(String::new())));
        assert!(!worth_retrying(&Error::Unauthorized));
        let server = |status: u16, code: &str| Error::Server {
            status,
            code: code.into(),
            message: String::new(),
        };
        assert!(worth_retrying(&server(409, "upload_superseded")));
        assert!(worth_retrying(&server(400, "upload_interrupted")));
        assert!(!worth_retrying(&server(409, "conflict")));
        assert!(!worth_retrying(&server(404, "not_found")));
    }
}
