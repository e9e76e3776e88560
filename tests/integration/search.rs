//! Full-text search (issue 6) through the real server and real SDK clients: friends chat in
//! Chinese and English, live and by offline sync; the recipient finds every message by any
//! 2+ character Chinese substring, English word or prefix, and each part of mixed text,
//! with filters, newest first; the index rebuilds after its directory is deleted; a group
//! message is found by every member; a notice is found until it is recalled;
//! `history_around` opens the conversation at a hit.

use std::time::Duration;

use hongyan_protocol::api::Notice;
use hongyan_sdk::model::{notice_message_id, NOTICES_CONVERSATION};
use hongyan_sdk::search::{IndexState, Order, Query, SearchPage, DIR_NAME};
use hongyan_sdk::{Event, Message};
use hongyan_tests::{acked, wait_until, TestClient, TestServer, Via};
use serde_json::{json, Value};

/// How long the index may take to show a stored message (it commits within ~500 ms).
const WAIT: Duration = Duration::from_secs(20);

async fn search(c: &TestClient, query: Query) -> SearchPage {
    c.client.search(query).await.expect("search")
}

fn ids(page: &SearchPage) -> Vec<String> {
    page.hits.iter().map(|h| h.message.id.clone()).collect()
}

fn of(messages: &[&Message]) -> Vec<String> {
    messages.iter().map(|m| m.id.clone()).collect()
}

/// Polls `query` until it returns exactly `want` (in order) and the index counts nothing
/// else (a message already deleted from the store is dropped from the hits before the index
/// has committed its removal); panics with the last answer.
async fn expect_hits(c: &TestClient, query: Query, want: &[&Message]) {
    let want = of(want);
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let page = search(c, query.clone()).await;
        if ids(&page) == want && page.total == want.len() {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{query:?}: got {:?} of {}, want {want:?}",
            page.hits
                .iter()
                .map(|h| h.message.content.as_str())
                .collect::<Vec<_>>(),
            page.total
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn receive(c: &mut TestClient, id: &str) -> Message {
    let id = id.to_owned();
    c.wait_for(move |e| match e {
        Event::MessageReceived(m) if m.id == id => Some(m.clone()),
        _ => None,
    })
    .await
}

/// `from` sends `text` to `to` and `to` receives it live; the recipient's copy.
async fn chat(from: &TestClient, to: &mut TestClient, text: &str) -> Message {
    let sent = from.send(&to.user_id, text).await;
    receive(to, &sent.id).await
}

#[tokio::test]
async fn friends_find_chinese_english_and_mixed_text_live_and_synced_with_filters() {
    let server = TestServer::start().await;
    let alice = TestClient::register(&server, "alice", Via::Ws).await;
    let mut bob = TestClient::register(&server, "bob", Via::Tcp).await;
    let carol = TestClient::register(&server, "carol", Via::Ws).await;
    alice.befriend(&bob).await;
    carol.befriend(&bob).await;

    // Live.
    let zh = chat(&alice, &mut bob, "离线消息推送已经上线了").await;
    let en = chat(&alice, &mut bob, "Your parcel was delivered this morning").await;
    let mixed = chat(&alice, &mut bob, "MobileIMSDK的QoS机制很可靠").await;
    let reply = bob.send(&alice.user_id, "收到，推送正常 thanks").await;
    bob.wait_status(&reply.id, acked).await;
    let from_carol = chat(&carol, &mut bob, "carol 的消息 also delivered").await;

    // Bob is offline; these arrive by sync when he comes back.
    bob.client.shutdown().await;
    let offline_zh = alice.send(&bob.user_id, "你离线的时候也能收到消息吗").await;
    let offline_en = alice
        .send(&bob.user_id, "Synchronization works offline")
        .await;
    let mut alice = alice;
    alice.wait_status(&offline_zh.id, acked).await;
    alice.wait_status(&offline_en.id, acked).await;
    let bob = bob.restart().await;
    wait_until("bob synced both offline messages", || async {
        bob.client
            .message(&offline_en.id)
            .await
            .expect("q")
            .is_some()
            && bob
                .client
                .message(&offline_zh.id)
                .await
                .expect("q")
                .is_some()
    })
    .await;
    let offline_zh = bob
        .client
        .message(&offline_zh.id)
        .await
        .expect("q")
        .expect("m");
    let offline_en = bob
        .client
        .message(&offline_en.id)
        .await
        .expect("q")
        .expect("m");

    // Two characters out of the middle of a run; newest first.
    expect_hits(&bob, Query::text("消息"), &[&offline_zh, &from_carol, &zh]).await;
    expect_hits(&bob, Query::text("推送"), &[&reply, &zh]).await;
    expect_hits(&bob, Query::text("离线消息"), &[&zh]).await;
    expect_hits(&bob, Query::text("离线"), &[&offline_zh, &zh]).await;
    // English words and prefixes.
    expect_hits(&bob, Query::text("deliver"), &[&from_carol, &en]).await;
    expect_hits(&bob, Query::text("Delivered"), &[&from_carol, &en]).await;
    expect_hits(&bob, Query::text("sync"), &[&offline_en]).await;
    // Mixed text by each part and as a whole.
    for part in [
        "MobileIMSDK",
        "mobileimsdk",
        "QoS",
        "机制",
        "的QoS机制",
        "MobileIMSDK的QoS机制",
    ] {
        expect_hits(&bob, Query::text(part), &[&mixed]).await;
    }
    // Terms are ANDed.
    expect_hits(&bob, Query::text("消息 delivered"), &[&from_carol]).await;
    expect_hits(&bob, Query::text("消息 nowhere"), &[]).await;

    // Filters: conversation, sender, date range.
    let in_alice = Query {
        conversation_id: Some(alice.user_id.clone()),
        ..Query::text("消息")
    };
    expect_hits(&bob, in_alice, &[&offline_zh, &zh]).await;
    let by_bob = Query {
        sender: Some(bob.user_id.clone()),
        ..Query::text("推送")
    };
    expect_hits(&bob, by_bob, &[&reply]).await;
    let since = Query {
        from_ms: Some(from_carol.sent_at),
        ..Query::text("消息")
    };
    expect_hits(&bob, since, &[&offline_zh, &from_carol]).await;
    let until = Query {
        to_ms: Some(from_carol.sent_at - 1),
        ..Query::text("消息")
    };
    expect_hits(&bob, until, &[&zh]).await;

    // Relevance order finds the same set; pages follow next_offset.
    let by_relevance = search(
        &bob,
        Query {
            order: Order::Relevance,
            ..Query::text("消息")
        },
    )
    .await;
    let mut got = ids(&by_relevance);
    got.sort();
    let mut want = of(&[&offline_zh, &from_carol, &zh]);
    want.sort();
    assert_eq!(got, want);
    let first = search(
        &bob,
        Query {
            limit: 2,
            ..Query::text("消息")
        },
    )
    .await;
    assert_eq!(
        (ids(&first), first.next_offset),
        (of(&[&offline_zh, &from_carol]), Some(2))
    );
    let second = search(
        &bob,
        Query {
            limit: 2,
            offset: 2,
            ..Query::text("消息")
        },
    )
    .await;
    assert_eq!((ids(&second), second.next_offset), (of(&[&zh]), None));

    // The snippet marks exactly the match, in the original text.
    let hit = &search(&bob, Query::text("QoS")).await.hits[0];
    let marked: Vec<&str> = hit
        .snippet
        .iter()
        .filter(|p| p.hit)
        .map(|p| p.text.as_str())
        .collect();
    assert_eq!(marked, ["QoS"]);
    let whole: String = hit.snippet.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(whole, mixed.content);

    // Opening the conversation at a hit: the window around it, newest first.
    let conversation = bob.conversation(&alice.user_id).await; // oldest first
    let at = conversation
        .iter()
        .position(|m| m.id == mixed.id)
        .expect("in the conversation");
    let around = bob
        .client
        .history_around(&alice.user_id, &mixed.id, 2)
        .await
        .expect("around");
    let mut want: Vec<&Message> = conversation
        [at.saturating_sub(2)..(at + 3).min(conversation.len())]
        .iter()
        .collect();
    want.reverse();
    assert_eq!(of(&around.iter().collect::<Vec<_>>()), of(&want));
    assert!(matches!(
        bob.client
            .history_around(&carol.user_id, &mixed.id, 2)
            .await,
        Err(hongyan_sdk::Error::MessageNotFound(_))
    ));
    assert_eq!(bob.client.index_status().state, IndexState::Ready);
}

#[tokio::test]
async fn the_index_rebuilds_after_its_directory_is_deleted_and_finds_everything_again() {
    let server = TestServer::start().await;
    let alice = TestClient::register(&server, "alice", Via::Ws).await;
    let mut bob = TestClient::register(&server, "bob", Via::Ws).await;
    alice.befriend(&bob).await;
    let mut received = Vec::new();
    for i in 0..30 {
        let text = if i % 2 == 0 {
            format!("第{i}条离线消息推送")
        } else {
            format!("message {i} was delivered")
        };
        received.push(chat(&alice, &mut bob, &text).await);
    }
    let newest_first = |even: bool| -> Vec<&Message> {
        received
            .iter()
            .enumerate()
            .rev()
            .filter(|(i, _)| (i % 2 == 0) == even)
            .map(|(_, m)| m)
            .collect()
    };
    expect_hits(
        &bob,
        Query {
            limit: 100,
            ..Query::text("消息")
        },
        &newest_first(true),
    )
    .await;

    // The app is closed, the index directory lost, the app started again.
    bob.client.shutdown().await;
    let index_dir = bob.client.account_dir(&bob.user_id).join(DIR_NAME);
    assert!(index_dir.is_dir(), "the index lives in the account dir");
    std::fs::remove_dir_all(&index_dir).expect("delete the index");
    let mut bob = bob.restart().await;
    let stored = bob.conversation(&alice.user_id).await.len() as u64;
    let mut progress = Vec::new();
    loop {
        let (done, total) = bob
            .wait_for(|e| match e {
                Event::IndexProgress { done, total } => Some((*done, *total)),
                _ => None,
            })
            .await;
        progress.push((done, total));
        if done == total {
            break;
        }
    }
    assert!(
        progress.windows(2).all(|w| w[0].0 <= w[1].0),
        "{progress:?}"
    );
    let last = *progress.last().expect("progress");
    assert!(
        last.1 >= stored && last.1 >= 30,
        "{progress:?}, {stored} stored"
    );
    assert_eq!(bob.client.index_status().state, IndexState::Ready);
    assert!(index_dir.is_dir());

    expect_hits(
        &bob,
        Query {
            limit: 100,
            ..Query::text("消息推送")
        },
        &newest_first(true),
    )
    .await;
    expect_hits(
        &bob,
        Query {
            limit: 100,
            ..Query::text("deliv")
        },
        &newest_first(false),
    )
    .await;
    // New messages after the rebuild are indexed as usual.
    let after = chat(&alice, &mut bob, "重建之后的新消息").await;
    expect_hits(&bob, Query::text("重建"), &[&after]).await;
}

#[tokio::test]
async fn a_group_message_is_found_by_every_member() {
    let server = TestServer::start().await;
    let mut alice = TestClient::register(&server, "alice", Via::Ws).await;
    let mut bob = TestClient::register(&server, "bob", Via::Tcp).await;
    let carol = TestClient::register(&server, "carol", Via::Ws).await;
    alice.befriend(&bob).await;
    alice.befriend(&carol).await;
    carol.client.shutdown().await;
    let group = alice
        .client
        .create_group("搜索小组", &[bob.user_id.clone(), carol.user_id.clone()])
        .await
        .expect("create");
    let gid = group.group_id;

    let sent = alice.send(&gid, "群里的消息推送 for the whole team").await;
    alice.wait_status(&sent.id, acked).await;
    let got = receive(&mut bob, &sent.id).await;
    let reply = bob.send(&gid, "team reply 收到").await;
    receive(&mut alice, &reply.id).await;
    // Carol was offline: both arrive by sync.
    let carol = carol.restart().await;

    for member in [&alice, &bob, &carol] {
        let in_group = Query {
            conversation_id: Some(gid.clone()),
            ..Query::text("team")
        };
        // Carol may still be syncing.
        wait_until("the reply is stored", || async {
            member.client.message(&reply.id).await.expect("q").is_some()
        })
        .await;
        let want_reply = member
            .client
            .message(&reply.id)
            .await
            .expect("q")
            .expect("m");
        let want_sent = member
            .client
            .message(&sent.id)
            .await
            .expect("q")
            .expect("m");
        assert_eq!(want_sent.conversation_id, gid);
        expect_hits(member, in_group, &[&want_reply, &want_sent]).await;
        expect_hits(member, Query::text("消息推送"), &[&want_sent]).await;
    }
    assert_eq!(got.conversation_id, gid);
}

/// Publishes a notice to everyone as an admin; returns it and the admin's bearer token.
async fn publish_notice(server: &TestServer, title: &str, body: &str) -> (Notice, String) {
    server
        .create_admin("root", "root-secret-pw")
        .await
        .expect("create admin");
    let http = reqwest::Client::new();
    let login: Value = http
        .post(format!("{}/api/v1/login", server.url()))
        .json(&json!({"username": "root", "password": "root-secret-pw"}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    let token = login["token"].as_str().expect("token").to_owned();
    let notice = http
        .post(format!("{}/api/v1/admin/broadcasts", server.url()))
        .bearer_auth(&token)
        .json(&json!({"title": title, "body": body, "audience": "all"}))
        .send()
        .await
        .expect("publish")
        .error_for_status()
        .expect("published")
        .json()
        .await
        .expect("notice");
    (notice, token)
}

#[tokio::test]
async fn a_notice_is_found_by_title_and_body_until_it_is_recalled() {
    let server = TestServer::start().await;
    let mut dave = TestClient::register(&server, "dave", Via::Ws).await;
    let (notice, token) = publish_notice(
        &server,
        "系统维护通知",
        "服务器将在周日凌晨重启 for maintenance",
    )
    .await;
    let stored = receive(&mut dave, &notice_message_id(notice.id)).await;
    assert_eq!(stored.conversation_id, NOTICES_CONVERSATION);
    expect_hits(&dave, Query::text("维护"), &[&stored]).await;
    expect_hits(&dave, Query::text("重启 maint"), &[&stored]).await;
    let hit = &search(&dave, Query::text("重启")).await.hits[0];
    assert!(
        hit.snippet.iter().any(|p| p.hit && p.text == "重启"),
        "{hit:?}"
    );

    reqwest::Client::new()
        .delete(format!(
            "{}/api/v1/admin/broadcasts/{}",
            server.url(),
            notice.id
        ))
        .bearer_auth(&token)
        .send()
        .await
        .expect("recall")
        .error_for_status()
        .expect("recalled");
    dave.wait_for(|e| matches!(e, Event::MessageRemoved { .. }).then_some(()))
        .await;
    expect_hits(&dave, Query::text("维护"), &[]).await;
}
