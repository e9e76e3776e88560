//! Notices (read diffusion) through the real server: a whitelist pre-release seen only by
//! the whitelisted user, then published to all (online users live, offline users on login),
//! then recalled everywhere; unread counts follow.

use hongyan_protocol::{api::Notice, kinds};
use hongyan_sdk::model::{notice_message_id, NOTICES_CONVERSATION};
use hongyan_sdk::{Event, Message};
use hongyan_tests::{wait_until, TestClient, TestServer, Via};
use serde_json::{json, Value};

/// The operator, talking to the admin API over HTTP with an admin login.
struct Admin {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Admin {
    async fn login(server: &TestServer) -> Self {
        server
            .create_admin("root", "root-secret-pw")
            .await
            .expect("create admin");
        let http = reqwest::Client::new();
        let answer: Value = http
            .post(format!("{}/api/v1/login", server.url()))
            .json(&json!({"username": "root", "password": "root-secret-pw"}))
            .send()
            .await
            .expect("login")
            .json()
            .await
            .expect("json");
        Self {
            http,
            base: server.url(),
            token: answer["token"].as_str().expect("token").to_owned(),
        }
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Option<Notice> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("admin call");
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        if resp.status() == reqwest::StatusCode::NO_CONTENT {
            return None;
        }
        Some(resp.json().await.expect("notice"))
    }
}

async fn notices_of(c: &TestClient) -> Vec<Message> {
    c.conversation(NOTICES_CONVERSATION).await
}

async fn notices_unread(c: &TestClient) -> u32 {
    c.client
        .conversations()
        .await
        .expect("conversations")
        .into_iter()
        .find(|c| c.id == NOTICES_CONVERSATION)
        .map_or(0, |c| c.unread)
}

async fn got_notice(c: &mut TestClient, id: &str) -> Message {
    let id = id.to_owned();
    c.wait_for(move |e| match e {
        Event::MessageReceived(m) if m.id == id => Some(m.clone()),
        _ => None,
    })
    .await
}

#[tokio::test]
async fn whitelist_first_then_everyone_then_recalled_everywhere() {
    let server = TestServer::start().await;
    let admin = Admin::login(&server).await;
    let mut alice = TestClient::register(&server, "alice", Via::Ws).await;
    let mut bob = TestClient::register(&server, "bob", Via::Tcp).await;
    let carol = TestClient::register(&server, "carol", Via::Ws).await;
    carol.client.shutdown().await;
    alice.wait_connected().await;
    bob.wait_connected().await;

    // Pre-release to Alice only.
    let notice = admin
        .call(
            reqwest::Method::POST,
            "/api/v1/admin/broadcasts",
            Some(json!({"title": "Maintenance", "body": "Sunday 02:00 UTC", "audience": [alice.user_id]})),
        )
        .await
        .expect("created");
    let id = notice_message_id(notice.id);
    let m = got_notice(&mut alice, &id).await;
    assert_eq!(
        (m.conversation_id.as_str(), m.typeu, m.sent_at),
        (
            NOTICES_CONVERSATION,
            kinds::BROADCAST_NOTIFY,
            notice.published_at
        )
    );
    let content: Value = serde_json::from_str(&m.content).expect("json content");
    assert_eq!(
        content,
        json!({"id": notice.id, "title": "Maintenance", "body": "Sunday 02:00 UTC"})
    );
    assert_eq!(m.preview(), "[Notice] Maintenance");
    assert_eq!(notices_unread(&alice).await, 1);
    // Bob is not on the whitelist.
    assert_eq!(bob.client.refresh_notices().await.expect("pull"), 0);
    assert!(notices_of(&bob).await.is_empty());

    // Published to all: Bob gets it live, Alice keeps one copy.
    admin
        .call(
            reqwest::Method::POST,
            &format!("/api/v1/admin/broadcasts/{}/publish", notice.id),
            None,
        )
        .await;
    got_notice(&mut bob, &id).await;
    assert_eq!(notices_unread(&bob).await, 1);
    alice.client.refresh_notices().await.expect("pull");
    assert_eq!(notices_of(&alice).await.len(), 1);
    // Carol, offline until now, gets it when she logs in.
    let mut carol = carol.restart().await;
    got_notice(&mut carol, &id).await;
    alice
        .client
        .mark_read(NOTICES_CONVERSATION)
        .await
        .expect("read");
    assert_eq!(notices_unread(&alice).await, 0);

    // Recalled: gone everywhere, unread counts drop back.
    admin
        .call(
            reqwest::Method::DELETE,
            &format!("/api/v1/admin/broadcasts/{}", notice.id),
            None,
        )
        .await;
    for c in [&mut alice, &mut bob, &mut carol] {
        let removed = c
            .wait_for(|e| match e {
                Event::MessageRemoved {
                    id,
                    conversation_id,
                } => Some((id.clone(), conversation_id.clone())),
                _ => None,
            })
            .await;
        assert_eq!(removed, (id.clone(), NOTICES_CONVERSATION.to_owned()));
        assert!(notices_of(c).await.is_empty());
        assert_eq!(notices_unread(c).await, 0, "{}", c.username);
        assert!(c.client.message(&id).await.expect("q").is_none());
    }
}

#[tokio::test]
async fn a_notice_recalled_while_a_user_was_offline_never_shows() {
    let server = TestServer::start().await;
    let admin = Admin::login(&server).await;
    let dave = TestClient::register(&server, "dave", Via::Ws).await;
    let notice = admin
        .call(
            reqwest::Method::POST,
            "/api/v1/admin/broadcasts",
            Some(json!({"title": "Welcome", "body": "hello all", "audience": "all"})),
        )
        .await
        .expect("created");
    let id = notice_message_id(notice.id);
    wait_until("dave has the notice", || async {
        dave.client.message(&id).await.expect("q").is_some()
    })
    .await;
    dave.client.shutdown().await;
    admin
        .call(
            reqwest::Method::DELETE,
            &format!("/api/v1/admin/broadcasts/{}", notice.id),
            None,
        )
        .await;
    // The pull after login sees `recalled: true` and removes it.
    let dave = dave.restart().await;
    wait_until("the recalled notice is gone", || async {
        dave.client.message(&id).await.expect("q").is_none()
    })
    .await;
    assert_eq!(notices_unread(&dave).await, 0);
}
