//! One pass over the matches: count them all and keep the best `offset + limit`, ordered by
//! `sent_at` (Newest) or score (Relevance), ties broken by `sent_at` and then the message id.
//!
//! Per match it reads one fast value and compares one integer with a threshold; candidates go
//! to a buffer that is cut back to the best `keep` when it is full (amortised O(1) per match,
//! unlike a heap, whose every insert costs O(log k) when messages arrive in time order).

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{BytesColumn, Column, StrColumn};
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

use crate::idkey;
use crate::schema;
use crate::types::{Hit, Order};

pub(crate) struct HitCollector {
    pub order: Order,
    pub offset: usize,
    pub limit: usize,
}

/// Score, then sent_at, packed so that one integer comparison orders candidates.
#[derive(Clone, Copy)]
struct Candidate {
    key: u128,
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
    scored: bool,
    keep: usize,
    count: usize,
    sent_at: Column<i64>,
    id: Option<BytesColumn>,
    conversation_id: Option<StrColumn>,
    sender: Option<StrColumn>,
    buffer: Vec<Candidate>,
    /// Candidates below this can no longer make the page.
    threshold: u128,
    sent_at_block: Vec<Option<i64>>,
}

/// A hit with its id key, for the merge across segments.
pub(crate) type KeyedHit = (Vec<u8>, Hit);

impl HitSegmentCollector {
    fn id_ord(&self, doc: DocId) -> u64 {
        self.id
            .as_ref()
            .and_then(|c| c.ords().first(doc))
            .unwrap_or(0)
    }

    fn consider(&mut self, candidate: Candidate) {
        if candidate.key < self.threshold {
            return;
        }
        self.buffer.push(candidate);
        if self.buffer.len() >= self.keep.saturating_mul(2).saturating_add(BUFFER_SLACK) {
            self.cut();
        }
    }

    /// Keeps the best `keep` candidates plus any tied with the worst of them (the id decides
    /// between those at harvest), and raises the threshold to that worst key.
    fn cut(&mut self) {
        if self.buffer.len() <= self.keep {
            return;
        }
        let nth = self.keep - 1;
        let (_, boundary, rest) = self
            .buffer
            .select_nth_unstable_by(nth, |a, b| b.key.cmp(&a.key));
        let boundary = boundary.key;
        let ties: Vec<Candidate> = rest.iter().filter(|c| c.key == boundary).copied().collect();
        self.buffer.truncate(self.keep);
        self.buffer.extend(ties);
        self.threshold = boundary;
    }
}

/// The dictionary values of `docs` in a column, looked up in one sorted pass over the
/// dictionary (one block decode per block touched, instead of one per lookup).
fn resolve(
    dictionary: Option<(&Column<u64>, &tantivy::columnar::Dictionary)>,
    docs: &[DocId],
) -> Vec<Vec<u8>> {
    let Some((ords_column, dictionary)) = dictionary else {
        return vec![Vec::new(); docs.len()];
    };
    let ords: Vec<Option<u64>> = docs.iter().map(|&d| ords_column.first(d)).collect();
    let mut sorted: Vec<u64> = ords.iter().flatten().copied().collect();
    sorted.sort_unstable();
    sorted.dedup();
    let mut values = Vec::with_capacity(sorted.len());
    // A failed read leaves the field empty rather than failing the whole search.
    let _ = dictionary.sorted_ords_to_term_cb(&sorted, |bytes| values.push(bytes.to_vec()));
    ords.iter()
        .map(|ord| {
            ord.and_then(|o| sorted.binary_search(&o).ok())
                .and_then(|i| values.get(i).cloned())
                .unwrap_or_default()
        })
        .collect()
}

fn str_dictionary(
    column: &Option<StrColumn>,
) -> Option<(&Column<u64>, &tantivy::columnar::Dictionary)> {
    column.as_ref().map(|c| (c.ords(), c.dictionary()))
}

impl SegmentCollector for HitSegmentCollector {
    type Fruit = (usize, Vec<KeyedHit>);

    fn collect(&mut self, doc: DocId, score: Score) {
        self.count += 1;
        if self.keep == 0 {
            return;
        }
        let score = if self.scored { score } else { 0.0 };
        let sent_at = self.sent_at.first(doc).unwrap_or(i64::MIN);
        self.consider(Candidate {
            key: sort_key(score, sent_at),
            doc,
        });
    }

    fn collect_block(&mut self, docs: &[DocId]) {
        self.count += docs.len();
        if self.keep == 0 {
            return;
        }
        let mut values = std::mem::take(&mut self.sent_at_block);
        values.clear();
        values.resize(docs.len(), None);
        self.sent_at.first_vals(docs, &mut values);
        for (&doc, sent_at) in docs.iter().zip(&values) {
            self.consider(Candidate {
                key: sort_key(0.0, sent_at.unwrap_or(i64::MIN)),
                doc,
            });
        }
        self.sent_at_block = values;
    }

    fn harvest(mut self) -> (usize, Vec<KeyedHit>) {
        self.cut();
        let mut best: Vec<(Candidate, u64)> = self
            .buffer
            .iter()
            .map(|c| (*c, self.id_ord(c.doc)))
            .collect();
        best.sort_unstable_by(|(a, ia), (b, ib)| b.key.cmp(&a.key).then(ib.cmp(ia)));
        best.truncate(self.keep);
        let docs: Vec<DocId> = best.iter().map(|(c, _)| c.doc).collect();
        let keys = resolve(self.id.as_ref().map(|c| (c.ords(), c.dictionary())), &docs);
        let conversations = resolve(str_dictionary(&self.conversation_id), &docs);
        let senders = resolve(str_dictionary(&self.sender), &docs);
        let text = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap_or_default();
        let hits = best
            .iter()
            .zip(keys.into_iter().zip(conversations.into_iter().zip(senders)))
            .map(|((c, _), (key, (conversation_id, sender)))| {
                let hit = Hit {
                    id: idkey::decode(&key),
                    conversation_id: text(conversation_id),
                    sender: text(sender),
                    sent_at: sent_at_of(c.key),
                    score: if self.scored { f32_of(c.key) } else { 0.0 },
                };
                (key, hit)
            })
            .collect();
        (self.count, hits)
    }
}

impl Collector for HitCollector {
    type Fruit = (usize, Vec<Hit>);
    type Child = HitSegmentCollector;

    fn for_segment(
        &self,
        _segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<HitSegmentCollector> {
        let fast = reader.fast_fields();
        Ok(HitSegmentCollector {
            scored: self.requires_scoring(),
            keep: self.offset.saturating_add(self.limit),
            count: 0,
            sent_at: fast.i64(schema::SENT_AT)?,
            id: fast.bytes(schema::ID)?,
            conversation_id: fast.str(schema::CONVERSATION_ID)?,
            sender: fast.str(schema::SENDER)?,
            buffer: Vec::new(),
            threshold: 0,
            sent_at_block: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        self.order == Order::Relevance
    }

    fn merge_fruits(
        &self,
        fruits: Vec<(usize, Vec<KeyedHit>)>,
    ) -> tantivy::Result<(usize, Vec<Hit>)> {
        let total = fruits.iter().map(|(count, _)| count).sum();
        let mut hits: Vec<KeyedHit> = fruits.into_iter().flat_map(|(_, hits)| hits).collect();
        hits.sort_by(|(ka, a), (kb, b)| {
            b.score
                .total_cmp(&a.score)
                .then(b.sent_at.cmp(&a.sent_at))
                .then_with(|| kb.cmp(ka))
        });
        let page = hits
            .into_iter()
            .skip(self.offset)
            .take(self.limit)
            .map(|(_, hit)| hit)
            .collect();
        Ok((total, page))
    }
}
