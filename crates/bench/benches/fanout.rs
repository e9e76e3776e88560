//! Group fan-out on write: one message into a 500-member group, each member's row at its
//! own seq, in one transaction — side by side in the same run:
//! - `server_body_once`: the server's [`fan_out`]: the body stored once, one
//!   `UPDATE … RETURNING` and one `INSERT … SELECT` of rows that reference it;
//! - `batched_copy`: the same two batched statements, each row carrying its own copy;
//! - `per_member_loop`: the baseline, two statements per member, each row a copy.
//!
//! Then the read side: one 100-row sync page of a member (the server's query, a LEFT JOIN
//! on the body) from the body-once database and from the copy database.
//!
//! `cargo bench -p hongyan-bench --bench fanout`

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use hongyan_protocol::api::{parse_group_id, MAX_GROUP_MEMBERS};
use hongyan_server::store::{fanout::fan_out, sqlite::DB_FILE, Store};
use rusqlite::{params, Connection};

/// A data dir with 500 users in one group; returns (dir, group id, sender).
fn seeded() -> (tempfile::TempDir, i64, i64) {
    let dir = tempfile::tempdir().expect("dir");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (gid, owner) = rt.block_on(async {
        let store = Store::open(dir.path()).expect("store");
        let mut users = Vec::new();
        for i in 0..MAX_GROUP_MEMBERS {
            users.push(
                store
                    .create_user(format!("u{i}"), "n".into(), "h".into())
                    .await
                    .expect("user"),
            );
        }
        let (group, _) = store
            .create_group(users[0], "bench".into(), users[1..].to_vec(), false)
            .await
            .expect("group");
        store.close().await;
        (parse_group_id(&group.group_id).expect("gid"), users[0])
    });
    (dir, gid, owner)
}

fn open(dir: &tempfile::TempDir) -> Connection {
    let conn = Connection::open(dir.path().join(DB_FILE)).expect("open");
    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
        .expect("pragmas");
    conn
}

fn per_member_loop(conn: &Connection, gid: i64, from: i64, fp: &str, body: &str, sm: i64) {
    let members: Vec<i64> = conn
        .prepare_cached("SELECT user_id FROM group_members WHERE group_id = ?1")
        .expect("prepare")
        .query_map([gid], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    let to = format!("g{gid}");
    for m in members {
        let seq: i64 = conn
            .prepare_cached(
                "UPDATE users SET last_seq = last_seq + 1 WHERE id = ?1 RETURNING last_seq",
            )
            .expect("prepare")
            .query_row([m], |r| r.get(0))
            .expect("seq");
        conn.prepare_cached(
            "INSERT INTO mailbox (user_id, seq, fp, from_id, to_id, typeu, content, sm)
             VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, ?7)",
        )
        .expect("prepare")
        .execute(params![m, seq, fp, from, to, body, sm])
        .expect("insert");
    }
}

fn batched_copy(conn: &Connection, gid: i64, from: i64, fp: &str, body: &str, sm: i64) {
    conn.prepare_cached(
        "UPDATE users SET last_seq = last_seq + 1
         WHERE id IN (SELECT user_id FROM group_members WHERE group_id = ?1)",
    )
    .expect("prepare")
    .execute([gid])
    .expect("seqs");
    conn.prepare_cached(
        "INSERT INTO mailbox (user_id, seq, fp, from_id, to_id, typeu, content, sm)
         SELECT u.id, u.last_seq, ?2, ?3, ?4, 1, ?5, ?6
         FROM group_members m JOIN users u ON u.id = m.user_id WHERE m.group_id = ?1",
    )
    .expect("prepare")
    .execute(params![gid, fp, from, format!("g{gid}"), body, sm])
    .expect("insert");
}

/// The server's sync query (`Store::mailbox_after`).
fn sync_page(conn: &Connection, user: i64, after: i64) -> usize {
    conn.prepare_cached(
        "SELECT m.seq, m.fp, m.from_id, m.to_id, m.typeu, COALESCE(b.content, m.content), m.sm
         FROM mailbox m LEFT JOIN bodies b ON b.id = m.body_id
         WHERE m.user_id = ?1 AND m.seq > ?2 ORDER BY m.seq LIMIT 100",
    )
    .expect("prepare")
    .query_map(params![user, after], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(5)?,
        ))
    })
    .expect("query")
    .count()
}

fn fanout(c: &mut Criterion) {
    let mut group = c.benchmark_group("group_fanout_500");
    group.throughput(Throughput::Elements(MAX_GROUP_MEMBERS as u64));
    group.sample_size(30);
    group.measurement_time(Duration::from_secs(6));
    let mut kept = Vec::new();
    for size in [64usize, 4096] {
        let body: String = "消息 message "
            .chars()
            .cycle()
            .scan(0, |len, c| {
                *len += c.len_utf8();
                (*len <= size).then_some(c)
            })
            .collect();
        type Variant = fn(&Connection, i64, i64, &str, &str, i64);
        let server: Variant = |conn, gid, from, fp, body, sm| {
            fan_out(conn, gid, from, fp, 1, body, sm).expect("fan out");
        };
        let variants: [(&str, Variant); 3] = [
            ("server_body_once", server),
            ("batched_copy", batched_copy),
            ("per_member_loop", per_member_loop),
        ];
        for (name, run) in variants {
            let (dir, gid, from) = seeded();
            let conn = open(&dir);
            let mut n = 0u64;
            group.bench_with_input(BenchmarkId::new(name, size), &body, |b, body| {
                b.iter(|| {
                    n += 1;
                    let fp = format!("fp-{n}");
                    conn.execute_batch("BEGIN IMMEDIATE").expect("begin");
                    run(&conn, gid, from, &fp, body, 1);
                    conn.execute_batch("COMMIT").expect("commit");
                })
            });
            // The read side pages 100 rows: make sure they are there.
            while n < 100 {
                n += 1;
                conn.execute_batch("BEGIN IMMEDIATE").expect("begin");
                run(&conn, gid, from, &format!("fp-{n}"), &body, 1);
                conn.execute_batch("COMMIT").expect("commit");
            }
            conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
                .expect("checkpoint");
            let on_disk = std::fs::metadata(dir.path().join(DB_FILE)).map_or(0, |m| m.len());
            println!(
                "{name}/{size}: {n} messages, {} KiB on disk = {} B per message",
                on_disk / 1024,
                on_disk / n.max(1)
            );
            if size == 4096 && name != "per_member_loop" {
                kept.push((name, dir, conn, from));
            }
        }
    }
    group.finish();

    let mut read = c.benchmark_group("sync_page_100_of_4096_byte_group_messages");
    read.sample_size(50);
    for (name, _dir, conn, member) in &kept {
        read.bench_function(*name, |b| {
            b.iter(|| assert_eq!(sync_page(conn, *member, 0), 100))
        });
    }
    read.finish();
}

criterion_group!(benches, fanout);
criterion_main!(benches);
