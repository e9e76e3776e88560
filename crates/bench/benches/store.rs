//! Client store benchmarks, each beside its baseline in the same run:
//! - ingest: batched (one transaction per 500) vs one transaction per message;
//! - history: keyset page (`before (sent_at, id)`) vs OFFSET paging, newest page and deep
//!   pages of one 1M-message conversation.
//!
//! `cargo bench -p hongyan-bench --bench store` (HONGYAN_BENCH_MESSAGES overrides 1M).

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use hongyan_sdk::{
    model::{HistoryCursor, Message, MessageStatus},
    store::Store,
};
use rusqlite::params;

const PEER: &str = "10002";
const ME: &str = "10001";
const PAGE: usize = 50;

fn message(i: u64) -> Message {
    // Realistic mix: most messages short, some long, Chinese and English.
    let body = match i % 4 {
        0 => format!("好的，明天见 {i}"),
        1 => format!("Did the build pass on CI? run {i}"),
        2 => format!("离线消息推送已经上线，大家可以试一下 MobileIMSDK 的 QoS 机制 {i}"),
        _ => format!("ok {i}"),
    };
    let outgoing = i.is_multiple_of(2);
    Message {
        id: format!("{:016x}-{:08x}", 1_700_000_000_000u64 + i, i),
        conversation_id: PEER.into(),
        from: if outgoing { ME } else { PEER }.into(),
        to: if outgoing { PEER } else { ME }.into(),
        typeu: 1,
        content: body,
        sent_at: 1_700_000_000_000 + i as i64,
        seq: Some(i as i64),
        status: if outgoing {
            MessageStatus::Sent
        } else {
            MessageStatus::Received
        },
        outgoing,
    }
}

fn ingest(c: &mut Criterion) {
    const N: u64 = 5_000;
    let mut group = c.benchmark_group("store_ingest");
    group.throughput(Throughput::Elements(N));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    let fresh = || {
        let dir = tempfile::tempdir().expect("dir");
        let store = Store::open(dir.path().join("store.sqlite3")).expect("store");
        let msgs: Vec<Message> = (0..N).map(message).collect();
        (dir, store, msgs)
    };
    group.bench_function("batched_500_per_txn", |b| {
        b.iter_batched(
            fresh,
            |(_dir, store, msgs)| {
                for chunk in msgs.chunks(500) {
                    store.insert_messages(chunk).expect("insert");
                }
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function("one_txn_per_message", |b| {
        b.iter_batched(
            fresh,
            |(_dir, store, msgs)| {
                for m in &msgs {
                    store.insert_message(m).expect("insert");
                }
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

fn history(c: &mut Criterion) {
    let total: u64 = std::env::var("HONGYAN_BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("dir");
    let store = Store::open(dir.path().join("store.sqlite3")).expect("store");
    let mut i = 0;
    while i < total {
        let batch: Vec<Message> = (i..(i + 5_000).min(total)).map(message).collect();
        store.insert_messages(&batch).expect("fill");
        i += 5_000;
    }
    store
        .with_connection(|c| c.execute_batch("ANALYZE"))
        .expect("analyze");

    let mut group = c.benchmark_group(format!("history_page_{total}"));
    group.sample_size(50);
    group.measurement_time(Duration::from_secs(5));
    for depth in [0u64, 10_000, 100_000, total / 2] {
        // The cursor of the message just above the page at this depth (newest first).
        let cursor = (depth > 0).then(|| {
            let m = message(total - depth);
            HistoryCursor {
                sent_at: m.sent_at,
                id: m.id,
            }
        });
        group.bench_with_input(BenchmarkId::new("keyset", depth), &cursor, |b, cursor| {
            b.iter(|| {
                let page = store.history(PEER, cursor.as_ref(), PAGE).expect("page");
                assert_eq!(page.len(), PAGE);
                page
            })
        });
        group.bench_with_input(BenchmarkId::new("offset", depth), &depth, |b, depth| {
            b.iter(|| {
                store.with_connection(|c| {
                    let mut stmt = c
                        .prepare_cached(
                            "SELECT id, conversation_id, sender, recipient, typeu, content, \
                             sent_at, seq, status, fail_code, fail_reason, outgoing \
                             FROM messages WHERE conversation_id = ?1 \
                             ORDER BY sent_at DESC, id DESC LIMIT ?2 OFFSET ?3",
                        )
                        .expect("prepare");
                    // Read every column the keyset page reads, as owned values.
                    type Row = (String, String, String, String, i64, String, i64);
                    type Rest = (Option<i64>, String, Option<i64>, Option<String>, bool);
                    let rows: Vec<(Row, Rest)> = stmt
                        .query_map(params![PEER, PAGE as i64, *depth as i64], |r| {
                            Ok((
                                (
                                    r.get(0)?,
                                    r.get(1)?,
                                    r.get(2)?,
                                    r.get(3)?,
                                    r.get(4)?,
                                    r.get(5)?,
                                    r.get(6)?,
                                ),
                                (r.get(7)?, r.get(8)?, r.get(9)?, r.get(10)?, r.get(11)?),
                            ))
                        })
                        .expect("query")
                        .collect::<Result<_, _>>()
                        .expect("rows");
                    assert_eq!(rows.len(), PAGE);
                    rows
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, ingest, history);
criterion_main!(benches);
