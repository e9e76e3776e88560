//! The indexer thread: follows the store's `messages` table into the index in batches, off
//! the async runtime. Woken by the store's update hook; commits at most every
//! [`COMMIT_EVERY`] (or after [`COMMIT_DOCS`] documents), then persists how far it got.

use std::sync::atomic::Ordering;
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hongyan_search::SearchIndex;
use tokio::sync::broadcast;

use super::service::Control;
use super::{doc_for, IndexState, IndexStatus};
use crate::error::Result;
use crate::events::Event;
use crate::store::Store;

/// Rows (or journal entries) read from the store per step: short store locks, so chat
/// stays responsive during a rebuild.
pub const READ_BATCH: usize = 1000;
/// Uncommitted writes wait at most this long (a lone new message is committed at once if
/// the last commit is older).
pub const COMMIT_EVERY: Duration = Duration::from_millis(500);
/// ... or are committed once this many are pending.
pub const COMMIT_DOCS: usize = 20_000;
/// Wait after a failed step before trying again.
const RETRY_AFTER: Duration = Duration::from_secs(1);
/// Even without a wake the indexer looks at the store this often.
const IDLE_LOOK: Duration = Duration::from_secs(30);

/// Progress of a rebuild or of catching up with rows stored before a restart.
#[derive(Debug, Clone, Copy)]
pub(super) struct CatchUp {
    /// The highest rowid when it started: rows up to it count towards `total`.
    pub target: i64,
    pub total: u64,
    pub done: u64,
}

pub(super) struct Indexer {
    store: Store,
    index: Arc<SearchIndex>,
    events: broadcast::Sender<Event>,
    status: Arc<Mutex<IndexStatus>>,
    control: Arc<Control>,
    wake: Receiver<()>,
    /// Every row up to here is in the index (committed or pending).
    read_up_to: i64,
    /// Every journal entry up to here is applied (committed or pending).
    journal_up_to: i64,
    pending: usize,
    last_commit: Instant,
    catch_up: Option<CatchUp>,
}

impl Indexer {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: Store,
        index: Arc<SearchIndex>,
        events: broadcast::Sender<Event>,
        status: Arc<Mutex<IndexStatus>>,
        control: Arc<Control>,
        wake: Receiver<()>,
        read_up_to: i64,
        catch_up: Option<CatchUp>,
    ) -> Self {
        let indexer = Self {
            store,
            index,
            events,
            status,
            control,
            wake,
            read_up_to,
            journal_up_to: 0,
            pending: 0,
            last_commit: Instant::now(),
            catch_up,
        };
        match catch_up {
            Some(c) => indexer.set_status(IndexState::Rebuilding, c.done, c.total),
            None => indexer.set_ready(),
        }
        indexer
    }

    pub fn run(mut self) {
        if let Some(c) = self.catch_up.filter(|c| c.done < c.total) {
            self.progress(c.done, c.total);
        }
        while !self.control.stop.load(Ordering::Acquire) {
            let progressed = match self.step() {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(error = %e, "search indexing failed; retrying");
                    self.sleep(RETRY_AFTER);
                    continue;
                }
            };
            let due = self.pending >= COMMIT_DOCS
                || self.last_commit.elapsed() >= COMMIT_EVERY
                || (!progressed && self.catch_up.is_some());
            if self.pending > 0 && due {
                if let Err(e) = self.commit() {
                    tracing::warn!(error = %e, "search index commit failed; retrying");
                    self.sleep(RETRY_AFTER);
                    continue;
                }
            }
            if progressed {
                continue;
            }
            if self.pending == 0 {
                self.finish_catch_up();
                self.sleep(IDLE_LOOK);
            } else {
                self.sleep(COMMIT_EVERY.saturating_sub(self.last_commit.elapsed()));
            }
        }
        if self.pending > 0 {
            if let Err(e) = self.commit() {
                tracing::warn!(error = %e, "last search index commit failed (healed on the next open)");
            }
        }
    }

    /// Waits for a wake, a stop or `at_most`.
    fn sleep(&self, at_most: Duration) {
        // The sender lives in `control`, which this thread holds: never disconnected.
        let _ = self.wake.recv_timeout(at_most);
    }

    /// Applies one batch of journal entries and one of new rows. Whether it read anything.
    fn step(&mut self) -> Result<bool> {
        let journal = self.store.search_journal(self.journal_up_to, READ_BATCH)?;
        if let Some(last) = journal.last() {
            // Each entry is applied as the message is now: re-indexed if it still is
            // indexable, else removed.
            let mut ids: Vec<&str> = journal.iter().map(|e| e.message_id.as_str()).collect();
            ids.sort_unstable();
            ids.dedup();
            let mut docs = Vec::new();
            let mut gone = Vec::new();
            for id in ids {
                match self.store.message(id)?.as_ref().and_then(doc_for) {
                    Some(doc) => docs.push(doc),
                    None => gone.push(id.to_owned()),
                }
            }
            self.index.delete(&gone)?;
            self.index.add(&docs)?;
            self.pending += journal.len();
            self.journal_up_to = last.seq;
        }
        let rows = self.store.read_rows_after(self.read_up_to, READ_BATCH)?;
        if let Some(last) = rows.last() {
            let docs: Vec<_> = rows.iter().filter_map(|r| doc_for(&r.message)).collect();
            self.index.add(&docs)?;
            if let Some(c) = &mut self.catch_up {
                let counted = rows.iter().filter(|r| r.rowid <= c.target).count();
                c.done = (c.done + counted as u64).min(c.total);
            }
            self.pending += rows.len();
            self.read_up_to = last.rowid;
        }
        Ok(!journal.is_empty() || !rows.is_empty())
    }

    /// Makes the pending writes searchable, then records how far the index got.
    fn commit(&mut self) -> Result<()> {
        self.index.commit()?;
        self.store.set_search_watermark(self.read_up_to)?;
        self.store.trim_search_journal(self.journal_up_to)?;
        self.pending = 0;
        self.last_commit = Instant::now();
        match self.catch_up {
            Some(c) => {
                self.set_status(IndexState::Rebuilding, c.done, c.total);
                if c.done < c.total {
                    self.progress(c.done, c.total);
                }
            }
            None => self.set_ready(),
        }
        Ok(())
    }

    /// Everything that was behind is indexed: ready, with a last progress event.
    fn finish_catch_up(&mut self) {
        if let Some(c) = self.catch_up.take() {
            tracing::info!(total = c.total, "search index caught up with the store");
            if c.total >= COMMIT_DOCS as u64 {
                // A big rebuild left many small segments: one is faster to query.
                if let Err(e) = self.index.optimize() {
                    tracing::warn!(error = %e, "merging the rebuilt index failed");
                }
            }
            self.set_ready();
            self.progress(c.total, c.total);
        }
    }

    fn set_ready(&self) {
        let docs = self.index.doc_count().unwrap_or(0);
        self.set_status(IndexState::Ready, docs, docs);
    }

    fn set_status(&self, state: IndexState, done: u64, total: u64) {
        *self.status.lock().unwrap_or_else(|p| p.into_inner()) = IndexStatus { state, done, total };
    }

    fn progress(&self, done: u64, total: u64) {
        let _ = self.events.send(Event::IndexProgress { done, total });
    }
}
