//! One pass over the matches: count them all and keep the best `offset + limit`, ordered by
//! `sent_at` (Newest) or score (Relevance), ties broken by `sent_at` and then the message id.
//!
//! Per match it reads one fast value (`sent_at`) and compares one integer with a threshold;
//! candidates go to a buffer that is cut back to the best `keep` when full (amortised O(1) per
//! match, unlike a heap, whose every insert costs O(log k) when messages arrive in time order).
//! Strings (id, conversation, sender) are read only for the final page, after the merge across
//! segments: dictionary reads are the expensive part of a query.

use std::collections::BTreeMap;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, Dictionary};
use tantivy::{DocId, Score, Searcher, SegmentOrdinal, SegmentReader};

use crate::idkey;
use crate::schema;
use crate::types::{Hit, Order};

pub(crate) struct HitCollector {
    pub order: Order,
    pub offset: usize,
    pub limit: usize,
    /// Per segment ordinal: whether `sent_at` strictly increases with the doc id there (see
    /// [`InOrderSegments`]).
    pub in_order: Vec<bool>,
}

/// Score, then sent_at, packed so that one integer comparison orders candidates.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Candidate {
    key: u128,
    segment: SegmentOrdinal,
    doc: DocId,
}

fn sort_key(score: Score, sent_at: i64) -> u128 {
    let bits = score.to_bits();
    // Order-preserving map of f32 to u32 (negative scores below positive ones).
    let score = if bits >> 31 == 1 {
        !bits
    } else {
        bits | 1 << 31
    };
    (u128::from(score) << 64) | u128::from((sent_at as u64) ^ (1 << 63))
}

fn f32_of(key: u128) -> Score {
    let bits = (key >> 64) as u32;
    f32::from_bits(if bits >> 31 == 1 {
        bits & !(1 << 31)
    } else {
        !bits
    })
}

fn sent_at_of(key: u128) -> i64 {
    ((key as u64) ^ (1 << 63)) as i64
}

/// Extra room in the buffer beyond `2 × keep`, so cuts are rare even for small pages.
const BUFFER_SLACK: usize = 512;

pub(crate) struct HitSegmentCollector {
    segment: SegmentOrdinal,
    scored: bool,
    keep: usize,
    count: usize,
    sent_at: Column<i64>,
    buffer: Vec<Candidate>,
    /// Candidates below this can no longer make the page.
    threshold: u128,
    sent_at_block: Vec<Option<i64>>,
    /// Every match so far had a larger key than the one before (see `consider`).
    ascending: bool,
    last_key: u128,
    /// In ascending mode with a full buffer: the oldest (smallest) entry, replaced next.
    ring_at: usize,
    /// Newest order in a segment whose `sent_at` strictly increases with the doc id: the last
    /// `keep` matches are the newest, so nothing is read per match (keys are read at harvest).
    tail_only: bool,
}

/// Keeps the best `keep` of `buffer` plus any tied with the worst of them (the id decides
/// between those later); returns that worst key.
fn cut(buffer: &mut Vec<Candidate>, keep: usize) -> Option<u128> {
    if keep == 0 {
        buffer.clear();
        return None;
    }
    if buffer.len() <= keep {
        return None;
    }
    let (_, boundary, rest) = buffer.select_nth_unstable_by(keep - 1, |a, b| b.key.cmp(&a.key));
    let boundary = boundary.key;
    let ties: Vec<Candidate> = rest.iter().filter(|c| c.key == boundary).copied().collect();
    buffer.truncate(keep);
    buffer.extend(ties);
    Some(boundary)
}

impl HitSegmentCollector {
    /// Tail-only mode: the ring of the last `keep` matching docs (keys filled in at harvest).
    fn keep_last(&mut self, doc: DocId) {
        let candidate = Candidate {
            key: 0,
            segment: self.segment,
            doc,
        };
        if self.buffer.len() < self.keep {
            self.buffer.push(candidate);
        } else {
            self.buffer[self.ring_at] = candidate;
            self.ring_at = (self.ring_at + 1) % self.keep;
        }
    }

    fn consider(&mut self, key: u128, doc: DocId) {
        let candidate = Candidate {
            key,
            segment: self.segment,
            doc,
        };
        if self.ascending {
            // Messages are mostly indexed in time order, so with Newest each match beats all
            // before it: while that holds, the last `keep` matches are the best, kept in a ring.
            if self.buffer.is_empty() || key > self.last_key {
                self.last_key = key;
                if self.buffer.len() < self.keep {
                    self.buffer.push(candidate);
                } else {
                    self.buffer[self.ring_at] = candidate;
                    self.ring_at = (self.ring_at + 1) % self.keep;
                }
                return;
            }
            // Out of order (or a tie): the general path from here on.
            self.ascending = false;
            if self.buffer.len() == self.keep {
                self.threshold = self.buffer[self.ring_at].key;
            }
        }
        if key < self.threshold {
            return;
        }
        self.buffer.push(candidate);
        if self.buffer.len() >= self.keep.saturating_mul(2).saturating_add(BUFFER_SLACK) {
            if let Some(boundary) = cut(&mut self.buffer, self.keep) {
                self.threshold = boundary;
            }
        }
    }
}

impl SegmentCollector for HitSegmentCollector {
    type Fruit = (usize, Vec<Candidate>);

    fn collect(&mut self, doc: DocId, score: Score) {
        self.count += 1;
        if self.keep == 0 {
            return;
        }
        if self.tail_only {
            self.keep_last(doc);
            return;
        }
        let score = if self.scored { score } else { 0.0 };
        let sent_at = self.sent_at.first(doc).unwrap_or(i64::MIN);
        self.consider(sort_key(score, sent_at), doc);
    }

    fn collect_block(&mut self, docs: &[DocId]) {
        self.count += docs.len();
        if self.keep == 0 {
            return;
        }
        if self.tail_only {
            // Doc ids ascend within and across blocks: only a block's last `keep` can stay.
            for &doc in &docs[docs.len().saturating_sub(self.keep)..] {
                self.keep_last(doc);
            }
            return;
        }
        let mut values = std::mem::take(&mut self.sent_at_block);
        values.clear();
        values.resize(docs.len(), None);
        self.sent_at.first_vals(docs, &mut values);
        for (&doc, sent_at) in docs.iter().zip(&values) {
            self.consider(sort_key(0.0, sent_at.unwrap_or(i64::MIN)), doc);
        }
        self.sent_at_block = values;
    }

    fn harvest(mut self) -> (usize, Vec<Candidate>) {
        if self.tail_only {
            for c in &mut self.buffer {
                c.key = sort_key(0.0, self.sent_at.first(c.doc).unwrap_or(i64::MIN));
            }
        }
        cut(&mut self.buffer, self.keep);
        (self.count, self.buffer)
    }
}

impl Collector for HitCollector {
    type Fruit = (usize, Vec<Candidate>);
    type Child = HitSegmentCollector;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<HitSegmentCollector> {
        Ok(HitSegmentCollector {
            segment,
            scored: self.requires_scoring(),
            keep: self.offset.saturating_add(self.limit),
            count: 0,
            sent_at: reader.fast_fields().i64(schema::SENT_AT)?,
            buffer: Vec::new(),
            threshold: 0,
            sent_at_block: Vec::new(),
            ascending: true,
            last_key: 0,
            ring_at: 0,
            tail_only: self.order == Order::Newest
                && self
                    .in_order
                    .get(segment as usize)
                    .copied()
                    .unwrap_or(false),
        })
    }

    fn requires_scoring(&self) -> bool {
        self.order == Order::Relevance
    }

    fn merge_fruits(
        &self,
        fruits: Vec<(usize, Vec<Candidate>)>,
    ) -> tantivy::Result<(usize, Vec<Candidate>)> {
        let total = fruits.iter().map(|(count, _)| count).sum();
        let mut all: Vec<Candidate> = fruits.into_iter().flat_map(|(_, c)| c).collect();
        cut(&mut all, self.offset.saturating_add(self.limit));
        Ok((total, all))
    }
}

impl HitCollector {
    /// The requested page of `candidates` (the merged fruit) as hits: ties on the sort key are
    /// ordered by id (descending), then strings are read for the page only.
    pub(crate) fn page(
        &self,
        searcher: &Searcher,
        mut candidates: Vec<Candidate>,
    ) -> tantivy::Result<Vec<Hit>> {
        candidates.sort_unstable_by_key(|c| std::cmp::Reverse(c.key));
        let end = self.offset.saturating_add(self.limit).min(candidates.len());
        if self.offset >= end {
            return Ok(Vec::new());
        }
        // Only the tie groups at the page's edges need the id to be placed.
        let first = candidates[self.offset].key;
        let last = candidates[end - 1].key;
        let from = candidates.partition_point(|c| c.key > first);
        let to = candidates.partition_point(|c| c.key >= last);
        let window = &candidates[from..to];
        let ids = read_column(searcher, window, read_bytes_field(schema::ID))?;
        let mut placed: Vec<(Candidate, Vec<u8>)> = window.iter().copied().zip(ids).collect();
        placed.sort_by(|(a, ia), (b, ib)| b.key.cmp(&a.key).then_with(|| ib.cmp(ia)));
        let page: Vec<(Candidate, Vec<u8>)> = placed
            .into_iter()
            .skip(self.offset - from)
            .take(end - self.offset)
            .collect();
        let docs: Vec<Candidate> = page.iter().map(|(c, _)| *c).collect();
        let conversations = read_column(searcher, &docs, read_str_field(schema::CONVERSATION_ID))?;
        let senders = read_column(searcher, &docs, read_str_field(schema::SENDER))?;
        let text = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap_or_default();
        let scored = self.requires_scoring();
        Ok(page
            .into_iter()
            .zip(conversations.into_iter().zip(senders))
            .map(|((c, id), (conversation_id, sender))| Hit {
                id: idkey::decode(&id),
                conversation_id: text(conversation_id),
                sender: text(sender),
                sent_at: sent_at_of(c.key),
                score: if scored { f32_of(c.key) } else { 0.0 },
            })
            .collect())
    }
}

/// Which segments have `sent_at` strictly increasing with the doc id (messages indexed in
/// time order: the usual case), remembered per segment (segments never change).
#[derive(Default)]
pub(crate) struct InOrderSegments {
    known: std::sync::Mutex<std::collections::HashMap<tantivy::index::SegmentId, bool>>,
}

impl InOrderSegments {
    /// The flags for the searcher's segments, by segment ordinal; forgets segments gone.
    pub(crate) fn for_searcher(&self, searcher: &Searcher) -> tantivy::Result<Vec<bool>> {
        let mut known = match self.known.lock() {
            Ok(known) => known,
            // Only a cache: start over.
            Err(poisoned) => {
                let mut known = poisoned.into_inner();
                known.clear();
                known
            }
        };
        let mut flags = Vec::with_capacity(searcher.segment_readers().len());
        let mut current = std::collections::HashMap::new();
        for reader in searcher.segment_readers() {
            let id = reader.segment_id();
            let flag = match known.get(&id) {
                Some(flag) => *flag,
                None => strictly_increasing(
                    &reader.fast_fields().i64(schema::SENT_AT)?,
                    reader.max_doc(),
                ),
            };
            current.insert(id, flag);
            flags.push(flag);
        }
        *known = current;
        Ok(flags)
    }
}

fn strictly_increasing(column: &Column<i64>, max_doc: DocId) -> bool {
    let mut previous = None;
    for doc in 0..max_doc {
        match column.first(doc) {
            Some(value) if previous.is_none_or(|p| p < value) => previous = Some(value),
            _ => return false,
        }
    }
    true
}

/// A column's values for these candidates, in their order, read segment by segment with
/// `read` (which gets the segment and the docs wanted there).
fn read_column(
    searcher: &Searcher,
    candidates: &[Candidate],
    read: impl Fn(&SegmentReader, &[DocId]) -> tantivy::Result<Vec<Vec<u8>>>,
) -> tantivy::Result<Vec<Vec<u8>>> {
    let mut out = vec![Vec::new(); candidates.len()];
    let mut by_segment: BTreeMap<SegmentOrdinal, Vec<usize>> = BTreeMap::new();
    for (i, c) in candidates.iter().enumerate() {
        by_segment.entry(c.segment).or_default().push(i);
    }
    for (segment, indices) in by_segment {
        let docs: Vec<DocId> = indices.iter().map(|&i| candidates[i].doc).collect();
        let values = read(searcher.segment_reader(segment), &docs)?;
        for (i, value) in indices.into_iter().zip(values) {
            out[i] = value;
        }
    }
    Ok(out)
}

/// Dictionary values of `docs` in one sorted pass over the dictionary (one block decode per
/// block touched, not one per value). A missing value reads as empty.
fn dictionary_values(
    ords: &Column<u64>,
    dictionary: &Dictionary,
    docs: &[DocId],
) -> std::io::Result<Vec<Vec<u8>>> {
    let wanted: Vec<Option<u64>> = docs.iter().map(|&d| ords.first(d)).collect();
    let mut sorted: Vec<u64> = wanted.iter().flatten().copied().collect();
    sorted.sort_unstable();
    sorted.dedup();
    let mut values = Vec::with_capacity(sorted.len());
    dictionary.sorted_ords_to_term_cb(&sorted, |bytes| values.push(bytes.to_vec()))?;
    Ok(wanted
        .into_iter()
        .map(|ord| {
            ord.and_then(|o| sorted.binary_search(&o).ok())
                .and_then(|i| values.get(i).cloned())
                .unwrap_or_default()
        })
        .collect())
}

fn read_bytes_field(
    field: &'static str,
) -> impl Fn(&SegmentReader, &[DocId]) -> tantivy::Result<Vec<Vec<u8>>> {
    move |reader, docs| match reader.fast_fields().bytes(field)? {
        Some(c) => Ok(dictionary_values(c.ords(), c.dictionary(), docs)?),
        None => Ok(vec![Vec::new(); docs.len()]),
    }
}

fn read_str_field(
    field: &'static str,
) -> impl Fn(&SegmentReader, &[DocId]) -> tantivy::Result<Vec<Vec<u8>>> {
    move |reader, docs| match reader.fast_fields().str(field)? {
        Some(c) => Ok(dictionary_values(c.ords(), c.dictionary(), docs)?),
        None => Ok(vec![Vec::new(); docs.len()]),
    }
}
