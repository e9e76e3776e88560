//! Groups through the real server: create, chat among three, an offline member catching up
//! by sync, a removed member who stops receiving, rename shown as a system line, leave.

use hongyan_protocol::kinds;
use hongyan_sdk::{Event, MessageStatus};
use hongyan_tests::{wait_until, TestClient, TestServer, Via};

async fn received_in(c: &mut TestClient, group_id: &str) -> hongyan_sdk::Message {
    let gid = group_id.to_owned();
    c.wait_for(move |e| match e {
        Event::MessageReceived(m) if m.conversation_id == gid && m.typeu == kinds::TEXT => {
            Some(m.clone())
        }
        _ => None,
    })
    .await
}

fn texts(conv: &[hongyan_sdk::Message]) -> Vec<&str> {
    conv.iter()
        .filter(|m| m.typeu == kinds::TEXT)
        .map(|m| m.content.as_str())
        .collect()
}

#[tokio::test]
async fn three_chat_in_a_group_and_an_offline_member_catches_up() {
    let server = TestServer::start().await;
    let mut alice = TestClient::register(&server, "alice", Via::Ws).await;
    let mut bob = TestClient::register(&server, "bob", Via::Tcp).await;
    let carol = TestClient::register(&server, "carol", Via::Ws).await;
    alice.befriend(&bob).await;
    alice.befriend(&carol).await;
    carol.client.shutdown().await;

    let members = vec![bob.user_id.clone(), carol.user_id.clone()];
    let group = alice
        .client
        .create_group("team 鸿雁", &members)
        .await
        .expect("create");
    assert!(group.group_id.starts_with('g'));
    assert_eq!(
        (group.member_count, group.owner.as_str()),
        (3, alice.user_id.as_str())
    );
    let gid = group.group_id.clone();
    let seen = bob
        .wait_for(|e| match e {
            Event::GroupUpdated(g) => Some(g.clone()),
            _ => None,
        })
        .await;
    assert_eq!(seen.group_id, gid);
    assert_eq!(
        bob.client.groups().await.expect("groups")[0].name,
        "team 鸿雁"
    );

    let hi = alice.send(&gid, "hi team").await;
    let got = received_in(&mut bob, &gid).await;
    assert_eq!(
        (got.id.as_str(), got.from.as_str()),
        (hi.id.as_str(), alice.user_id.as_str())
    );
    alice
        .wait_status(&hi.id, |s| *s == MessageStatus::Sent)
        .await;
    let reply = bob.send(&gid, "hi alice").await;
    let got = received_in(&mut alice, &gid).await;
    assert_eq!(got.id, reply.id);

    // Carol was offline the whole time: the creation and both messages arrive by sync.
    let carol = carol.restart().await;
    wait_until("carol has both group messages", || async {
        texts(&carol.conversation(&gid).await).len() == 2
    })
    .await;
    let conv = carol.conversation(&gid).await;
    assert_eq!(texts(&conv), ["hi team", "hi alice"]);
    let system: Vec<_> = conv
        .iter()
        .filter(|m| m.typeu == kinds::GROUP_EVENT)
        .collect();
    assert_eq!(system.len(), 1, "the creation is one system line");
    assert!(
        system[0].preview().contains("created the group"),
        "{}",
        system[0].preview()
    );
    assert_eq!(carol.client.groups().await.expect("groups").len(), 1);
    let names: Vec<String> = carol
        .client
        .group_members(&gid)
        .await
        .expect("members")
        .into_iter()
        .map(|m| m.user.username)
        .collect();
    assert_eq!(names.len(), 3);
    for n in ["alice", "bob", "carol"] {
        assert!(names.iter().any(|m| m == n), "{n} in {names:?}");
    }
    // Group messages get no receipts: the sender's message stays Sent.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        alice
            .client
            .message(&hi.id)
            .await
            .expect("q")
            .expect("m")
            .status,
        MessageStatus::Sent
    );
}

#[tokio::test]
async fn removed_members_stop_receiving_rename_is_shown_and_members_leave() {
    let server = TestServer::start().await;
    let mut alice = TestClient::register(&server, "alice", Via::Ws).await;
    let mut bob = TestClient::register(&server, "bob", Via::Ws).await;
    let mut carol = TestClient::register(&server, "carol", Via::Tcp).await;
    alice.befriend(&bob).await;
    alice.befriend(&carol).await;
    let group = alice
        .client
        .create_group("plans", &[bob.user_id.clone(), carol.user_id.clone()])
        .await
        .expect("create");
    let gid = group.group_id.clone();

    // The owner removes Carol.
    alice
        .client
        .remove_group_member(&gid, &carol.user_id)
        .await
        .expect("remove");
    let left = carol
        .wait_for(|e| match e {
            Event::GroupLeft { group_id } => Some(group_id.clone()),
            _ => None,
        })
        .await;
    assert_eq!(left, gid);
    assert!(carol.client.groups().await.expect("groups").is_empty());
    let m = alice.send(&gid, "without carol").await;
    received_in(&mut bob, &gid).await;
    alice
        .wait_status(&m.id, |s| *s == MessageStatus::Sent)
        .await;
    let refused = carol.send(&gid, "let me in").await;
    carol
        .wait_status(&refused.id, |s| {
            matches!(s, MessageStatus::Failed { code: 1101, .. })
        })
        .await;
    assert!(
        !texts(&carol.conversation(&gid).await).contains(&"without carol"),
        "a removed member gets nothing new"
    );

    // Bob renames: Alice sees the new name and a system line naming who did it.
    let renamed = bob
        .client
        .rename_group(&gid, "new plans")
        .await
        .expect("rename");
    assert_eq!(renamed.name, "new plans");
    let updated = alice
        .wait_for(|e| match e {
            Event::GroupUpdated(g) if g.name == "new plans" => Some(g.clone()),
            _ => None,
        })
        .await;
    assert_eq!(updated.group_id, gid);
    let line = alice
        .conversation(&gid)
        .await
        .into_iter()
        .rfind(|m| m.typeu == kinds::GROUP_EVENT)
        .expect("a system line");
    assert!(
        line.preview()
            .contains("renamed the group to \"\u{2068}new plans\u{2069}\""),
        "{}",
        line.preview()
    );
    let row = alice
        .client
        .conversations()
        .await
        .expect("conversations")
        .into_iter()
        .find(|c| c.id == gid)
        .expect("the group's conversation");
    assert_eq!(
        row.last_text.as_deref(),
        Some("\u{2068}bob\u{2069} renamed the group to \"\u{2068}new plans\u{2069}\""),
        "the list names the user (names bidi-isolated)"
    );

    // Bob leaves: he gets GroupLeft, Alice an update with one member fewer.
    bob.client.leave_group(&gid).await.expect("leave");
    bob.wait_for(|e| matches!(e, Event::GroupLeft { group_id } if *group_id == gid).then_some(()))
        .await;
    let after = alice
        .wait_for(|e| match e {
            Event::GroupUpdated(g) if g.member_count == 1 => Some(g.clone()),
            _ => None,
        })
        .await;
    assert_eq!(after.owner, alice.user_id);
    assert!(alice.client.group(&gid).await.is_ok());
    assert!(
        bob.client.group(&gid).await.is_err(),
        "not a member any more"
    );
}
