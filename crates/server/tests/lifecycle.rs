//! Process lifecycle: SIGTERM, restart on the same data dir, startup flags.

mod common;

use common::TestServer;
use hongyan_protocol::{Envelope, LoginInfo, LoginResponse, PacketType};

#[cfg(unix)]
#[tokio::test]
async fn sigterm_exits_cleanly_and_restart_keeps_everything() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("fresh").join("data");
    let mut s = TestServer::start_in(&dir, &[]).await;
    let (a, _ta) = s.account("alice").await;
    let (b, tb) = s.account("bob").await;
    let mut conn = s.ws().await;
    let (_, ta) = s.login("alice").await;
    assert_eq!(conn.login(&a, &ta, 1).await.code, 0);
    for i in 0..20 {
        conn.send(&Envelope::chat(
            a.clone(),
            b.clone(),
            format!("p{i}"),
            1,
            "x",
        ))
        .await;
    }
    for _ in 0..20 {
        assert_eq!(conn.recv().await.expect("ack").packet_type, PacketType::Ack);
    }
    let status = s.terminate().await;
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert!(
        conn.recv().await.is_none(),
        "connections are closed at shutdown"
    );

    let s2 = TestServer::start_in(&dir, &[]).await;
    let (msgs, more) = s2.sync(&tb, 0, 500).await;
    assert!(!more);
    assert_eq!(msgs.len(), 20);
    assert_eq!(msgs[19].fp.as_deref(), Some("p19"));
    // Accounts and tokens survived too.
    let (st, me) = s2.get("/api/v1/me", Some(&tb)).await;
    assert_eq!((st, me["username"].as_str()), (200, Some("bob")));
    // The next message continues the seq.
    let mut c2 = s2.tcp().await;
    assert_eq!(c2.login(&a, &ta, 2).await.code, 0);
    c2.send(&Envelope::chat(a.clone(), b.clone(), "after", 1, "x"))
        .await;
    assert_eq!(c2.recv().await.expect("ack").packet_type, PacketType::Ack);
    let (msgs, _) = s2.sync(&tb, 20, 10).await;
    assert_eq!(msgs[0].seq, Some(21));
}

#[tokio::test]
async fn min_core_level_rejects_old_clients() {
    let s = TestServer::start_with(&["--min-core-level", "261200"]).await;
    let (a, ta) = s.account("alice").await;
    let mut old = s.ws().await;
    let resp = old.login(&a, &ta, 1).await; // extra says 261124
    assert_eq!(resp.code, 1027);
    assert!(resp.msg.unwrap_or_default().contains("upgrade"));
    old.expect_closed().await;

    let mut new = s.tcp().await;
    let info = LoginInfo {
        login_user_id: a.clone(),
        login_token: ta.clone(),
        extra: Some(r#"{"platform":"win","app_version":"0.2.0","core_level":261201}"#.into()),
        first_login_time: 2,
    };
    new.send(&Envelope::login(&info)).await;
    let resp: LoginResponse = new.recv().await.expect("50").payload().expect("payload");
    assert_eq!(resp.code, 0);
}

#[test]
fn help_documents_every_flag() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hongyan-server"))
        .arg("--help")
        .output()
        .expect("run --help");
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--http-addr",
        "--tcp-addr",
        "--data-dir",
        "--heartbeat",
        "--read-timeout-secs",
        "--token-ttl-hours",
        "--min-core-level",
        "--releases-dir",
        "HONGYAN_RELEASES_DIR",
        "--log-format",
        "--friends-only",
        "HONGYAN_FRIENDS_ONLY",
        "HONGYAN_HTTP_ADDR",
        "RUST_LOG",
        "admin",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}");
    }
    let admin = std::process::Command::new(env!("CARGO_BIN_EXE_hongyan-server"))
        .args(["admin", "--help"])
        .output()
        .expect("run admin --help");
    assert!(admin.status.success());
    let admin = String::from_utf8_lossy(&admin.stdout);
    for cmd in [
        "create-user",
        "sessions",
        "broadcast",
        "release",
        "--server",
        "--username",
        "--password",
    ] {
        assert!(admin.contains(cmd), "admin --help lacks {cmd}");
    }
}
