//! Opening and closing an account's index, and answering queries from it.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hongyan_search::{Opened, RebuildReason, SearchIndex};
use tokio::sync::broadcast;

use super::indexer::{CatchUp, Indexer};
use super::{indexed_text, IndexStatus, Query, SearchHit, SearchPage, MAX_LIMIT};
use crate::error::{Error, Result};
use crate::events::Event;
use crate::store::Store;

/// How long [`SearchService::close`] waits for queries still running.
const CLOSE_WAIT: Duration = Duration::from_secs(5);

/// What the client and the indexer thread share to stop and wake it.
pub(super) struct Control {
    pub stop: AtomicBool,
    pub wake: SyncSender<()>,
}

impl Control {
    /// Wakes the indexer (a wake already pending is enough).
    pub fn wake(&self) {
        let _ = self.wake.try_send(());
    }
}

/// An open index with its running indexer. Dropping it stops the indexer without waiting;
/// [`SearchService::close`] waits for the last commit.
pub(crate) struct SearchService {
    handle: SearchHandle,
    control: Arc<Control>,
    thread: Option<JoinHandle<()>>,
}

/// What a query needs; cheap to clone into a blocking task.
#[derive(Clone)]
pub(crate) struct SearchHandle {
    index: Arc<SearchIndex>,
    store: Store,
}

impl SearchService {
    /// Opens (creating if needed) the index in `dir` for the account whose store is `store`
    /// and starts its indexer, which first catches up with (or rebuilds from) the store.
    /// Blocking.
    pub fn open(
        dir: &Path,
        store: Store,
        events: broadcast::Sender<Event>,
        status: Arc<Mutex<IndexStatus>>,
    ) -> Result<Self> {
        store.install_search_journal()?;
        let (index, opened) = open_or_recreate(dir)?;
        let rebuild = match opened {
            Opened::Rebuild(reason) => Some(reason),
            // An index with documents for a store that never recorded indexing anything (a
            // store restored or replaced under it) cannot be trusted.
            Opened::Ready if store.search_watermark()? == 0 && index.doc_count()? > 0 => Some(
                RebuildReason::Corrupt("the store does not match the index".into()),
            ),
            Opened::Ready => None,
        };
        if let Some(reason) = &rebuild {
            tracing::info!(?reason, "rebuilding the search index from the store");
            index.clear()?;
            index.commit()?;
            store.reset_search_progress()?;
        }
        let read_up_to = store.rewind_search_reads()?;
        let (backlog, target) = store.rows_after_count(read_up_to)?;
        let catch_up = (rebuild.is_some() || backlog > 0).then_some(CatchUp {
            target,
            total: backlog,
            done: 0,
        });
        let index = Arc::new(index);
        let (wake, wake_rx) = mpsc::sync_channel(1);
        let control = Arc::new(Control {
            stop: AtomicBool::new(false),
            wake,
        });
        // Before the indexer starts, so no change after its first look goes unnoticed.
        let hook = control.clone();
        store.with_connection(|c| {
            c.update_hook(Some(move |_, _: &str, table: &str, _| {
                if table == "messages" {
                    hook.wake();
                }
            }))
        });
        let indexer = Indexer::new(
            store.clone(),
            index.clone(),
            events,
            status,
            control.clone(),
            wake_rx,
            read_up_to,
            catch_up,
        );
        let thread = std::thread::Builder::new()
            .name("hongyan-indexer".into())
            .spawn(move || indexer.run())
            .inspect_err(|_| {
                store.with_connection(|c| c.update_hook(None::<fn(_, &str, &str, i64)>));
            })?;
        Ok(Self {
            handle: SearchHandle { index, store },
            control,
            thread: Some(thread),
        })
    }

    /// A handle for queries.
    pub fn handle(&self) -> SearchHandle {
        self.handle.clone()
    }

    /// Stops the indexer after its last commit and waits for it and for queries still
    /// running, so the index's writer lock is free when this returns (a new client on the
    /// same account can open it). Blocking.
    pub fn close(mut self) {
        self.stop();
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                tracing::error!("the search indexer panicked");
            }
        }
        let deadline = Instant::now() + CLOSE_WAIT;
        while Arc::strong_count(&self.handle.index) > 1 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn stop(&self) {
        self.handle
            .store
            .with_connection(|c| c.update_hook(None::<fn(_, &str, &str, i64)>));
        self.control.stop.store(true, Ordering::Release);
        self.control.wake();
    }
}

impl Drop for SearchService {
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.stop();
        }
    }
}

/// Opens the index; an index that cannot even be opened is removed and made again (it is
/// only a cache of the store).
fn open_or_recreate(dir: &Path) -> Result<(SearchIndex, Opened)> {
    match SearchIndex::open(dir) {
        Ok(opened) => Ok(opened),
        Err(e) => {
            tracing::warn!(error = %e, "search index unreadable; recreating it");
            if dir.exists() {
                std::fs::remove_dir_all(dir)?;
            }
            let (index, _) = SearchIndex::open(dir)?;
            let reason = RebuildReason::Corrupt(e.to_string());
            Ok((index, Opened::Rebuild(reason)))
        }
    }
}

impl SearchHandle {
    /// A handle on an index without an indexer (tests).
    #[cfg(test)]
    pub(super) fn new(index: Arc<SearchIndex>, store: Store) -> Self {
        Self { index, store }
    }

    /// Runs `query` and resolves its hits to stored messages (a hit whose message is gone
    /// is dropped) with snippets. `limit` is capped at [`MAX_LIMIT`]; 0 means the default.
    /// Blocking.
    pub fn search(&self, mut query: Query) -> Result<SearchPage> {
        query.limit = match query.limit {
            0 => Query::default().limit,
            n => n.min(MAX_LIMIT),
        };
        let results = self.index.search(&query)?;
        let mut hits = Vec::with_capacity(results.hits.len());
        for hit in &results.hits {
            let Some(message) = self.store.message(&hit.id)? else {
                continue;
            };
            let Some(text) = indexed_text(&message) else {
                continue;
            };
            hits.push(SearchHit {
                snippet: hongyan_search::snippet(&text, &query.text),
                message,
                score: hit.score,
            });
        }
        let seen = query.offset + results.hits.len();
        Ok(SearchPage {
            total: results.total,
            next_offset: (!results.hits.is_empty() && seen < results.total).then_some(seen),
            hits,
        })
    }
}

impl From<hongyan_search::SearchError> for Error {
    fn from(e: hongyan_search::SearchError) -> Self {
        Self::Search(e.to_string())
    }
}
