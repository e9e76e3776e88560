//! Issue 5 live signals and operator features against the real binary: presence, typing
//! relay and throttle, core_level downgrade on push and sync, notices (whitelist →
//! publish → recall with cursors), admin routes and the admin CLI.

mod common;

use std::time::Duration;

use common::{Conn, TestServer, PASSWORD};
use hongyan_protocol::{
    api::{NoticeRef, Presence},
    kinds, Envelope, PacketType,
};
use serde_json::{json, Value};

const SHORT: Duration = Duration::from_millis(300);
const NEW: u32 = 261_201;

async fn online_at(s: &TestServer, id: &str, token: &str, flt: i64, level: u32) -> Conn {
    let mut conn = s.ws().await;
    conn.login_at(id, token, flt, level).await;
    conn
}

async fn drain(conn: &mut Conn) {
    while conn.recv_within(SHORT).await.is_some() {}
}

fn presence(env: &Envelope) -> Presence {
    assert_eq!(
        (env.typeu, env.qos, env.fp.as_deref()),
        (kinds::PRESENCE, false, None),
        "{env:?}"
    );
    serde_json::from_str(env.data_content.as_deref().expect("content")).expect("presence")
}

#[tokio::test]
async fn presence_and_typing_reach_online_friends_only() {
    let s = TestServer::start_friends_only().await;
    let (a, ta) = s.account("alice").await;
    let (b, tb) = s.account("bob").await;
    let (c, tc) = s.account("carol").await;
    s.befriend((&a, &ta), (&b, &tb)).await;
    let mut wb = online_at(&s, &b, &tb, 1, NEW).await;
    let mut wc = online_at(&s, &c, &tc, 1, NEW).await;
    drain(&mut wb).await;

    // Alice comes online: her friend bob hears it, carol (a stranger) does not.
    let mut wa = online_at(&s, &a, &ta, 7, NEW).await;
    assert_eq!(
        presence(&wb.expect_kind(kinds::PRESENCE).await),
        Presence {
            user: a.clone(),
            online: true
        }
    );
    wc.expect_silence(SHORT).await;
    let (_, friends) = s.get("/api/v1/friends", Some(&tb)).await;
    assert_eq!(friends["friends"][0]["online"], true);

    // Typing: relayed to the friend, at most once a second; never to a stranger; no answers.
    let typing = |to: &str| {
        let mut e = Envelope::new(PacketType::CommonData, a.clone(), to);
        e.typeu = kinds::TYPING;
        e.data_content = Some(r#"{"typing":true}"#.into());
        e
    };
    wa.send(&typing(&b)).await;
    let got = wb.expect_kind(kinds::TYPING).await;
    assert_eq!(
        (got.from.as_str(), got.data_content.as_deref()),
        (a.as_str(), Some(r#"{"typing":true}"#))
    );
    assert_eq!(got.seq, None);
    for _ in 0..5 {
        wa.send(&typing(&b)).await;
    }
    wb.expect_silence(SHORT).await;
    wa.send(&typing(&c)).await;
    wc.expect_silence(SHORT).await;
    wa.expect_silence(SHORT).await;
    // The throttle window is the behaviour under test: one second later it opens again.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    wa.send(&typing(&b)).await;
    wb.expect_kind(kinds::TYPING).await;
    assert!(
        !s.sync_at(&tb, 0, NEW)
            .await
            .iter()
            .any(|e| e.typeu == kinds::TYPING),
        "never stored"
    );

    // A quiet reconnect (same firstLoginTime) says nothing; the last session ending does.
    let wa2 = online_at(&s, &a, &ta, 7, NEW).await;
    wb.expect_silence(SHORT).await;
    drop(wa);
    drop(wa2);
    assert_eq!(
        presence(&wb.expect_kind(kinds::PRESENCE).await),
        Presence {
            user: a.clone(),
            online: false
        }
    );
    let (_, friends) = s.get("/api/v1/friends", Some(&tb)).await;
    assert_eq!(friends["friends"][0]["online"], false);
}

#[tokio::test]
async fn old_clients_get_text_fallbacks_on_push_and_sync_and_new_ones_the_original() {
    let s = TestServer::start().await;
    let (a, ta) = s.account("alice").await;
    let (b, tb) = s.account("bob").await;
    let mut wa = online_at(&s, &a, &ta, 1, NEW).await;
    let mut old_b = online_at(&s, &b, &tb, 1, 261_130).await;
    let sticker = r#"{"pack":"p","id":"1","url":"u","w":1,"h":1}"#;
    wa.send(&Envelope::chat(&a, &b, "st1", kinds::STICKER, sticker))
        .await;
    wa.recv().await.expect("ack");
    let pushed = old_b.expect_kind(kinds::TEXT).await;
    assert_eq!(pushed.fp.as_deref(), Some("st1"));
    assert_eq!(
        pushed.data_content.as_deref(),
        Some(kinds::text_fallback(kinds::STICKER))
    );

    let old_sync = s.sync_at(&tb, 0, 261_130).await;
    assert_eq!(
        (old_sync[0].typeu, old_sync[0].data_content.as_deref()),
        (kinds::TEXT, Some(kinds::text_fallback(kinds::STICKER)))
    );
    let new_sync = s.sync_at(&tb, 0, NEW).await;
    assert_eq!(
        (new_sync[0].typeu, new_sync[0].data_content.as_deref()),
        (kinds::STICKER, Some(sticker))
    );

    // After upgrading, pushes carry the original too.
    drop(old_b);
    let mut new_b = online_at(&s, &b, &tb, 2, NEW).await;
    wa.send(&Envelope::chat(&a, &b, "st2", kinds::STICKER, sticker))
        .await;
    wa.recv().await.expect("ack");
    assert_eq!(
        new_b
            .expect_kind(kinds::STICKER)
            .await
            .data_content
            .as_deref(),
        Some(sticker)
    );

    // A client declaring an old core cannot even get a token when a minimum is set.
    let s2 = TestServer::start_with(&["--min-core-level", "261200"]).await;
    s2.register("carol").await;
    let (st, body) = s2
        .call(
            reqwest::Method::POST,
            "/api/v1/login",
            None,
            Some(json!({"username": "carol", "password": PASSWORD})),
            &[
                ("platform", "linux"),
                ("app_version", "0.1.0"),
                ("core_level", "261124"),
            ],
        )
        .await;
    assert_eq!(
        (st, body["error"]["code"].as_str()),
        (426, Some("client_too_old")),
        "{body}"
    );
    assert!(body["error"]["message"]
        .as_str()
        .unwrap_or("")
        .contains("upgrade"));
}

fn notice_ref(env: &Envelope) -> i64 {
    assert!(!env.qos && env.seq.is_none(), "{env:?}");
    serde_json::from_str::<NoticeRef>(env.data_content.as_deref().expect("content"))
        .expect("notice ref")
        .id
}

async fn notices(s: &TestServer, token: &str, after: i64) -> (Vec<Value>, i64) {
    let (st, page) = s
        .get(&format!("/api/v1/broadcasts?after={after}"), Some(token))
        .await;
    assert_eq!(st, 200, "{page}");
    (
        page["notices"].as_array().expect("notices").clone(),
        page["cursor"].as_i64().expect("cursor"),
    )
}

#[tokio::test]
async fn notices_whitelist_then_publish_then_recall_with_correct_cursors() {
    let s = TestServer::start().await;
    s.process()
        .create_admin("root", PASSWORD)
        .await
        .expect("admin");
    let (_, admin) = s.login("root").await;
    let (a, ta) = s.account("alice").await;
    let (b, tb) = s.account("bob").await;
    let mut wa = online_at(&s, &a, &ta, 1, NEW).await;
    let mut wb = online_at(&s, &b, &tb, 1, NEW).await;

    // Non-admins get 403 on every admin route.
    for (method, path) in [
        (reqwest::Method::GET, "/api/v1/admin/sessions"),
        (reqwest::Method::GET, "/api/v1/admin/broadcasts"),
        (reqwest::Method::POST, "/api/v1/admin/broadcasts"),
        (reqwest::Method::POST, "/api/v1/admin/broadcasts/1/publish"),
        (reqwest::Method::DELETE, "/api/v1/admin/broadcasts/1"),
    ] {
        let body = json!({"title": "t", "body": "b", "audience": "all"});
        let (st, e) = s.call(method, path, Some(&ta), Some(body), &[]).await;
        assert_eq!(
            (st, e["error"]["code"].as_str()),
            (403, Some("forbidden")),
            "{path}"
        );
    }

    // Whitelist pre-release: alice hears of it, bob does not, and bob's cursor moves on.
    let (st, n) = s
        .post_as(
            &admin,
            "/api/v1/admin/broadcasts",
            json!({"title": "Beta", "body": "try it", "audience": [a]}),
        )
        .await;
    assert_eq!(st, 201, "{n}");
    let id = n["id"].as_i64().expect("id");
    assert_eq!(n["audience"], json!([a]));
    assert_eq!(
        notice_ref(&wa.expect_kind(kinds::BROADCAST_NOTIFY).await),
        id
    );
    wb.expect_silence(SHORT).await;
    let (seen_a, cur_a) = notices(&s, &ta, 0).await;
    assert_eq!(
        (seen_a.len(), seen_a[0]["title"].as_str()),
        (1, Some("Beta"))
    );
    let (seen_b, cur_b) = notices(&s, &tb, 0).await;
    assert!(seen_b.is_empty());
    assert_eq!(cur_b, cur_a, "the cursor moves for everyone");
    assert!(notices(&s, &ta, cur_a).await.0.is_empty());

    // Published to all: bob (cursor already past its creation) gets it; so does alice again.
    let (st, p) = s
        .post_as(
            &admin,
            &format!("/api/v1/admin/broadcasts/{id}/publish"),
            json!({}),
        )
        .await;
    assert_eq!((st, p["audience"].as_str()), (200, Some("all")));
    assert_eq!(
        notice_ref(&wb.expect_kind(kinds::BROADCAST_NOTIFY).await),
        id
    );
    wa.expect_kind(kinds::BROADCAST_NOTIFY).await;
    let (seen_b, cur_b2) = notices(&s, &tb, cur_b).await;
    assert_eq!(
        (
            seen_b.len(),
            seen_b[0]["id"].as_i64(),
            seen_b[0]["recalled"].as_bool()
        ),
        (1, Some(id), Some(false))
    );
    assert!(cur_b2 > cur_b);

    // Recall: everyone online gets 81; the next page says recalled.
    let (st, _) = s
        .delete_as(&admin, &format!("/api/v1/admin/broadcasts/{id}"))
        .await;
    assert_eq!(st, 204);
    assert_eq!(
        notice_ref(&wa.expect_kind(kinds::BROADCAST_RECALL).await),
        id
    );
    assert_eq!(
        notice_ref(&wb.expect_kind(kinds::BROADCAST_RECALL).await),
        id
    );
    let (seen_a, _) = notices(&s, &ta, cur_a).await;
    assert_eq!(
        (seen_a.len(), seen_a[0]["recalled"].as_bool()),
        (1, Some(true))
    );
    let (st, _) = s
        .delete_as(&admin, &format!("/api/v1/admin/broadcasts/{id}"))
        .await;
    assert_eq!(st, 404, "already recalled");
    // Notices are never stored in mailboxes.
    assert!(s.sync_at(&tb, 0, NEW).await.is_empty());

    // Sessions (admin): both live connections with their facts.
    let (st, list) = s.get("/api/v1/admin/sessions", Some(&admin)).await;
    assert_eq!(st, 200);
    let sessions = list["sessions"].as_array().expect("sessions");
    assert_eq!(sessions.len(), 2);
    let alice = sessions
        .iter()
        .find(|x| x["user_id"] == a.as_str())
        .expect("alice");
    assert_eq!(
        (
            alice["username"].as_str(),
            alice["transport"].as_str(),
            alice["core_level"].as_u64()
        ),
        (Some("alice"), Some("ws"), Some(NEW as u64))
    );
    assert!(alice["peer"]
        .as_str()
        .unwrap_or("")
        .starts_with("127.0.0.1:"));
}

/// Runs `hongyan-server admin …` against `s`, returning its JSON output.
async fn admin_cli(s: &TestServer, args: &[&str]) -> Value {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_hongyan-server"))
        .args([
            "admin",
            "--server",
            &s.url(""),
            "--username",
            "root",
            "--password",
            PASSWORD,
        ])
        .args(args)
        .output()
        .await
        .expect("run admin");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json output")
}

#[tokio::test]
async fn admin_cli_creates_users_and_drives_the_admin_api() {
    let s = TestServer::start().await;
    s.process()
        .create_admin("root", PASSWORD)
        .await
        .expect("admin");
    // A plain user created by the CLI can log in and is no admin.
    let plain = s
        .process()
        .create_user("plain", PASSWORD, false)
        .await
        .expect("user");
    let (id, token) = s.login("plain").await;
    assert_eq!(id, plain);
    let (st, _) = s.get("/api/v1/admin/sessions", Some(&token)).await;
    assert_eq!(st, 403);
    let mut conn = online_at(&s, &id, &token, 1, NEW).await;

    let sessions = admin_cli(&s, &["sessions"]).await;
    assert_eq!(sessions["sessions"][0]["username"], "plain");
    let created = admin_cli(
        &s,
        &[
            "broadcast",
            "create",
            "--title",
            "Hi",
            "--body",
            "all of you",
            "--audience",
            &id,
        ],
    )
    .await;
    let nid = created["id"].as_i64().expect("id");
    assert_eq!(
        notice_ref(&conn.expect_kind(kinds::BROADCAST_NOTIFY).await),
        nid
    );
    let listed = admin_cli(&s, &["broadcast", "list"]).await;
    assert_eq!(listed["notices"][0]["id"].as_i64(), Some(nid));
    let published = admin_cli(&s, &["broadcast", "publish", &nid.to_string()]).await;
    assert_eq!(published["audience"], "all");
    conn.expect_kind(kinds::BROADCAST_NOTIFY).await;
    admin_cli(&s, &["broadcast", "recall", &nid.to_string()]).await;
    conn.expect_kind(kinds::BROADCAST_RECALL).await;

    // Errors are clear and fail the command.
    let bad = tokio::process::Command::new(env!("CARGO_BIN_EXE_hongyan-server"))
        .args([
            "admin",
            "--server",
            &s.url(""),
            "--username",
            "plain",
            "--password",
            PASSWORD,
            "sessions",
        ])
        .output()
        .await
        .expect("run");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("administrators only"));
}
