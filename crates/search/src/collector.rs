//! One pass over the matches: count them all and keep the best `offset + limit`, ordered by
//! `sent_at` (Newest) or score (Relevance), ties broken by `sent_at` and then the message id.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

use crate::schema;
use crate::types::{Hit, Order};

pub(crate) struct HitCollector {
    pub order: Order,
    pub offset: usize,
    pub limit: usize,
}

/// Sort key inside one segment; `id_ord` orders like the id string within a segment.
#[derive(Clone, Copy)]
struct Key {
    score: Score,
    sent_at: i64,
    id_ord: u64,
    doc: DocId,
}

impl Key {
    fn cmp_key(&self, other: &Key) -> Ordering {
        self.score
            .total_cmp(&other.score)
            .then(self.sent_at.cmp(&other.sent_at))
            .then(self.id_ord.cmp(&other.id_ord))
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.cmp_key(other) == Ordering::Equal
    }
}
impl Eq for Key {}
impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Key {
    fn cmp(&self, other: &Self) -> Ordering {
        self.cmp_key(other)
    }
}

pub(crate) struct HitSegmentCollector {
    scored: bool,
    keep: usize,
    count: usize,
    sent_at: Column<i64>,
    id: Option<StrColumn>,
    conversation_id: Option<StrColumn>,
    sender: Option<StrColumn>,
    /// The `keep` best so far, worst on top.
    best: BinaryHeap<Reverse<Key>>,
}

fn read_str(column: &Option<StrColumn>, doc: DocId) -> String {
    let mut out = String::new();
    if let Some(column) = column {
        if let Some(ord) = column.ords().first(doc) {
            // A failed read leaves the field empty rather than failing the whole search.
            let _ = column.ord_to_str(ord, &mut out);
        }
    }
    out
}

impl SegmentCollector for HitSegmentCollector {
    type Fruit = (usize, Vec<Hit>);

    fn collect(&mut self, doc: DocId, score: Score) {
        self.count += 1;
        if self.keep == 0 {
            return;
        }
        let key = Key {
            score: if self.scored { score } else { 0.0 },
            sent_at: self.sent_at.first(doc).unwrap_or(i64::MIN),
            id_ord: self
                .id
                .as_ref()
                .and_then(|c| c.ords().first(doc))
                .unwrap_or(0),
            doc,
        };
        if self.best.len() < self.keep {
            self.best.push(Reverse(key));
        } else if let Some(mut worst) = self.best.peek_mut() {
            if key > worst.0 {
                *worst = Reverse(key);
            }
        }
    }

    fn harvest(self) -> (usize, Vec<Hit>) {
        let hits = self
            .best
            .into_iter()
            .map(|Reverse(key)| Hit {
                id: read_str(&self.id, key.doc),
                conversation_id: read_str(&self.conversation_id, key.doc),
                sender: read_str(&self.sender, key.doc),
                sent_at: key.sent_at,
                score: key.score,
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
            id: fast.str(schema::ID)?,
            conversation_id: fast.str(schema::CONVERSATION_ID)?,
            sender: fast.str(schema::SENDER)?,
            best: BinaryHeap::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        self.order == Order::Relevance
    }

    fn merge_fruits(&self, fruits: Vec<(usize, Vec<Hit>)>) -> tantivy::Result<(usize, Vec<Hit>)> {
        let total = fruits.iter().map(|(count, _)| count).sum();
        let mut hits: Vec<Hit> = fruits.into_iter().flat_map(|(_, hits)| hits).collect();
        hits.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(b.sent_at.cmp(&a.sent_at))
                .then_with(|| b.id.cmp(&a.id))
        });
        let page = hits
            .into_iter()
            .skip(self.offset)
            .take(self.limit)
            .collect();
        Ok((total, page))
    }
}
