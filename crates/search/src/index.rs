//! The on-disk index: open (with rebuild detection), batched writes, deletes, queries.

use std::collections::HashMap;
use std::fs;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use tantivy::index::{SegmentId, SegmentMeta};
use tantivy::indexer::{LogMergePolicy, MergeCandidate, MergePolicy};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use crate::collector::{HitCollector, InOrderSegments};
use crate::error::SearchError;
use crate::idkey;
use crate::query;
use crate::schema::{self, Fields, SCHEMA_VERSION};
use crate::tokenizer::{analyzer, TOKENIZER_NAME};
use crate::types::{Doc, Opened, Query, RebuildReason, Results};

/// Written beside tantivy's files: the [`SCHEMA_VERSION`] the index was built with.
pub const VERSION_FILE: &str = "hongyan-search.version";

/// The writer's whole memory budget.
const WRITER_HEAP_BYTES: usize = 48_000_000;
/// One indexing thread: messages fed in time order then make segments in time order, which
/// Newest queries read without a per-match lookup (and `optimize` keeps that order). Several
/// threads would interleave the messages across segments: faster to build, slower to query.
const WRITER_THREADS: usize = 1;

/// One account's index. `Send + Sync`: share it behind an `Arc`.
pub struct SearchIndex {
    fields: Fields,
    writer: Mutex<Writer>,
    reader: IndexReader,
    in_order: InOrderSegments,
    oldest: Oldest,
}

/// The oldest `sent_at` of each segment, shared with the merge policy.
type Oldest = Arc<Mutex<HashMap<SegmentId, i64>>>;

/// tantivy's log merge policy, with each merge's segments put oldest first: segments in time
/// order then merge into one in time order (see `WRITER_THREADS`). A segment not known yet
/// (just flushed) goes last: it holds the newest messages.
#[derive(Debug)]
struct TimeOrderedMerges {
    inner: LogMergePolicy,
    oldest: Oldest,
}

impl MergePolicy for TimeOrderedMerges {
    fn compute_merge_candidates(&self, segments: &[SegmentMeta]) -> Vec<MergeCandidate> {
        let candidates = self.inner.compute_merge_candidates(segments);
        let Ok(oldest) = self.oldest.lock() else {
            return candidates;
        };
        candidates
            .into_iter()
            .map(|MergeCandidate(mut ids)| {
                ids.sort_by_key(|id| oldest.get(id).copied().unwrap_or(i64::MAX));
                MergeCandidate(ids)
            })
            .collect()
    }
}

struct Writer {
    writer: IndexWriter,
    /// For an index created empty (or cleared) by this handle: the ids added since. An id not
    /// in it can't be in the index, so its add needs no delete (deletes are ~40 % of a
    /// rebuild's time). `None` for an index opened with content: every add deletes first.
    fresh: Option<AddedIds>,
}

/// A Bloom filter of id hashes (2 MiB, 3 probes: < 1 % false positives at a million ids; a
/// false positive only costs a needless delete). `insert` says whether the id may have been
/// added before.
struct AddedIds {
    bits: Vec<u64>,
}

impl AddedIds {
    const BITS: u64 = 1 << 24;

    fn new() -> Self {
        AddedIds {
            bits: vec![0; (Self::BITS / 64) as usize],
        }
    }

    fn insert(&mut self, hash: u64) -> bool {
        let mut seen = true;
        for i in 0..3u32 {
            // Three probes from one 64-bit hash (Kirsch–Mitzenmacher).
            let bit =
                hash.wrapping_add(u64::from(i).wrapping_mul(hash.rotate_left(32) | 1)) % Self::BITS;
            let (word, mask) = ((bit / 64) as usize, 1u64 << (bit % 64));
            seen &= self.bits[word] & mask != 0;
            self.bits[word] |= mask;
        }
        seen
    }
}

impl SearchIndex {
    /// Opens the index in `dir` (which it owns: a stale or broken index there is deleted).
    /// A missing, corrupt or old-version index is replaced by an empty one and reported as
    /// [`Opened::Rebuild`], so the caller feeds it again from its store.
    pub fn open(dir: &Path) -> Result<(SearchIndex, Opened), SearchError> {
        let (schema, fields) = schema::build();
        let opened = if !dir.join("meta.json").exists() {
            Opened::Rebuild(RebuildReason::Missing)
        } else {
            match read_version(dir) {
                Some(SCHEMA_VERSION) => match open_guarded(dir, &schema, fields) {
                    Ok(index) => return Ok((index, Opened::Ready)),
                    Err(Failure::InUse(e)) => return Err(e),
                    Err(Failure::Corrupt(reason)) => {
                        tracing::warn!(dir = %dir.display(), %reason, "search index corrupt; rebuilding");
                        Opened::Rebuild(RebuildReason::Corrupt(reason))
                    }
                },
                other => Opened::Rebuild(RebuildReason::OldVersion(other.unwrap_or(0))),
            }
        };
        if dir.exists() {
            fs::remove_dir_all(dir)?;
        }
        fs::create_dir_all(dir)?;
        let index = Index::create_in_dir(dir, schema)?;
        // The version is written only once tantivy's meta.json exists, so a crash in between
        // reads as "old version" and rebuilds.
        fs::write(dir.join(VERSION_FILE), format!("{SCHEMA_VERSION}\n"))?;
        Ok((SearchIndex::from_index(index, fields, true)?, opened))
    }

    fn from_index(index: Index, fields: Fields, empty: bool) -> Result<SearchIndex, SearchError> {
        index.tokenizers().register(TOKENIZER_NAME, analyzer(false));
        let writer = index.writer_with_num_threads(WRITER_THREADS, WRITER_HEAP_BYTES)?;
        let oldest = Oldest::default();
        writer.set_merge_policy(Box::new(TimeOrderedMerges {
            inner: LogMergePolicy::default(),
            oldest: oldest.clone(),
        }));
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let opened = SearchIndex {
            fields,
            writer: Mutex::new(Writer {
                writer,
                fresh: empty.then(AddedIds::new),
            }),
            reader,
            in_order: InOrderSegments::default(),
            oldest,
        };
        opened.remember_oldest()?;
        Ok(opened)
    }

    /// Records the oldest `sent_at` of segments not seen yet (for merges), forgets gone ones.
    fn remember_oldest(&self) -> Result<(), SearchError> {
        let searcher = self.reader.searcher();
        let mut oldest = self.oldest.lock().map_err(|_| SearchError::Poisoned)?;
        let mut current = HashMap::new();
        for reader in searcher.segment_readers() {
            let id = reader.segment_id();
            let value = match oldest.get(&id) {
                Some(v) => *v,
                None => reader.fast_fields().i64(schema::SENT_AT)?.min_value(),
            };
            current.insert(id, value);
        }
        *oldest = current;
        Ok(())
    }

    fn writer(&self) -> Result<MutexGuard<'_, Writer>, SearchError> {
        self.writer.lock().map_err(|_| SearchError::Poisoned)
    }

    /// Adds or replaces (by id) these messages. Searchable after [`SearchIndex::commit`].
    pub fn add(&self, docs: &[Doc]) -> Result<(), SearchError> {
        let mut state = self.writer()?;
        let Writer { writer, fresh } = &mut *state;
        let f = &self.fields;
        for doc in docs {
            let hash = idkey::hash(&doc.id);
            if fresh.as_mut().is_none_or(|added| added.insert(hash)) {
                writer.delete_term(Term::from_field_u64(f.id_hash, hash));
            }
            let mut d = TantivyDocument::new();
            d.add_bytes(f.id, &idkey::encode(&doc.id));
            d.add_u64(f.id_hash, hash);
            d.add_text(f.conversation_id, &doc.conversation_id);
            d.add_text(f.sender, &doc.sender);
            d.add_i64(f.sent_at, doc.sent_at);
            d.add_text(f.text, &doc.text);
            writer.add_document(d)?;
        }
        Ok(())
    }

    /// Removes these messages (unknown ids are ignored). Effective after a commit.
    pub fn delete(&self, ids: &[String]) -> Result<(), SearchError> {
        let writer = &self.writer()?.writer;
        for id in ids {
            writer.delete_term(Term::from_field_u64(self.fields.id_hash, idkey::hash(id)));
        }
        Ok(())
    }

    /// Makes everything added or deleted so far searchable (and durable).
    pub fn commit(&self) -> Result<(), SearchError> {
        self.writer()?.writer.commit()?;
        self.reader.reload()?;
        self.remember_oldest()
    }

    /// Removes every document, at once (commits).
    pub fn clear(&self) -> Result<(), SearchError> {
        let mut state = self.writer()?;
        state.writer.delete_all_documents()?;
        state.writer.commit()?;
        state.fresh = Some(AddedIds::new());
        drop(state);
        self.reader.reload()?;
        Ok(())
    }

    pub fn search(&self, q: &Query) -> Result<Results, SearchError> {
        let Some(query) = query::build(q, &self.fields) else {
            return Ok(Results::default());
        };
        let searcher = self.reader.searcher();
        let collector = HitCollector {
            order: q.order,
            offset: q.offset,
            limit: q.limit,
            in_order: self.in_order.for_searcher(&searcher)?,
        };
        let (total, candidates) = searcher.search(query.as_ref(), &collector)?;
        let hits = collector.page(&searcher, candidates)?;
        Ok(Results { total, hits })
    }

    /// Committed, not deleted documents.
    pub fn doc_count(&self) -> Result<u64, SearchError> {
        Ok(self.reader.searcher().num_docs())
    }

    /// Merges all segments into one and waits (after a full rebuild: fewer segments, faster
    /// queries). Not needed for correctness.
    pub fn optimize(&self) -> Result<(), SearchError> {
        let mut state = self.writer()?;
        // A background merge may finish between listing the segments and merging them
        // (tantivy then refuses the merge): list again and retry.
        for attempt in 1.. {
            self.reader.reload()?;
            self.remember_oldest()?;
            let index = self.reader.searcher().index().clone();
            let mut ids = index.searchable_segment_ids()?;
            if ids.len() <= 1 {
                break;
            }
            // Oldest first, so that segments in time order merge into one in time order.
            {
                let oldest = self.oldest.lock().map_err(|_| SearchError::Poisoned)?;
                ids.sort_by_key(|id| oldest.get(id).copied().unwrap_or(i64::MAX));
            }
            match state.writer.merge(&ids).wait() {
                Ok(_) => break,
                Err(tantivy::TantivyError::InvalidArgument(_)) if attempt < 10 => continue,
                Err(e) => return Err(e.into()),
            }
        }
        state.writer.commit()?;
        drop(state);
        self.reader.reload()?;
        self.remember_oldest()
    }
}

fn read_version(dir: &Path) -> Option<u32> {
    fs::read_to_string(dir.join(VERSION_FILE))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Why an existing index could not be opened.
enum Failure {
    /// Damaged or foreign: replace it.
    Corrupt(String),
    /// Another handle holds its writer lock: an error, never a reason to delete it.
    InUse(SearchError),
}

impl From<String> for Failure {
    fn from(reason: String) -> Self {
        Failure::Corrupt(reason)
    }
}

/// [`open_existing`], with a panic inside tantivy (it asserts on some damaged files) read as
/// corruption: a broken cache must not take the app down.
fn open_guarded(
    dir: &Path,
    schema: &tantivy::schema::Schema,
    fields: Fields,
) -> Result<SearchIndex, Failure> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        open_existing(dir, schema, fields)
    }))
    .unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("panic");
        Err(Failure::Corrupt(format!("damaged index file: {message}")))
    })
}

/// Opens an existing index and touches every segment, so damage shows now, not mid-search.
fn open_existing(
    dir: &Path,
    schema: &tantivy::schema::Schema,
    fields: Fields,
) -> Result<SearchIndex, Failure> {
    let index = Index::open_in_dir(dir).map_err(|e| e.to_string())?;
    if index.schema() != *schema {
        return Err("schema differs from this version's".to_string().into());
    }
    let opened = match SearchIndex::from_index(index, fields, false) {
        Ok(opened) => opened,
        Err(SearchError::Index(e @ tantivy::TantivyError::LockFailure(..))) => {
            return Err(Failure::InUse(SearchError::Index(e)))
        }
        Err(e) => return Err(e.to_string().into()),
    };
    let searcher = opened.reader.searcher();
    for segment in searcher.segment_readers() {
        let fast = segment.fast_fields();
        fast.i64(schema::SENT_AT).map_err(|e| e.to_string())?;
        fast.bytes(schema::ID).map_err(|e| e.to_string())?;
        segment
            .inverted_index(fields.text)
            .map_err(|e| e.to_string())?;
    }
    Ok(opened)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(i: i64, sent_at: i64) -> Doc {
        Doc {
            id: format!("d{i:05}"),
            conversation_id: "c".into(),
            sender: "s".into(),
            sent_at,
            text: "hello 消息".into(),
        }
    }

    fn page(index: &SearchIndex, offset: usize, limit: usize) -> Vec<i64> {
        let mut q = Query::text("消息");
        q.offset = offset;
        q.limit = limit;
        let results = index.search(&q).unwrap();
        assert_eq!(results.total, 1_000);
        results.hits.into_iter().map(|h| h.sent_at).collect()
    }

    #[test]
    fn in_order_segments_take_the_tail_path_and_page_right() {
        let dir = tempfile::tempdir().unwrap();
        let (index, _) = SearchIndex::open(dir.path()).unwrap();
        // Small batches, each committed: every segment is in time order, merged ones too.
        for batch in 0..10 {
            let docs: Vec<Doc> = (0..100)
                .map(|i| doc(batch * 100 + i, batch * 100 + i))
                .collect();
            index.add(&docs).unwrap();
            index.commit().unwrap();
        }
        let flags = index
            .in_order
            .for_searcher(&index.reader.searcher())
            .unwrap();
        assert!(!flags.is_empty() && flags.iter().all(|f| *f), "{flags:?}");
        assert_eq!(page(&index, 0, 3), [999, 998, 997]);
        assert_eq!(page(&index, 150, 2), [849, 848]);
        assert_eq!(page(&index, 998, 5), [1, 0]);
        let all = page(&index, 0, 1_000);
        assert!(all.windows(2).all(|w| w[0] == w[1] + 1));
    }

    #[test]
    fn optimize_keeps_time_order() {
        let dir = tempfile::tempdir().unwrap();
        let (index, _) = SearchIndex::open(dir.path()).unwrap();
        for batch in 0..10 {
            let docs: Vec<Doc> = (0..100)
                .map(|i| doc(batch * 100 + i, batch * 100 + i))
                .collect();
            index.add(&docs).unwrap();
            index.commit().unwrap();
        }
        index.optimize().unwrap();
        let flags = index
            .in_order
            .for_searcher(&index.reader.searcher())
            .unwrap();
        assert_eq!(flags, [true]);
        assert_eq!(page(&index, 0, 3), [999, 998, 997]);
        assert_eq!(page(&index, 500, 2), [499, 498]);
    }

    #[test]
    fn out_of_order_segments_are_detected() {
        let dir = tempfile::tempdir().unwrap();
        let (index, _) = SearchIndex::open(dir.path()).unwrap();
        let docs: Vec<Doc> = (0..1_000).map(|i| doc(i, (i * 7919) % 1_000)).collect();
        index.add(&docs).unwrap();
        index.commit().unwrap();
        let flags = index
            .in_order
            .for_searcher(&index.reader.searcher())
            .unwrap();
        // (The writer's threads split the batch; a segment that got one doc is trivially in
        // order, so not *every* flag need be false.)
        assert!(flags.iter().any(|f| !*f), "{flags:?}");
        assert_eq!(page(&index, 0, 3), [999, 998, 997]);
        assert_eq!(page(&index, 997, 5), [2, 1, 0]);
    }
}
