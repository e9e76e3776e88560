//! Operations endpoints against the real binary: `/readyz` answers ready, and `/metrics`
//! follows logins, stored messages, pushes and store calls.

mod common;

use std::time::{Duration, Instant};

use common::{Conn, TestServer};
use hongyan_protocol::{Envelope, PacketType};

/// Gauges and counters are updated right after the frames a client sees (the session is
/// registered after the login response; a push is recorded after it is queued), so scrapes
/// wait for the expected value instead of sleeping.
const SCRAPE_DEADLINE: Duration = Duration::from_secs(5);

async fn scrape(s: &TestServer) -> String {
    let resp = s
        .http()
        .get(s.url("/metrics"))
        .send()
        .await
        .expect("GET /metrics");
    assert_eq!(resp.status(), 200);
    let ctype = resp.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(ctype.starts_with("text/plain"), "{ctype}");
    resp.text().await.expect("metrics body")
}

/// The value of `series` (name with labels, exactly as exposed) in `text`.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.parse().ok())
}

/// Scrapes until `series` has value `want`; panics with the last scrape after the deadline.
async fn wait_for_value(s: &TestServer, series: &str, want: f64) -> String {
    let start = Instant::now();
    loop {
        let text = scrape(s).await;
        if value(&text, series) == Some(want) {
            return text;
        }
        assert!(
            start.elapsed() < SCRAPE_DEADLINE,
            "{series} never became {want}:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn online(s: &TestServer, name: &str, tcp: bool) -> (String, Conn) {
    let (id, token) = s.account(name).await;
    let mut conn = if tcp { s.tcp().await } else { s.ws().await };
    let resp = conn.login(&id, &token, 1).await;
    assert_eq!(resp.code, 0, "{resp:?}");
    (id, conn)
}

#[tokio::test]
async fn readyz_answers_ready_with_the_store_up() {
    let s = TestServer::start().await;
    let (status, body) = s.get("/readyz", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, serde_json::json!({"ready": true}));
    let (status, _) = s.get("/healthz", None).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn metrics_follow_logins_messages_and_pushes() {
    let s = TestServer::start().await;
    let before = scrape(&s).await;
    assert_eq!(
        value(&before, "hongyan_connections{transport=\"ws\"}"),
        Some(0.0)
    );
    assert_eq!(
        value(&before, "hongyan_connections{transport=\"tcp\"}"),
        Some(0.0)
    );
    assert_eq!(value(&before, "hongyan_messages_total{kind=\"c2c\"}"), None);

    let (a, mut wa) = online(&s, "alice", false).await;
    let (b, mut tb) = online(&s, "bob", true).await;
    wait_for_value(&s, "hongyan_connections{transport=\"ws\"}", 1.0).await;
    wait_for_value(&s, "hongyan_connections{transport=\"tcp\"}", 1.0).await;

    wa.send(&Envelope::chat(a.clone(), b.clone(), "fp-m1", 1, "hi"))
        .await;
    assert_eq!(wa.recv().await.expect("ack").packet_type, PacketType::Ack);
    let got = tb.recv().await.expect("forward");
    assert_eq!(got.fp.as_deref(), Some("fp-m1"));
    // A resend of the same fp is ACKed but is not a new message.
    wa.send(&Envelope::chat(a.clone(), b.clone(), "fp-m1", 1, "hi"))
        .await;
    assert_eq!(wa.recv().await.expect("ack").packet_type, PacketType::Ack);

    let text = wait_for_value(&s, "hongyan_delivery_seconds_count", 1.0).await;
    assert_eq!(
        value(&text, "hongyan_messages_total{kind=\"c2c\"}"),
        Some(1.0)
    );
    assert!(value(&text, "hongyan_delivery_seconds_sum").is_some_and(|v| v >= 0.0));
    assert_eq!(
        value(&text, "hongyan_store_seconds_count{op=\"store_chat\"}"),
        Some(2.0)
    );
    assert!(value(&text, "hongyan_store_seconds_count{op=\"last_seq\"}").is_some_and(|v| v >= 2.0));

    // Bob leaves: the tcp gauge drops back.
    drop(tb);
    wait_for_value(&s, "hongyan_connections{transport=\"tcp\"}", 0.0).await;
    assert_eq!(
        value(&scrape(&s).await, "hongyan_connections{transport=\"ws\"}"),
        Some(1.0)
    );
}

#[tokio::test]
async fn group_messages_and_sync_are_measured_and_offline_members_are_no_delivery() {
    let s = TestServer::start().await;
    let (a, ta) = s.account("alice").await;
    let (b, tb) = s.account("bob").await;
    s.befriend((&a, &ta), (&b, &tb)).await;
    let (st, g) = s
        .post_as(
            &ta,
            "/api/v1/groups",
            serde_json::json!({"name": "team", "members": [b]}),
        )
        .await;
    assert_eq!(st, 201, "{g}");
    let gid = g["group_id"].as_str().expect("gid").to_owned();

    // Only alice is online: bob's copy is stored, not pushed.
    let mut wa = s.ws().await;
    assert_eq!(wa.login(&a, &ta, 1).await.code, 0);
    wa.send(&Envelope::chat(
        a.clone(),
        gid.clone(),
        "fp-g1",
        1,
        "hi all",
    ))
    .await;
    assert_eq!(wa.recv().await.expect("ack").packet_type, PacketType::Ack);
    let text = scrape(&s).await;
    assert_eq!(
        value(&text, "hongyan_messages_total{kind=\"group\"}"),
        Some(1.0)
    );
    assert_eq!(
        value(
            &text,
            "hongyan_store_seconds_count{op=\"store_group_chat\"}"
        ),
        Some(1.0)
    );
    assert_eq!(value(&text, "hongyan_delivery_seconds_count"), Some(0.0));

    // Bob syncs it later: the mailbox read is measured.
    let (rows, _) = s.sync(&tb, 0, 50).await;
    assert!(rows.iter().any(|e| e.fp.as_deref() == Some("fp-g1")));
    let text = scrape(&s).await;
    assert!(
        value(&text, "hongyan_store_seconds_count{op=\"mailbox_after\"}").is_some_and(|v| v >= 1.0),
        "{text}"
    );
}
