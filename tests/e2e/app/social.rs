//! Friends, groups, notices, receipts, presence and typing (issue 5) in the real app against
//! the real server: the app's user is driven through the UI, everyone else is a real SDK
//! client (`hongyan_tests::TestClient`). The server runs with its defaults, so
//! `friends_only` is on. Each test asserts what the app shows (its DOM) and what the SDK
//! clients see.

use hongyan_sdk::model::FriendRequestStatus;
use hongyan_sdk::{kinds, Event};
use hongyan_tests::wait_until;
use serde_json::{json, Value};

use crate::harness::*;

/// The app's user.
const ME: &str = "alice";

/// A fresh app with `alice` registered and signed in through the UI.
async fn signed_in_app(env: &AppEnv) -> Driver {
    let d = env.session().await;
    register_and_sign_in(&d, ME, "Alice").await;
    d
}

/// The `data-id` of the message showing `text`, once it is shown.
async fn message_id(d: &Driver, text: &str) -> String {
    let element = d.wait_for_text(MESSAGE, text).await;
    d.attribute(&element, "data-id")
        .await
        .unwrap_or_else(|| panic!("the message {text:?} has no data-id"))
}

/// Add friend from Contacts, the other side accepts in its SDK; the friend's online dot
/// follows presence. Then a request arrives from an SDK user and is accepted in the app.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb, tauri-driver and the built UI: run by scripts/test-app.sh"]
async fn app_friend_requests_both_ways_and_presence() {
    let env = AppEnv::start(None).await;
    let d = signed_in_app(&env).await;
    let (_, alice_id) = env.http_login(ME, PASSWORD).await;
    let mut bob = env.test_client("bob").await;
    let mut carol = env.test_client("carol").await;

    // Contacts → Add friend → search "bob" → Add → a message → Send.
    d.click(NAV_CONTACTS).await;
    d.click(ADD_FRIEND_BUTTON).await;
    d.type_into(ADD_FRIEND_QUERY, "bob").await;
    d.click(&add_friend_pick(&bob.user_id)).await;
    let note = "hi Bob, Alice from the hiking club";
    d.type_into(ADD_FRIEND_MESSAGE, note).await;
    d.click(ADD_FRIEND_SEND).await;
    d.wait_for(ADD_FRIEND_DONE).await;
    d.press_escape().await;
    d.wait_gone("[data-testid=add-friend]").await;
    d.wait_for_text(OUTGOING_REQUEST, note).await;

    let request = bob
        .wait_for(|e| match e {
            Event::FriendRequestReceived(r) if r.from.user_id == alice_id => Some(r.clone()),
            _ => None,
        })
        .await;
    assert_eq!(request.message, note, "bob sees the app user's message");
    assert_eq!(request.status, FriendRequestStatus::Pending);
    bob.client
        .accept_friend_request(request.id)
        .await
        .expect("bob accepts");

    // Bob is a friend now, online (his SDK is connected): the row carries the dot.
    let bob_row = friend(&bob.user_id);
    d.wait_for(&format!(
        "{bob_row}[data-online=true] [data-testid=presence-dot]"
    ))
    .await;
    d.wait_gone(OUTGOING_REQUEST).await;

    // Bob quits: presence says offline and the dot goes away.
    bob.client.shutdown().await;
    d.wait_for(&format!("{bob_row}[data-online=false]")).await;
    d.wait_gone(&format!("{bob_row} [data-testid=presence-dot]"))
        .await;

    // The other way: Carol asks, the app shows the request (and the tab's badge), Accept.
    let carol_note = "Carol here — add me?";
    let asked = carol
        .client
        .send_friend_request(&alice_id, carol_note)
        .await
        .expect("carol asks");
    let row = format!("{FRIEND_REQUEST}[data-id=\"{}\"]", asked.id);
    d.wait_for_text(&row, carol_note).await;
    d.wait_for_text(REQUESTS_BADGE, "1").await;
    d.click(&format!("{row} [data-testid=accept-request]"))
        .await;
    let answered = carol
        .wait_for(|e| match e {
            // Its own request echoes as pending first.
            Event::FriendRequestUpdated(r)
                if r.id == asked.id && r.status != FriendRequestStatus::Pending =>
            {
                Some(r.clone())
            }
            _ => None,
        })
        .await;
    assert_eq!(answered.status, FriendRequestStatus::Accepted);
    d.wait_gone(&row).await;
    d.wait_gone(REQUESTS_BADGE).await;
    d.wait_for(&format!("{}[data-online=true]", friend(&carol.user_id)))
        .await;
    let friends = carol.client.friends().await.expect("carol's friends");
    assert!(
        friends.iter().any(|f| f.user.user_id == alice_id),
        "carol's friends include the app user: {friends:?}"
    );
    d.quit().await;
    carol.client.shutdown().await;
}

/// A message from the app: ✓ while the friend is away, ✓✓ once his SDK stored it,
/// read-coloured ✓✓ once he read it; his typing shows in the chat header.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb, tauri-driver and the built UI: run by scripts/test-app.sh"]
async fn app_chat_shows_receipts_and_typing() {
    let env = AppEnv::start(None).await;
    let d = signed_in_app(&env).await;
    let bob = env.test_client("bob").await;
    let alice_id = env.befriend_app_user(ME, &bob).await;

    d.click(NEW_CHAT_BUTTON).await;
    d.click(&new_chat_friend(&bob.user_id)).await;
    d.wait_for(&open_conversation(&bob.user_id)).await;

    // Bob is away: the server has the message (✓), nobody has stored it yet.
    bob.client.shutdown().await;
    let text = "are you coming on Saturday?";
    d.type_into(COMPOSER, text).await;
    d.click(SEND).await;
    let id = message_id(&d, text).await;
    d.wait_for(&message_status(&id, "sent")).await;

    // Bob is back: his SDK syncs, stores it and sends "delivered" (✓✓).
    let mut bob = bob.restart().await;
    let got = bob
        .wait_for(|e| match e {
            Event::MessageReceived(m) if m.id == id => Some(m.clone()),
            _ => None,
        })
        .await;
    assert_eq!(
        (got.from.as_str(), got.content.as_str()),
        (alice_id.as_str(), text)
    );
    let delivered = d.wait_for(&message_status(&id, "delivered")).await;
    let delivered_colour = d.css_value(&delivered, "color").await;

    // Bob reads it: "read" ✓✓, in the accent colour.
    bob.client.mark_read(&alice_id).await.expect("bob reads");
    let read = d.wait_for(&message_status(&id, "read")).await;
    let read_colour = d.css_value(&read, "color").await;
    assert_ne!(
        read_colour, delivered_colour,
        "read ✓✓ is coloured differently from delivered ✓✓"
    );

    // Bob types: the header says so, then falls back to "online".
    bob.wait_connected().await;
    bob.client.send_typing(&alice_id).await.expect("typing");
    d.wait_for_text(CHAT_STATUS, "typing").await;
    d.wait_for_text(CHAT_STATUS, "online").await;
    d.quit().await;
    bob.client.shutdown().await;
}

/// New group with two SDK friends; messages both ways, rename, the owner removes a member.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb, tauri-driver and the built UI: run by scripts/test-app.sh"]
async fn app_group_create_chat_rename_remove() {
    let env = AppEnv::start(None).await;
    let d = signed_in_app(&env).await;
    let mut bob = env.test_client("bob").await;
    let mut carol = env.test_client("carol").await;
    let alice_id = env.befriend_app_user(ME, &bob).await;
    env.befriend_app_user(ME, &carol).await;

    // Contacts → New group: a name, both friends, Create.
    d.click(NAV_CONTACTS).await;
    d.wait_for(&friend(&bob.user_id)).await;
    d.wait_for(&friend(&carol.user_id)).await;
    d.click(NEW_GROUP_BUTTON).await;
    let name = "Weekend hike 徒步";
    d.type_into(NEW_GROUP_NAME, name).await;
    d.click(&pick_friend(&bob.user_id)).await;
    d.click(&pick_friend(&carol.user_id)).await;
    d.click(NEW_GROUP_CREATE).await;

    let group = bob
        .wait_for(|e| match e {
            Event::GroupUpdated(g) if g.name == name => Some(g.clone()),
            _ => None,
        })
        .await;
    assert_eq!(
        (group.owner.as_str(), group.member_count),
        (alice_id.as_str(), 3)
    );
    let gid = group.group_id.clone();
    carol
        .wait_for(|e| matches!(e, Event::GroupUpdated(g) if g.group_id == gid).then_some(()))
        .await;
    // The app opened the new group's chat, which starts with the "created" line.
    d.wait_for(&open_conversation(&gid)).await;
    d.wait_for_text(CHAT_NAME, name).await;
    d.wait_for_text(SYSTEM_LINE, &format!("You created the group “{name}”"))
        .await;

    // Bob writes: shown with his name.
    let from_bob = bob.send(&gid, "who brings the map?").await;
    d.wait_for_text(&message(&from_bob.id), "who brings the map?")
        .await;
    d.wait_for_text(
        &format!("{} {MESSAGE_SENDER}", message(&from_bob.id)),
        "bob",
    )
    .await;

    // The app answers: both members get it.
    let reply = "I do, and the snacks";
    d.type_into(COMPOSER, reply).await;
    d.click(SEND).await;
    d.wait_for_text(MESSAGE, reply).await;
    for member in [&mut bob, &mut carol] {
        let m = member
            .wait_for(|e| match e {
                Event::MessageReceived(m) if m.conversation_id == gid && m.content == reply => {
                    Some(m.clone())
                }
                _ => None,
            })
            .await;
        assert_eq!(m.from, alice_id, "{} gets the app's reply", member.username);
    }

    // Rename from the group-info panel: the header changes, Bob's SDK has the event.
    let renamed = "Sunday hike";
    d.click(GROUP_INFO_BUTTON).await;
    d.click(GROUP_RENAME).await;
    d.type_into(GROUP_NAME_INPUT, renamed).await;
    d.click(GROUP_NAME_SAVE).await;
    d.wait_for_text(CHAT_NAME, renamed).await;
    d.wait_for_text(
        SYSTEM_LINE,
        &format!("You renamed the group to “{renamed}”"),
    )
    .await;
    bob.wait_for(|e| {
        matches!(e, Event::GroupUpdated(g) if g.group_id == gid && g.name == renamed).then_some(())
    })
    .await;
    wait_until("bob's store holds the rename event", || async {
        bob.conversation(&gid).await.iter().any(|m| {
            m.typeu == kinds::GROUP_EVENT
                && m.content.contains("\"renamed\"")
                && m.content.contains(renamed)
        })
    })
    .await;

    // The owner removes Carol (with confirmation): she is out, the chat says so.
    d.click(&format!(
        "{} [data-testid=remove-member]",
        group_member(&carol.user_id)
    ))
    .await;
    d.click(CONFIRM_OK).await;
    carol
        .wait_for(|e| matches!(e, Event::GroupLeft { group_id } if *group_id == gid).then_some(()))
        .await;
    d.wait_gone(&group_member(&carol.user_id)).await;
    d.wait_for_text(SYSTEM_LINE, "You removed carol").await;
    d.wait_for(&group_member(&bob.user_id)).await;
    d.screenshot("app-real-group").await;
    d.quit().await;
    bob.client.shutdown().await;
    carol.client.shutdown().await;
}

/// An administrator's notice to all shows in the app's Notices with an unread badge; recalled,
/// it disappears.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb, tauri-driver and the built UI: run by scripts/test-app.sh"]
async fn app_notice_shows_then_recalled() {
    let env = AppEnv::start(None).await;
    let d = signed_in_app(&env).await;
    env.server
        .create_admin("admin", PASSWORD)
        .await
        .expect("admin account");
    let (admin, _) = env.http_login("admin", PASSWORD).await;
    let http = reqwest::Client::new();

    let (title, body) = (
        "Maintenance tonight",
        "The server restarts at 23:00 (5 minutes).",
    );
    let resp = http
        .post(env.api("/admin/broadcasts"))
        .bearer_auth(&admin)
        .json(&json!({"title": title, "body": body, "audience": "all"}))
        .send()
        .await
        .expect("publish");
    assert_eq!(resp.status(), reqwest::StatusCode::CREATED);
    let notice: Value = resp.json().await.expect("notice");
    let notice_id = notice["id"].as_i64().expect("notice id");

    let row = conversation(NOTICES);
    d.wait_for_text(&format!("{row} [data-testid=unread]"), "1")
        .await;
    d.click(&row).await;
    d.wait_for_text(NOTICE_TITLE, title).await;
    d.wait_for_text(NOTICE_BODY, body).await;
    d.wait_gone(&format!("{row} [data-testid=unread]")).await;

    let resp = http
        .delete(env.api(&format!("/admin/broadcasts/{notice_id}")))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("recall");
    assert_eq!(resp.status(), reqwest::StatusCode::NO_CONTENT);
    d.wait_gone(NOTICE_CARD).await;
    d.quit().await;
}

/// A chat opened by id with a registered stranger: the banner offers "Add friend", and a
/// message fails with the "not friends" reason and a Retry; the stranger gets nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb, tauri-driver and the built UI: run by scripts/test-app.sh"]
async fn app_message_to_a_stranger_fails_not_friends() {
    let env = AppEnv::start(None).await;
    let d = signed_in_app(&env).await;
    let (_, alice_id) = env.http_login(ME, PASSWORD).await;
    let dave = env.test_client("dave").await;

    d.click(NEW_CHAT_BUTTON).await;
    d.type_into(NEW_CHAT_QUERY, &dave.user_id).await;
    d.click(NEW_CHAT_OPEN_ID).await;
    d.wait_for(&open_conversation(&dave.user_id)).await;
    d.wait_for(NOT_FRIEND_BANNER).await;

    let text = "hello stranger";
    d.type_into(COMPOSER, text).await;
    d.click(SEND).await;
    let id = message_id(&d, text).await;
    d.wait_for(&message_status(&id, "failed")).await;
    d.wait_for_text(
        &format!("{} {FAILED_REASON}", message(&id)),
        "Not friends — add them first",
    )
    .await;
    d.wait_for(&format!("{} {RETRY}", message(&id))).await;
    assert!(
        dave.conversation(&alice_id).await.is_empty(),
        "nothing reached the stranger"
    );
    d.quit().await;
    dave.client.shutdown().await;
}
