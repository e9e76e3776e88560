//! The long connection (WS and TCP) against the real binary, speaking the raw protocol.

mod common;

use std::time::Duration;

use common::{stock_login, Conn, TestServer};
use hongyan_protocol::{Envelope, LoginResponse, PacketType};

const SHORT: Duration = Duration::from_millis(300);

async fn logged_in(s: &TestServer, name: &str, tcp: bool) -> (String, String, Conn) {
    let (id, token) = s.account(name).await;
    let mut conn = if tcp { s.tcp().await } else { s.ws().await };
    let resp = conn.login(&id, &token, 1000).await;
    assert_eq!(resp.code, 0, "{resp:?}");
    (id, token, conn)
}

#[tokio::test]
async fn stock_login_frame_works_on_ws_and_tcp() {
    let s = TestServer::start().await;
    let (id, token) = s.account("alice").await;
    for tcp in [false, true] {
        let mut conn = if tcp { s.tcp().await } else { s.ws().await };
        conn.send_raw(&stock_login(&id, &token, 1_700_000_000_000))
            .await;
        let env = conn.recv().await.expect("response");
        assert_eq!(env.packet_type, PacketType::LoginResp);
        assert_eq!(env.to, id);
        let resp: LoginResponse = env.payload().expect("payload");
        assert_eq!(resp.code, 0);
        assert_eq!(resp.first_login_time, 1_700_000_000_000);
        assert_eq!(resp.seq, Some(0));
        assert_eq!(resp.core_level, Some(hongyan_server::SERVER_CORE_LEVEL));
        // Heartbeat and echo.
        conn.send(&Envelope::keepalive(id.clone())).await;
        let hb = conn.recv().await.expect("51");
        assert_eq!(
            (hb.packet_type, hb.data_content.as_deref()),
            (PacketType::KeepaliveResp, Some("{}"))
        );
        let mut echo = Envelope::new(PacketType::Echo, id.clone(), "0");
        echo.data_content = Some("ping 你好".into());
        conn.send(&echo).await;
        let back = conn.recv().await.expect("53");
        assert_eq!(
            (back.packet_type, back.data_content.as_deref()),
            (PacketType::EchoResp, Some("ping 你好"))
        );
        // Same firstLoginTime on the next connection: the old one is closed quietly.
        drop(conn);
    }
}

#[tokio::test]
async fn chat_ws_to_tcp_is_acked_forwarded_and_deduplicated() {
    let s = TestServer::start().await;
    let (a, _ta, mut wa) = logged_in(&s, "alice", false).await;
    let (b, tb, mut tcp_b) = logged_in(&s, "bob", true).await;

    let msg = Envelope::chat(a.clone(), b.clone(), "fp-1", 1, "hello 你好");
    wa.send(&msg).await;
    let ack = wa.recv().await.expect("ack");
    assert_eq!(ack.packet_type, PacketType::Ack);
    assert_eq!(
        (ack.from.as_str(), ack.to.as_str()),
        (b.as_str(), a.as_str())
    );
    assert_eq!(ack.data_content.as_deref(), Some("fp-1"));

    let got = tcp_b.recv().await.expect("forward");
    assert_eq!(got.packet_type, PacketType::CommonData);
    assert_eq!(
        (got.from.as_str(), got.to.as_str()),
        (a.as_str(), b.as_str())
    );
    assert_eq!(got.fp.as_deref(), Some("fp-1"));
    assert_eq!(
        (got.typeu, got.data_content.as_deref()),
        (1, Some("hello 你好"))
    );
    assert!(got.qos);
    assert_eq!(got.seq, Some(1));
    assert!(got.sm > 0);
    // The recipient ACKs; the server accepts it silently.
    tcp_b.send(&Envelope::ack(b.clone(), "0", "fp-1")).await;

    // Resend with the same fp: ACKed again, not delivered again.
    wa.send(&msg).await;
    let ack2 = wa.recv().await.expect("ack again");
    assert_eq!(
        (ack2.packet_type, ack2.data_content.as_deref()),
        (PacketType::Ack, Some("fp-1"))
    );
    tcp_b.expect_silence(SHORT).await;
    let (msgs, more) = s.sync(&tb, 0, 100).await;
    assert_eq!(msgs.len(), 1);
    assert!(!more);
    assert_eq!((msgs[0].seq, msgs[0].sm), (got.seq, got.sm));

    // Back the other way, TCP → WS.
    tcp_b
        .send(&Envelope::chat(b.clone(), a.clone(), "fp-2", -1, "hi"))
        .await;
    assert_eq!(
        tcp_b.recv().await.expect("ack").packet_type,
        PacketType::Ack
    );
    let back = wa.recv().await.expect("forward");
    // alice's mailbox holds her own sent copy at seq 1, so this is seq 2.
    assert_eq!((back.fp.as_deref(), back.seq), (Some("fp-2"), Some(2)));
}

#[tokio::test]
async fn malformed_and_oversized_frames() {
    let s = TestServer::start().await;
    let (a, _ta, mut ws) = logged_in(&s, "alice", false).await;
    let (b, _tb, mut tcp) = logged_in(&s, "bob", true).await;

    for conn in [&mut ws, &mut tcp] {
        conn.send_raw("{this is not json").await;
        assert_eq!(conn.expect_error().await.0, 1104);
        conn.send_raw(r#"{"type":99,"from":"1","to":"0"}"#).await;
        assert_eq!(conn.expect_error().await.0, 1104);
        conn.send_raw(r#"{"type":2,"from":"1","to":"0","QoS":true}"#)
            .await;
        assert_eq!(conn.expect_error().await.0, 1104);
    }
    // The next valid frame on the same connection still works.
    ws.send(&Envelope::chat(a.clone(), b.clone(), "f1", 1, "after junk"))
        .await;
    assert_eq!(ws.recv().await.expect("ack").packet_type, PacketType::Ack);
    assert_eq!(tcp.recv().await.expect("fwd").fp.as_deref(), Some("f1"));

    // Oversized WS frame: 1103 and the connection stays usable.
    let big = Envelope::chat(a.clone(), b.clone(), "f2", 1, "x".repeat(7000));
    ws.send(&big).await;
    assert_eq!(ws.expect_error().await.0, 1103);
    ws.send(&Envelope::keepalive(a.clone())).await;
    assert_eq!(
        ws.recv().await.expect("51").packet_type,
        PacketType::KeepaliveResp
    );
    tcp.expect_silence(SHORT).await;

    // Oversized TCP length prefix: 1103, then the server closes that connection.
    tcp.send_tcp_length(1_000_000).await;
    assert_eq!(tcp.expect_error().await.0, 1103);
    tcp.expect_closed().await;

    // Everyone else keeps being served.
    ws.send(&Envelope::keepalive(a.clone())).await;
    assert_eq!(
        ws.recv().await.expect("51").packet_type,
        PacketType::KeepaliveResp
    );
    let mut other = s.tcp().await;
    other.send(&Envelope::keepalive("x")).await;
    assert_eq!(
        other.recv().await.expect("51").packet_type,
        PacketType::KeepaliveResp
    );
}

#[tokio::test]
async fn rules_before_and_after_login() {
    let s = TestServer::start().await;
    let (a, token) = s.account("alice").await;
    let (b, _) = s.account("bob").await;

    // Anything but login/keepalive/echo before login: 301, then closed.
    for tcp in [false, true] {
        let mut conn = if tcp { s.tcp().await } else { s.ws().await };
        conn.send(&Envelope::chat(a.clone(), b.clone(), "f", 1, "x"))
            .await;
        let (code, fp) = conn.expect_error().await;
        assert_eq!((code, fp.as_deref()), (301, Some("f")));
        conn.expect_closed().await;
    }

    // Wrong token: 1025, closed. Right token for another user: 1025 too.
    for (user, tok) in [(a.as_str(), "0".repeat(64)), (b.as_str(), token.clone())] {
        let mut conn = s.ws().await;
        let resp = conn.login(user, &tok, 1).await;
        assert_eq!(resp.code, 1025);
        conn.expect_closed().await;
    }

    // Spoofed from: 1105 with the fp, connection stays open. Unknown recipient: 1107.
    // Group: 1101 for now.
    let mut conn = s.tcp().await;
    assert_eq!(conn.login(&a, &token, 5).await.code, 0);
    conn.send(&Envelope::chat(b.clone(), a.clone(), "spoof", 1, "x"))
        .await;
    assert_eq!(conn.expect_error().await, (1105, Some("spoof".into())));
    conn.send(&Envelope::chat(a.clone(), "424242", "nobody", 1, "x"))
        .await;
    assert_eq!(conn.expect_error().await, (1107, Some("nobody".into())));
    conn.send(&Envelope::chat(a.clone(), "g7", "grp", 1, "x"))
        .await;
    assert_eq!(conn.expect_error().await, (1101, Some("grp".into())));
    conn.send(&Envelope::keepalive(a.clone())).await;
    assert_eq!(
        conn.recv().await.expect("51").packet_type,
        PacketType::KeepaliveResp
    );

    // Logout closes.
    conn.send(&Envelope::logout(a.clone())).await;
    conn.expect_closed().await;
}

#[tokio::test]
async fn duplicate_login_kicks_or_replaces() {
    let s = TestServer::start().await;
    let (a, token) = s.account("alice").await;
    let (b, _tb) = s.account("bob").await;

    let mut first = s.ws().await;
    assert_eq!(first.login(&a, &token, 100).await.code, 0);
    // Another client (different firstLoginTime): the old session gets 54 and is closed.
    let mut second = s.tcp().await;
    assert_eq!(second.login(&a, &token, 200).await.code, 0);
    let kick = first.recv().await.expect("kickout");
    assert_eq!(kick.packet_type, PacketType::Kickout);
    let info: hongyan_protocol::KickoutInfo = kick.payload().expect("payload");
    assert_eq!(
        (info.code, info.reason.as_str()),
        (1, "logged in elsewhere")
    );
    first.expect_closed().await;

    // Same client reconnecting (same firstLoginTime): old one closed without a kickout.
    let mut third = s.ws().await;
    assert_eq!(third.login(&a, &token, 200).await.code, 0);
    assert!(second.recv().await.is_none(), "closed quietly");

    // The replaced connections' cleanup did not unregister the newest session.
    let mut bob = s.ws().await;
    let (_, tb) = s.login("bob").await;
    assert_eq!(bob.login(&b, &tb, 1).await.code, 0);
    bob.send(&Envelope::chat(b.clone(), a.clone(), "to-a", 1, "hi"))
        .await;
    assert_eq!(bob.recv().await.expect("ack").packet_type, PacketType::Ack);
    assert_eq!(third.recv().await.expect("fwd").fp.as_deref(), Some("to-a"));
}

#[tokio::test]
async fn offline_recipient_syncs_in_order() {
    let s = TestServer::start().await;
    let (a, _ta, mut conn) = logged_in(&s, "alice", false).await;
    let (b, tb) = s.account("bob").await;
    for i in 0..7 {
        conn.send(&Envelope::chat(
            a.clone(),
            b.clone(),
            format!("m{i}"),
            1,
            format!("text {i}"),
        ))
        .await;
        let ack = conn.recv().await.expect("ack");
        assert_eq!(ack.data_content, Some(format!("m{i}")));
    }
    let (page, more) = s.sync(&tb, 0, 5).await;
    assert!(more);
    let fps: Vec<_> = page
        .iter()
        .map(|m| m.fp.clone().unwrap_or_default())
        .collect();
    assert_eq!(fps, ["m0", "m1", "m2", "m3", "m4"]);
    let seqs: Vec<_> = page.iter().map(|m| m.seq.unwrap_or_default()).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5]);
    let (rest, more) = s.sync(&tb, 5, 5).await;
    assert!(!more);
    assert_eq!(rest.len(), 2);
    assert_eq!(rest[1].data_content.as_deref(), Some("text 6"));
    assert_eq!(
        (rest[1].from.as_str(), rest[1].to.as_str()),
        (a.as_str(), b.as_str())
    );

    // Bob logs in later: the login response tells him the newest seq.
    let mut bob = s.tcp().await;
    assert_eq!(bob.login(&b, &tb, 1).await.seq, Some(7));
}
