//! core_level through the real server: clients of different cores in one conversation get
//! different forms of the same sticker (typeu 3), and the older one gets the original by
//! sync once it upgrades.

use hongyan_protocol::kinds;
use hongyan_sdk::Event;
use hongyan_tests::{acked, wait_until, TestClient, TestServer, Via};

/// A core from before stickers (they need `kinds::STICKER_CORE_LEVEL`).
const OLD_CORE: u32 = kinds::STICKER_CORE_LEVEL - 1;
const NEW_CORE: u32 = kinds::STICKER_CORE_LEVEL;

#[tokio::test]
async fn old_and_new_cores_get_different_forms_and_an_upgrade_gets_the_original() {
    let server = TestServer::start().await;
    let alice = TestClient::register_with_core_level(&server, "alice", Via::Ws, NEW_CORE).await;
    let mut new_bob = TestClient::register_with_core_level(&server, "bob", Via::Ws, NEW_CORE).await;
    let mut old_carol =
        TestClient::register_with_core_level(&server, "carol", Via::Tcp, OLD_CORE).await;
    alice.befriend(&new_bob).await;
    alice.befriend(&old_carol).await;
    let group = alice
        .client
        .create_group(
            "stickers",
            &[new_bob.user_id.clone(), old_carol.user_id.clone()],
        )
        .await
        .expect("group");
    let gid = group.group_id;

    let sticker = r#"{"pack":"hongyan","id":"wave","url":"/api/v1/media/abc","w":128,"h":128}"#;
    let sent = alice
        .client
        .send(&gid, kinds::STICKER, sticker)
        .await
        .expect("send");
    let mut alice = alice;
    alice.wait_status(&sent.id, acked).await;

    let pick = |id: String| {
        move |e: &Event| match e {
            Event::MessageReceived(m) if m.id == id => Some(m.clone()),
            _ => None,
        }
    };
    let at_bob = new_bob.wait_for(pick(sent.id.clone())).await;
    assert_eq!(
        (at_bob.typeu, at_bob.content.as_str()),
        (kinds::STICKER, sticker)
    );
    let at_carol = old_carol.wait_for(pick(sent.id.clone())).await;
    assert_eq!(
        (at_carol.typeu, at_carol.content.as_str()),
        (kinds::TEXT, kinds::text_fallback(kinds::STICKER)),
        "an old core gets a readable fallback"
    );

    // Carol updates the app: the sync after login brings the original.
    let mut carol = old_carol.restart_with_core_level(NEW_CORE).await;
    let updated = carol
        .wait_for(|e| match e {
            Event::MessageUpdated(m) => Some(m.clone()),
            _ => None,
        })
        .await;
    assert_eq!(updated.id, sent.id);
    let stored = carol
        .client
        .message(&sent.id)
        .await
        .expect("q")
        .expect("kept");
    assert_eq!(
        (stored.typeu, stored.content.as_str()),
        (kinds::STICKER, sticker)
    );
    wait_until("the list shows the sticker", || async {
        carol
            .client
            .conversations()
            .await
            .expect("conversations")
            .iter()
            .any(|c| c.id == gid && c.last_text.as_deref() == Some("[Sticker]"))
    })
    .await;
    let stickers = carol
        .conversation(&gid)
        .await
        .into_iter()
        .filter(|m| m.id == sent.id)
        .count();
    assert_eq!(stickers, 1, "replaced in place, not duplicated");
}

/// A server that requires a newer core refuses an older SDK at the HTTP login with
/// `ClientTooOld` (HTTP 426 `client_too_old`, the HTTP form of 1027) and a current one
/// gets in.
#[tokio::test]
async fn a_server_requiring_a_newer_core_refuses_an_older_client_at_login() {
    let min = hongyan_sdk::CORE_LEVEL + 1;
    let server = TestServer::start_with(&["--min-core-level", &min.to_string()]).await;
    server
        .create_user("old", "password-1", false)
        .await
        .expect("create user");
    let dir = tempfile::tempdir().expect("tmp");
    let tcp = server.tcp_addr().to_string();
    let mut config = TestClient::config_at(&server.url(), &tcp, Via::Ws, &dir.path().join("old"));
    config.core_level = min - 1;
    let old = hongyan_sdk::Client::new(config).expect("client");
    match old.login("old", "password-1").await {
        Err(hongyan_sdk::Error::ClientTooOld(message)) => {
            assert!(message.contains("upgrade"), "{message}")
        }
        other => panic!("expected ClientTooOld, got {other:?}"),
    }
    let mut config = TestClient::config_at(&server.url(), &tcp, Via::Ws, &dir.path().join("new"));
    config.core_level = min;
    let new = hongyan_sdk::Client::new(config).expect("client");
    new.login("old", "password-1")
        .await
        .expect("a client at the minimum core level signs in");
    new.shutdown().await;
}
