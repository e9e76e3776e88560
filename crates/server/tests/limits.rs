//! Rate limits against the real binary (docs/RELIABILITY.md, "Rate limits"): logins,
//! messages and uploads over their limits get 429 / 1102 with the wait, nothing beyond the
//! limit is stored, the SDK resends what was limited, and a client flooding the server does
//! not slow the others down.

mod common;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use bytes::Bytes;
use common::{Conn, TestServer, PASSWORD};
use futures_util::{SinkExt, StreamExt};
use hongyan_protocol::{codes, Envelope, ErrorResponse, PacketType};
use hongyan_tests::{acked, wait_until, TestClient, Via};
use reqwest::{header, StatusCode};
use serde_json::{json, Value};

/// A login attempt: (status, Retry-After seconds, body).
async fn login_attempt(
    s: &TestServer,
    username: &str,
    password: &str,
) -> (u16, Option<u64>, Value) {
    let resp = s
        .http()
        .post(s.url("/api/v1/login"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("login request");
    answer(resp).await
}

async fn answer(resp: reqwest::Response) -> (u16, Option<u64>, Value) {
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get(header::RETRY_AFTER)
        .map(|v| v.to_str().expect("ascii").parse().expect("whole seconds"));
    let body = resp.json().await.unwrap_or(Value::Null);
    (status, retry_after, body)
}

/// Asserts the API's 429 shape and returns the wait.
fn assert_limited(status: u16, retry_after: Option<u64>, body: &Value) -> Duration {
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
    let message = body["error"]["message"].as_str().expect("message");
    assert!(message.contains("try again in"), "{message}");
    let secs = retry_after.expect("Retry-After on a 429");
    assert!(secs >= 1, "{secs}");
    Duration::from_secs(secs)
}

#[tokio::test]
async fn login_flood_gets_429_with_retry_after_then_passes_after_the_wait() {
    // One attempt every 5 s per username, 3 at once.
    let s = TestServer::start_with(&["--rate-login-user", "12/min:3"]).await;
    s.register("alice").await;
    s.register("bob").await;
    // Wrong passwords until refused: after the burst and what refilled meanwhile (a wrong
    // password is hashed too, slowly in a debug build on a busy machine).
    let started = Instant::now();
    let mut attempts = 0;
    let (status, retry_after, body) = loop {
        let answer = login_attempt(&s, "alice", "wrong-password").await;
        if answer.0 != 401 {
            break answer;
        }
        attempts += 1;
        let allowed = 3 + (started.elapsed().as_secs_f64() / 5.0).ceil() as usize;
        assert!(
            attempts <= allowed,
            "{attempts} wrong passwords in {:?}",
            started.elapsed()
        );
    };
    assert!(attempts >= 3, "refused within the burst: {body}");
    assert_limited(status, retry_after, &body);
    // The right password does not get around the limit, nor does another spelling.
    let (status, retry_after, body) = login_attempt(&s, "Alice", PASSWORD).await;
    let wait = assert_limited(status, retry_after, &body);
    assert!(wait <= Duration::from_secs(5), "{wait:?}");
    // Another account from the same address is not affected.
    let (status, _, body) = login_attempt(&s, "bob", PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    // The SDK surfaces it as an error naming the wait.
    let dir = tempfile::tempdir().expect("tmp");
    let sdk = hongyan_sdk::Client::new(TestClient::config(
        &s.process().url(),
        &s.tcp.to_string(),
        Via::Ws,
        &dir,
    ))
    .expect("client");
    match sdk.login("alice", PASSWORD).await {
        Err(hongyan_sdk::Error::Server {
            status: 429,
            code,
            message,
        }) => {
            assert_eq!(code, "rate_limited");
            assert!(message.contains("too many login attempts"), "{message}");
            assert!(message.contains("try again in"), "{message}");
        }
        other => panic!("expected a 429, got {other:?}"),
    }
    // Waiting as told is enough (the SDK's attempt a moment later reset nothing: a refused
    // attempt costs nothing, so the wait told before still holds).
    tokio::time::sleep(wait).await;
    let (status, _, body) = login_attempt(&s, "alice", PASSWORD).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn registrations_and_logins_are_limited_per_address() {
    // One every 5 s, 4 at once.
    let s = TestServer::start_with(&["--rate-login-ip", "12/min:4"]).await;
    s.register("addr0").await;
    s.login("addr0").await;
    // Registrations until refused: after the burst and what refilled meanwhile.
    let started = Instant::now();
    let mut created = 0;
    let (status, retry_after, body) = loop {
        let resp = s
            .http()
            .post(s.url("/api/v1/register"))
            .json(&json!({"username": format!("addr{}", created + 1), "password": PASSWORD}))
            .send()
            .await
            .expect("register");
        let answer = answer(resp).await;
        if answer.0 != 201 {
            break answer;
        }
        created += 1;
        let allowed = 2 + (started.elapsed().as_secs_f64() / 5.0).ceil() as usize;
        assert!(
            created <= allowed,
            "{created} registrations in {:?}",
            started.elapsed()
        );
    };
    assert!(created >= 2, "refused within the burst: {body}");
    let refused = format!("addr{}", created + 1);
    let wait = assert_limited(status, retry_after, &body);
    assert!(body["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("from this address")));
    // Nothing was created.
    tokio::time::sleep(wait).await;
    let (status, _, body) = login_attempt(&s, &refused, PASSWORD).await;
    assert_eq!(status, 401, "{refused} was never registered: {body}");
}

#[tokio::test]
async fn long_connection_logins_are_limited_per_address() {
    let s = TestServer::start_with(&["--rate-conn-login-ip", "60/min:2"]).await;
    let (id, token) = s.account("alice").await;
    for tcp in [false, true] {
        let mut conn = if tcp { s.tcp().await } else { s.ws().await };
        assert_eq!(conn.login(&id, &token, 1000).await.code, 0);
    }
    let mut third = s.tcp().await;
    let info = hongyan_protocol::LoginInfo {
        login_user_id: id.clone(),
        login_token: token.clone(),
        extra: None,
        first_login_time: 1000,
    };
    third.send(&Envelope::login(&info)).await;
    let (code, fp) = third.expect_error().await;
    assert_eq!((code, fp), (codes::ERR_RATE_LIMITED, None));
    third.expect_closed().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut later = s.ws().await;
    assert_eq!(later.login(&id, &token, 1000).await.code, 0);
}

/// Logs `name` in on a raw TCP connection: (user id, token, connection).
async fn raw_client(s: &TestServer, name: &str) -> (String, String, Conn) {
    let (id, token) = s.account(name).await;
    let mut conn = s.tcp().await;
    assert_eq!(conn.login(&id, &token, 1000).await.code, 0);
    (id, token, conn)
}

#[tokio::test]
async fn message_flood_on_one_connection_gets_1102_with_fp_and_stores_nothing_more() {
    // 10 a second, 5 at once, per connection.
    let s = TestServer::start_with(&["--rate-msg-conn", "10/s:5"]).await;
    let (a, _, mut conn) = raw_client(&s, "alice").await;
    let (b, tb) = s.account("bob").await;
    const SENT: usize = 30;
    let started = Instant::now();
    for i in 0..SENT {
        conn.send(&Envelope::chat(
            &a,
            &b,
            format!("fp-{i}"),
            1,
            format!("m{i}"),
        ))
        .await;
    }
    let (mut acked_fps, mut limited_fps) = (Vec::new(), Vec::new());
    for _ in 0..SENT {
        let env = conn.recv().await.expect("a reply for every frame");
        match env.packet_type {
            PacketType::Ack => acked_fps.push(env.data_content.expect("acked fp")),
            PacketType::Error => {
                let err: ErrorResponse = env.payload().expect("error payload");
                assert_eq!(err.error_code, codes::ERR_RATE_LIMITED, "{err:?}");
                assert!(err
                    .error_msg
                    .contains("too many messages on this connection"));
                limited_fps.push(err.fp.expect("the limited frame's fp"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    let elapsed = started.elapsed();
    // The burst, plus what refilled while the frames went out.
    let allowed = 5 + (elapsed.as_secs_f64() * 10.0).ceil() as usize;
    assert!(
        (5..=allowed).contains(&acked_fps.len()),
        "{} acked in {elapsed:?}",
        acked_fps.len()
    );
    assert_eq!(acked_fps.len() + limited_fps.len(), SENT);
    // Bob's mailbox holds exactly what was acknowledged.
    let (stored, _) = s.sync(&tb, 0, 100).await;
    let mut stored_fps: Vec<String> = stored.into_iter().filter_map(|e| e.fp).collect();
    stored_fps.sort();
    acked_fps.sort();
    assert_eq!(stored_fps, acked_fps);
    // The connection stays usable: after a short wait the same fp goes through.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let retry = &limited_fps[0];
    conn.send(&Envelope::chat(&a, &b, retry.clone(), 1, "again"))
        .await;
    let ack = conn.recv().await.expect("ack");
    assert_eq!(
        (ack.packet_type, ack.data_content.as_deref()),
        (PacketType::Ack, Some(retry.as_str()))
    );
    // Keepalives are never limited.
    conn.send(&Envelope::keepalive(a.clone())).await;
    assert_eq!(
        conn.recv().await.expect("keepalive answer").packet_type,
        PacketType::KeepaliveResp
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_resends_rate_limited_messages_until_every_one_is_delivered() {
    // 10 a second, 2 at once: a quick burst of 8 is mostly refused at first.
    let s = TestServer::start_with(&["--rate-msg-conn", "10/s:2"]).await;
    // QoS resends after 1 s, 3 times before it calls a message lost: slow enough that a
    // busy test machine does not make an unanswered resend look like a dead link.
    let timing = hongyan_sdk::Timing {
        qos_min_age: Duration::from_secs(1),
        qos_max_retries: 3,
        ..hongyan_tests::clients::fast_timing()
    };
    let (url, tcp) = (s.process().url(), s.tcp.to_string());
    let alice =
        TestClient::register_with_timing(&url, &tcp, "alice", Via::Ws, timing.clone()).await;
    let bob = TestClient::register_with_timing(&url, &tcp, "bob", Via::Tcp, timing).await;
    let texts: Vec<String> = (0..8).map(|i| format!("burst {i}")).collect();
    let mut ids = Vec::new();
    for t in &texts {
        ids.push(alice.send(&bob.user_id, t).await.id);
    }
    // Every message ends acknowledged (never Failed on the way), and bob has all of them.
    let failed = Arc::new(Mutex::new(Vec::new()));
    let mut events = alice.client.events();
    let watch = {
        let failed = failed.clone();
        tokio::spawn(async move {
            while let Ok(e) = events.recv().await {
                if let hongyan_sdk::Event::MessageStatusChanged {
                    id,
                    status: status @ hongyan_sdk::MessageStatus::Failed { .. },
                } = e
                {
                    failed.lock().expect("lock").push((id, status));
                }
            }
        })
    };
    wait_until("every limited message is resent and acknowledged", || {
        let (client, ids) = (&alice.client, &ids);
        async move {
            for id in ids {
                let m = client.message(id).await.expect("read").expect("stored");
                if !acked(&m.status) {
                    return false;
                }
            }
            true
        }
    })
    .await;
    watch.abort();
    assert_eq!(
        *failed.lock().expect("lock"),
        Vec::new(),
        "no message failed"
    );
    let got = bob.wait_conversation_len(&alice.user_id, texts.len()).await;
    let mut got: Vec<String> = got.into_iter().map(|m| m.content).collect();
    got.sort();
    let mut want = texts.clone();
    want.sort();
    assert_eq!(got, want, "each message delivered once");
}

/// A small real PNG, distinct per `seed`.
fn png(seed: u8) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(8, 8, image::Rgb([seed, 7, 9]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("encode png");
    out.into_inner()
}

fn sha_of(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

async fn put(s: &TestServer, token: &str, body: Vec<u8>) -> (u16, Option<u64>, Value) {
    let sha = sha_of(&body);
    let resp = s
        .http()
        .put(s.url(&format!("/api/v1/media/{sha}")))
        .bearer_auth(token)
        .body(body)
        .send()
        .await
        .expect("put");
    answer(resp).await
}

#[tokio::test]
async fn upload_flood_gets_429_by_requests_and_by_bytes() {
    let s = TestServer::start_with(&[
        "--rate-upload",
        "60/min:3",
        "--rate-upload-mib",
        "1/min:1",
        "--max-media-bytes",
        "700000",
    ])
    .await;
    let (_, alice) = s.account("alice").await;
    for seed in 0..3 {
        let (status, _, body) = put(&s, &alice, png(seed)).await;
        assert_eq!(status, StatusCode::CREATED.as_u16(), "{body}");
    }
    let (status, retry_after, body) = put(&s, &alice, png(3)).await;
    let wait = assert_limited(status, retry_after, &body);
    assert_eq!(wait, Duration::from_secs(1));
    assert!(body["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("too many uploads")));
    // Another account has its own buckets; 600 kB then 600 kB more is over 1 MiB a minute.
    let (_, bob) = s.account("bob").await;
    let big = vec![0_u8; 600_000];
    let (status, _, body) = put(&s, &bob, big.clone()).await;
    assert_eq!(status, 415, "not an image, but it was let through: {body}");
    let mut other = big;
    other[0] = 1;
    let (status, retry_after, body) = put(&s, &bob, other).await;
    assert_limited(status, retry_after, &body);
    assert!(body["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("too many bytes")));
    // Alice may upload again after the wait.
    tokio::time::sleep(wait).await;
    let (status, _, body) = put(&s, &alice, png(3)).await;
    assert_eq!(status, 201, "{body}");
}

// --- The flood test -----------------------------------------------------------------------

/// Normal clients chatting in a ring.
const CHATTERS: usize = 8;
/// Each sends one message every this long (5 a second: a fast typist, far below the limit).
const CHAT_EVERY: Duration = Duration::from_millis(200);
/// Each phase (baseline, flood) lasts this long.
const PHASE: Duration = Duration::from_secs(4);
/// The flood is bounded in time (the phase) and in frames.
const FLOOD_CAP: usize = 200_000;
/// The chatters' ACK latency p99 under the flood may be at most this many times the
/// baseline's …
const P99_RATIO_BOUND: f64 = 3.0;
/// … or the baseline plus this, whichever is more: at a p99 of 2 ms one scheduling hiccup
/// of the 2-core CI machine triples it (seen: 2.5 → 7.5 ms), while an unlimited flood costs
/// tens of milliseconds (9.8 → 50.2 ms).
const P99_SLACK: Duration = Duration::from_millis(10);

/// What one run measured.
#[derive(Debug)]
struct FloodReport {
    baseline_p99: Duration,
    flood_p99: Duration,
    baseline_samples: usize,
    flood_samples: usize,
    flood_sent: usize,
    flood_acked: usize,
    flood_limited: usize,
    flood_secs: f64,
}

/// One chatter: sends on a schedule, records ACK latency by fp, counts what it receives.
struct Chatter {
    id: String,
    sink: futures_util::stream::SplitSink<
        tokio_util::codec::Framed<tokio::net::TcpStream, hongyan_protocol::FrameCodec>,
        Bytes,
    >,
    pending: Arc<Mutex<HashMap<String, Instant>>>,
    latencies: Arc<Mutex<Vec<(String, Duration)>>>,
    received: Arc<Mutex<usize>>,
    reader: tokio::task::JoinHandle<()>,
}

async fn chatter(s: &TestServer, name: &str) -> Chatter {
    let (id, _, conn) = raw_client(s, name).await;
    let Conn::Tcp(framed) = conn else {
        unreachable!("raw_client is TCP")
    };
    let (sink, mut stream) = framed.split();
    let pending: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let latencies: Arc<Mutex<Vec<(String, Duration)>>> = Arc::default();
    let received = Arc::new(Mutex::new(0));
    let reader = {
        let (pending, latencies, received) = (pending.clone(), latencies.clone(), received.clone());
        tokio::spawn(async move {
            while let Some(Ok(frame)) = stream.next().await {
                let env = Envelope::decode_unbounded(&frame).expect("server frame");
                match env.packet_type {
                    PacketType::Ack => {
                        let fp = env.data_content.expect("fp");
                        let sent = pending.lock().expect("lock").remove(&fp);
                        if let Some(sent) = sent {
                            latencies.lock().expect("lock").push((fp, sent.elapsed()));
                        }
                    }
                    PacketType::CommonData if env.typeu == 1 => {
                        *received.lock().expect("lock") += 1;
                    }
                    PacketType::Error => panic!("a chatter got an error: {env:?}"),
                    _ => {}
                }
            }
        })
    };
    Chatter {
        id,
        sink,
        pending,
        latencies,
        received,
        reader,
    }
}

impl Chatter {
    async fn send(&mut self, to: &str, fp: String) {
        let env = Envelope::chat(&self.id, to, fp.clone(), 1, format!("hello {fp}"));
        self.pending
            .lock()
            .expect("lock")
            .insert(fp, Instant::now());
        self.sink
            .send(Bytes::from(env.encode()))
            .await
            .expect("chatter send");
    }
}

/// Every chatter sends to the next one on [`CHAT_EVERY`] for [`PHASE`]; messages are named
/// `<phase>-<chatter>-<n>`. Returns how many each sent.
async fn chat_phase(chatters: &mut [Chatter], phase: &str) -> usize {
    let ids: Vec<String> = chatters.iter().map(|c| c.id.clone()).collect();
    let mut tick = tokio::time::interval(CHAT_EVERY);
    let rounds = (PHASE.as_millis() / CHAT_EVERY.as_millis()) as usize;
    for n in 0..rounds {
        tick.tick().await;
        for (i, c) in chatters.iter_mut().enumerate() {
            let to = &ids[(i + 1) % ids.len()];
            c.send(to, format!("{phase}-{i}-{n}")).await;
        }
    }
    rounds
}

fn p99(latencies: &[Duration]) -> Duration {
    let mut sorted = latencies.to_vec();
    sorted.sort();
    let rank = ((sorted.len() as f64) * 0.99).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Floods from its own connection as fast as it can until `stop` (or [`FLOOD_CAP`]
/// frames): every frame it manages to write counts as sent, whether the server got to it or
/// TCP holds it. Counts the answers read meanwhile. (sent, acked, limited, seconds).
async fn flood(
    (id, target, conn): (String, String, Conn),
    started_tx: tokio::sync::oneshot::Sender<()>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> (usize, usize, usize, f64) {
    let Conn::Tcp(framed) = conn else {
        unreachable!("raw_client is TCP")
    };
    let (mut sink, mut stream) = framed.split();
    let mut reader_stop = stop.clone();
    let reader = tokio::spawn(async move {
        let (mut acked, mut limited) = (0, 0);
        loop {
            let frame = tokio::select! {
                _ = reader_stop.changed() => break,
                frame = stream.next() => match frame {
                    Some(Ok(frame)) => frame,
                    _ => break,
                },
            };
            let env = Envelope::decode_unbounded(&frame).expect("server frame");
            match env.packet_type {
                PacketType::Ack => acked += 1,
                PacketType::Error => {
                    let err: ErrorResponse = env.payload().expect("error");
                    assert_eq!(err.error_code, codes::ERR_RATE_LIMITED, "{err:?}");
                    assert!(err.fp.is_some());
                    limited += 1;
                }
                _ => {}
            }
        }
        (acked, limited, stream)
    });
    let started = Instant::now();
    let _ = started_tx.send(());
    let mut sent = 0;
    while sent < FLOOD_CAP {
        let frame = Envelope::chat(&id, &target, format!("flood-{sent}"), 1, "spam").encode();
        tokio::select! {
            biased;
            _ = stop.changed() => break,
            written = sink.send(Bytes::from(frame)) => match written {
                Ok(()) => sent += 1,
                Err(_) => break,
            },
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let (acked, limited, stream) = reader.await.expect("flood reader");
    // Hang up with frames still unread: the server drops the connection.
    drop((sink, stream));
    (sent, acked, limited, secs)
}

/// Baseline phase, then the same chat beside a flood; checks that every chat message was
/// acknowledged and delivered.
async fn measure_flood(server_args: &[&str]) -> FloodReport {
    let s = TestServer::start_with(server_args).await;
    let mut chatters = Vec::new();
    for i in 0..CHATTERS {
        chatters.push(chatter(&s, &format!("chatter{i}")).await);
    }
    let rounds = chat_phase(&mut chatters, "base").await;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let (started_tx, started_rx) = tokio::sync::oneshot::channel();
    let (flooder, _, conn) = raw_client(&s, "flooder").await;
    let (target, _) = s.account("flood-target").await;
    // Its own task: a sender that never waits must not starve the chat.
    let flood = tokio::spawn(flood((flooder, target, conn), started_tx, stop_rx));
    let chat = async {
        // The flooder logs in first; the chat starts with its first frames.
        started_rx.await.expect("the flood starts");
        let n = chat_phase(&mut chatters, "flood").await;
        let _ = stop_tx.send(true);
        n
    };
    let (flooded, flood_rounds) = tokio::join!(flood, chat);
    let (flood_sent, flood_acked, flood_limited, flood_secs) = flooded.expect("flood task");
    let expected = rounds + flood_rounds;
    wait_until("every chat message is acknowledged and delivered", || {
        let chatters = &chatters;
        async move {
            chatters.iter().all(|c| {
                c.latencies.lock().expect("lock").len() == expected
                    && *c.received.lock().expect("lock") == expected
            })
        }
    })
    .await;
    let (mut base, mut flooded) = (Vec::new(), Vec::new());
    for c in &chatters {
        for (fp, latency) in c.latencies.lock().expect("lock").iter() {
            if fp.starts_with("base-") {
                base.push(*latency);
            } else {
                flooded.push(*latency);
            }
        }
        assert!(c.pending.lock().expect("lock").is_empty());
        c.reader.abort();
    }
    FloodReport {
        baseline_p99: p99(&base),
        flood_p99: p99(&flooded),
        baseline_samples: base.len(),
        flood_samples: flooded.len(),
        flood_sent,
        flood_acked,
        flood_limited,
        flood_secs,
    }
}

/// The flood test: with the default limits, one client flooding as fast as it can
/// does not slow the others' ACKs beyond [`P99_RATIO_BOUND`] × their no-flood p99, and
/// every message of theirs is acknowledged and delivered. Figures: `--no-capture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flooding_client_does_not_slow_the_others_down() {
    let r = measure_flood(&[]).await;
    let ratio = r.flood_p99.as_secs_f64() / r.baseline_p99.as_secs_f64();
    eprintln!("flood with the default limits: {r:?}; p99 ratio {ratio:.2}");
    // It was a flood: far more frames than the limit lets through, and the limit held
    // (300 at once, 20 a second, per connection).
    let allowed = 300 + (r.flood_secs * 20.0).ceil() as usize + 20;
    assert!(r.flood_acked <= allowed, "{r:?}");
    assert!(
        r.flood_sent >= 10 * allowed,
        "the flood was too slow to mean anything: {r:?}"
    );
    assert!(r.flood_limited > 0, "{r:?}");
    assert!(r.flood_acked + r.flood_limited <= r.flood_sent, "{r:?}");
    assert_eq!(r.baseline_samples, r.flood_samples, "{r:?}");
    let bound = r
        .baseline_p99
        .mul_f64(P99_RATIO_BOUND)
        .max(r.baseline_p99 + P99_SLACK);
    assert!(
        r.flood_p99 <= bound,
        "chat p99 went from {:?} to {:?} (×{ratio:.2}) under the flood: {r:?}",
        r.baseline_p99,
        r.flood_p99
    );
}

/// The same flood against a server without limits (for docs/RELIABILITY.md; not a pass/fail
/// check): `cargo nextest run -p hongyan-server --test limits --run-ignored only --no-capture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "measurement for the docs: the same flood with --rate-limits false"]
async fn flood_without_limits_for_comparison() {
    let r = measure_flood(&["--rate-limits", "false"]).await;
    let ratio = r.flood_p99.as_secs_f64() / r.baseline_p99.as_secs_f64();
    eprintln!("flood without limits: {r:?}; p99 ratio {ratio:.2}");
}
