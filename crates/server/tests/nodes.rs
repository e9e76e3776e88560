//! Two `hongyan-server` nodes on one PostgreSQL and one nats-server (docs/DEPLOY.md, "Node
//! wiring"), spoken to with the raw protocol: cross-node delivery, kicks across nodes, and a
//! NATS outage that loses nothing.

mod common;

use std::time::Duration;

use common::{
    deployment::{wait_ready, Deployment},
    Conn, TestServer,
};
use hongyan_protocol::{Envelope, KickoutInfo, PacketType};
use hongyan_tests::{NatsServer, PgServer};

/// How long "nothing arrives" is watched.
const QUIET: Duration = Duration::from_millis(500);

/// Registers `name` on `node` and logs it in there over WebSocket (or TCP) with `flt`.
async fn online(node: &TestServer, name: &str, tcp: bool, flt: i64) -> (String, String, Conn) {
    let (id, token) = node.account(name).await;
    let mut conn = if tcp {
        node.tcp().await
    } else {
        node.ws().await
    };
    let resp = conn.login(&id, &token, flt).await;
    assert_eq!(resp.code, 0, "{resp:?}");
    (id, token, conn)
}

/// Sends a text from `from` to `to` and asserts the ACK (stored) for its fp.
async fn send_acked(conn: &mut Conn, from: &str, to: &str, fp: &str, text: &str) {
    conn.send(&Envelope::chat(from, to, fp, 1, text)).await;
    let ack = conn.recv().await.expect("ack");
    assert_eq!(
        (ack.packet_type, ack.data_content.as_deref()),
        (PacketType::Ack, Some(fp)),
        "{ack:?}"
    );
}

/// The next frame must be the forward of `fp` from `from`.
async fn expect_forward(conn: &mut Conn, from: &str, fp: &str, text: &str) -> Envelope {
    let got = conn.recv().await.expect("forward");
    assert_eq!(got.packet_type, PacketType::CommonData, "{got:?}");
    assert_eq!(
        (
            got.from.as_str(),
            got.fp.as_deref(),
            got.data_content.as_deref()
        ),
        (from, Some(fp), Some(text))
    );
    assert!(got.qos && got.seq.is_some() && got.sm > 0, "{got:?}");
    got
}

#[tokio::test]
async fn a_message_sent_on_one_node_reaches_a_session_on_the_other() {
    let d = Deployment::start().await;
    let (alice, _ta, mut on_a) = online(&d.a, "alice", false, 100).await;
    let (bob, tb, mut on_b) = online(&d.b, "bob", true, 100).await;

    send_acked(&mut on_a, &alice, &bob, "fp-a2b", "hello from node A").await;
    let got = expect_forward(&mut on_b, &alice, "fp-a2b", "hello from node A").await;
    assert_eq!(got.seq, Some(1));
    // Pushed once, by node B only (node A published it and did not push anything itself).
    on_b.expect_silence(QUIET).await;
    assert_eq!(d.b.metric("hongyan_delivery_seconds_count").await, 1.0);
    assert_eq!(d.a.metric("hongyan_delivery_seconds_count").await, 0.0);

    // And back, TCP on B → WebSocket on A.
    send_acked(&mut on_b, &bob, &alice, "fp-b2a", "hi from node B").await;
    expect_forward(&mut on_a, &bob, "fp-b2a", "hi from node B").await;

    // Stored once, in the shared database: either node's sync has it.
    let (msgs, _) = d.a.sync(&tb, 0, 100).await;
    let fps: Vec<_> = msgs.iter().filter_map(|m| m.fp.as_deref()).collect();
    assert_eq!(fps, ["fp-a2b", "fp-b2a"]);
}

#[tokio::test]
async fn a_login_on_another_node_kicks_the_old_session_or_moves_it_quietly() {
    let d = Deployment::start().await;
    let (alice, ta, mut first) = online(&d.a, "alice", false, 100).await;

    // Another client on node B: the session on node A gets KICKOUT 1 and is closed.
    let mut second = d.b.ws().await;
    assert_eq!(second.login(&alice, &ta, 200).await.code, 0);
    let kick = first.recv().await.expect("kickout");
    assert_eq!(kick.packet_type, PacketType::Kickout, "{kick:?}");
    let info: KickoutInfo = kick.payload().expect("kickout payload");
    assert_eq!(
        (info.code, info.reason.as_str()),
        (1, "logged in elsewhere")
    );
    first.expect_closed().await;

    // The same client (same firstLoginTime) moves back to node A: node B closes quietly.
    let mut third = d.a.tcp().await;
    assert_eq!(third.login(&alice, &ta, 200).await.code, 0);
    assert!(second.recv().await.is_none(), "closed without a kickout");

    // The newest session is the one that gets alice's messages, wherever they come from.
    let (bob, _tb, mut on_b) = online(&d.b, "bob", false, 1).await;
    send_acked(&mut on_b, &bob, &alice, "fp-to-third", "still there?").await;
    expect_forward(&mut third, &bob, "fp-to-third", "still there?").await;
}

#[tokio::test]
async fn a_nats_outage_loses_nothing_and_delivers_when_nats_is_back() {
    let mut d = Deployment::start().await;
    let (alice, _ta, mut on_a) = online(&d.a, "alice", false, 100).await;
    let (bob, tb, mut on_b) = online(&d.b, "bob", false, 100).await;
    send_acked(&mut on_a, &alice, &bob, "fp-before", "before the outage").await;
    expect_forward(&mut on_b, &alice, "fp-before", "before the outage").await;

    d.nats.kill();
    wait_ready(&d.a, false).await;
    wait_ready(&d.b, false).await;

    // Stored and ACKed while the bus is down; not pushed yet.
    send_acked(&mut on_a, &alice, &bob, "fp-during", "during the outage").await;
    on_b.expect_silence(QUIET).await;
    let (msgs, _) = d.b.sync(&tb, 0, 100).await;
    assert_eq!(msgs.last().and_then(|m| m.fp.as_deref()), Some("fp-during"));
    assert!(d.a.metric("hongyan_bus_publish_failures_total").await >= 1.0);
    // The other way too; bob's own copy of it must never come back to him.
    send_acked(&mut on_b, &bob, &alice, "fp-b-during", "me too").await;
    // Nodes keep serving: keepalive on both.
    for (conn, id) in [(&mut on_a, &alice), (&mut on_b, &bob)] {
        conn.send(&Envelope::keepalive(id.clone())).await;
        assert_eq!(
            conn.recv().await.expect("51").packet_type,
            PacketType::KeepaliveResp
        );
    }

    // NATS back: bob gets the message without anyone sending anything else.
    d.nats.restart().await.expect("restart nats-server");
    let got = expect_forward(&mut on_b, &alice, "fp-during", "during the outage").await;
    assert_eq!(got.seq, msgs.last().and_then(|m| m.seq));
    expect_forward(&mut on_a, &bob, "fp-b-during", "me too").await;
    wait_ready(&d.a, true).await;
    wait_ready(&d.b, true).await;

    // And live delivery works again.
    send_acked(&mut on_a, &alice, &bob, "fp-after", "after the outage").await;
    expect_forward(&mut on_b, &alice, "fp-after", "after the outage").await;
}

#[tokio::test]
async fn a_node_started_while_nats_is_down_serves_and_joins_when_it_is_up() {
    let (pg, mut nats) = tokio::join!(PgServer::start(), NatsServer::start());
    let a = TestServer::start_node(&pg.url(), &nats.url(), "node-a").await;
    wait_ready(&a, true).await;
    nats.kill();
    let b = TestServer::start_node(&pg.url(), &nats.url(), "node-b").await;
    wait_ready(&b, false).await;

    // Logins and chat on the late node work meanwhile (by store and sync).
    let (alice, _ta, mut on_a) = online(&a, "alice", false, 100).await;
    let (bob, _tb, mut on_b) = online(&b, "bob", true, 100).await;
    send_acked(&mut on_a, &alice, &bob, "fp-early", "before NATS is up").await;

    nats.restart().await.expect("start nats-server");
    // Both: a message sent while node A is still reconnecting is left to sync, not live.
    wait_ready(&a, true).await;
    wait_ready(&b, true).await;
    // What was missed comes once the bus is up; later messages come live.
    expect_forward(&mut on_b, &alice, "fp-early", "before NATS is up").await;
    send_acked(&mut on_a, &alice, &bob, "fp-live", "NATS is up").await;
    expect_forward(&mut on_b, &alice, "fp-live", "NATS is up").await;
}

#[tokio::test]
async fn admin_create_user_writes_to_the_deployment_database() {
    let d = Deployment::start().await;
    // Through node A's configuration (its --postgres), not its data dir: node B sees it.
    let id =
        d.a.process()
            .create_user("carol", common::PASSWORD, false)
            .await
            .expect("admin create-user");
    let (logged_in, token) = d.b.login("carol").await;
    assert_eq!(logged_in, id);
    let mut conn = d.b.ws().await;
    assert_eq!(conn.login(&id, &token, 1).await.code, 0);
}

#[tokio::test]
async fn a_node_whose_database_is_unreachable_does_not_start_and_says_why() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("free port")
        .local_addr()
        .expect("addr")
        .port();
    let data = tempfile::tempdir().expect("data dir");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_hongyan-server"))
        .args(["--http-addr", "127.0.0.1:0", "--tcp-addr", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(data.path())
        .args([
            "--postgres",
            &format!("postgres://hongyan@127.0.0.1:{port}/hongyan"),
        ])
        .env_remove("HONGYAN_NATS")
        .env_remove("HONGYAN_POSTGRES")
        .stdin(std::process::Stdio::null())
        .output();
    let out = tokio::time::timeout(Duration::from_secs(30), out)
        .await
        .expect("exits in time")
        .expect("run hongyan-server");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot use the PostgreSQL database"),
        "{stderr}"
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).is_empty(),
        "never listening"
    );
}

#[tokio::test]
async fn a_session_too_far_behind_after_an_outage_is_closed_to_sync() {
    let mut d = Deployment::start().await;
    let (alice, _ta, mut on_a) = online(&d.a, "alice", false, 100).await;
    let (bob, tb, mut on_b) = online(&d.b, "bob", false, 100).await;
    d.nats.kill();
    wait_ready(&d.a, false).await;
    wait_ready(&d.b, false).await;
    let missed = node_catch_up_limit() + 1;
    for i in 0..missed {
        send_acked(&mut on_a, &alice, &bob, &format!("fp-{i}"), "many").await;
    }
    d.nats.restart().await.expect("restart nats-server");
    // More than one catch-up holds: closed, so the client logs in again and syncs.
    on_b.expect_closed().await;
    let (msgs, more) = d.b.sync(&tb, 0, 500).await;
    assert_eq!((msgs.len(), more), (missed, false));
}

/// `node::CATCH_UP_LIMIT` as a count.
fn node_catch_up_limit() -> usize {
    hongyan_server::node::CATCH_UP_LIMIT as usize
}
