//! Issue 5 against the real binary with `--friends-only true`: friends (events live and by
//! sync, 1101 for strangers), groups (fan-out seqs, offline sync, removal, leave, hand-over,
//! limit), receipts.

mod common;

use std::time::Duration;

use common::{Conn, TestServer};
use hongyan_protocol::{
    api::{FriendEvent, FriendEventKind, GroupEvent, GroupEventKind},
    kinds, Envelope, PacketType,
};
use serde_json::{json, Value};

const SHORT: Duration = Duration::from_millis(300);
const LEVEL: u32 = 261_201;

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

async fn online(s: &TestServer, name: &str) -> (String, String, Conn) {
    let (id, token) = s.account(name).await;
    let mut conn = s.ws().await;
    conn.login_at(&id, &token, 1, LEVEL).await;
    (id, token, conn)
}

fn friend_event(env: &Envelope) -> FriendEvent {
    assert_eq!(env.typeu, kinds::FRIEND_EVENT, "{env:?}");
    assert_eq!(env.from, "0");
    assert!(
        env.fp.as_deref().is_some_and(|f| f.starts_with("s-")),
        "{env:?}"
    );
    assert!(env.seq.is_some() && env.qos);
    serde_json::from_str(env.data_content.as_deref().expect("content")).expect("friend event")
}

fn group_event(env: &Envelope) -> GroupEvent {
    assert_eq!(env.typeu, kinds::GROUP_EVENT, "{env:?}");
    serde_json::from_str(env.data_content.as_deref().expect("content")).expect("group event")
}

#[tokio::test]
async fn friends_flow_events_live_and_by_sync_and_1101_for_strangers() {
    let s = TestServer::start_friends_only().await;
    let (a, ta, mut wa) = online(&s, "alice").await;
    let (b, tb, mut wb) = online(&s, "bob").await;
    let (c, tc) = s.account("carol").await; // stays offline

    // Strangers: 1101 with the fp, nothing stored or delivered. A note to self works.
    wa.send(&Envelope::chat(&a, &b, "early", 1, "hi?")).await;
    assert_eq!(wa.expect_error().await, (1101, Some("early".into())));
    wb.expect_silence(SHORT).await;
    assert!(s.sync_at(&tb, 0, LEVEL).await.is_empty());
    wa.send(&Envelope::chat(&a, &a, "self", 1, "note")).await;
    assert_eq!(wa.recv().await.expect("ack").packet_type, PacketType::Ack);

    // Request: both sides get a `request` event live, each naming the other party.
    let (st, req) = s
        .post_as(
            &ta,
            "/api/v1/friends/requests",
            json!({"to": b, "message": "hi bob"}),
        )
        .await;
    assert_eq!(st, 201, "{req}");
    assert_eq!(
        (req["status"].as_str(), req["message"].as_str()),
        (Some("pending"), Some("hi bob"))
    );
    let to_b = friend_event(&wb.expect_kind(kinds::FRIEND_EVENT).await);
    assert_eq!(
        (to_b.event, to_b.user.user_id.as_str()),
        (FriendEventKind::Request, a.as_str())
    );
    assert_eq!(to_b.request.as_ref().map(|r| r.id), req["id"].as_i64());
    let to_a = friend_event(&wa.expect_kind(kinds::FRIEND_EVENT).await);
    assert_eq!(to_a.user.user_id, b);
    let (_, pending) = s.get("/api/v1/friends/requests", Some(&tb)).await;
    assert_eq!(pending["incoming"][0]["from"]["user_id"], a.as_str());
    assert_eq!(pending["outgoing"], json!([]));

    // Bad requests.
    for (body, status, c_) in [
        (json!({"to": a}), 400, "invalid_request"),
        (json!({"to": "99999"}), 404, "not_found"),
        (json!({"to": "bob"}), 404, "not_found"),
    ] {
        let (st, e) = s.post_as(&ta, "/api/v1/friends/requests", body).await;
        assert_eq!((st, code(&e)), (status, c_), "{e}");
    }
    let id = req["id"].as_i64().expect("id");
    let (st, _) = s
        .post_as(
            &ta,
            &format!("/api/v1/friends/requests/{id}/accept"),
            json!({}),
        )
        .await;
    assert_eq!(st, 404, "only the recipient may accept");

    let (st, acc) = s
        .post_as(
            &tb,
            &format!("/api/v1/friends/requests/{id}/accept"),
            json!({}),
        )
        .await;
    assert_eq!((st, acc["status"].as_str()), (200, Some("accepted")));
    let (st, again) = s
        .post_as(
            &tb,
            &format!("/api/v1/friends/requests/{id}/accept"),
            json!({}),
        )
        .await;
    assert_eq!((st, code(&again)), (409, "not_pending"));
    assert_eq!(
        friend_event(&wa.expect_kind(kinds::FRIEND_EVENT).await).event,
        FriendEventKind::Accepted
    );
    assert_eq!(
        friend_event(&wb.expect_kind(kinds::FRIEND_EVENT).await).event,
        FriendEventKind::Accepted
    );
    let (st, dup) = s
        .post_as(&ta, "/api/v1/friends/requests", json!({"to": b}))
        .await;
    assert_eq!((st, code(&dup)), (409, "already_friends"));

    // Friends list carries presence.
    let (_, list) = s.get("/api/v1/friends", Some(&ta)).await;
    assert_eq!(list["friends"][0]["user_id"], b.as_str());
    assert_eq!(list["friends"][0]["online"], true);
    assert!(list["friends"][0]["since"].as_i64().expect("since") > 0);

    // Friends chat.
    wa.send(&Envelope::chat(&a, &b, "ok", 1, "now we can"))
        .await;
    assert_eq!(wa.recv().await.expect("ack").packet_type, PacketType::Ack);
    assert_eq!(wb.expect_kind(1).await.fp.as_deref(), Some("ok"));

    // Carol is offline: she gets the request by sync; declining notifies alice live.
    let (st, to_c) = s
        .post_as(&ta, "/api/v1/friends/requests", json!({"to": c}))
        .await;
    assert_eq!(st, 201);
    wa.expect_kind(kinds::FRIEND_EVENT).await;
    let synced = s.sync_at(&tc, 0, LEVEL).await;
    assert_eq!(synced.len(), 1);
    let ev = friend_event(&synced[0]);
    assert_eq!(
        (ev.event, ev.user.user_id.as_str()),
        (FriendEventKind::Request, a.as_str())
    );
    let cid = to_c["id"].as_i64().expect("id");
    let (st, dec) = s
        .post_as(
            &tc,
            &format!("/api/v1/friends/requests/{cid}/decline"),
            json!({}),
        )
        .await;
    assert_eq!((st, dec["status"].as_str()), (200, Some("declined")));
    assert_eq!(
        friend_event(&wa.expect_kind(kinds::FRIEND_EVENT).await).event,
        FriendEventKind::Declined
    );

    // Asking someone who asked me first makes us friends at once (200, accepted).
    let (st, _) = s
        .post_as(&tc, "/api/v1/friends/requests", json!({"to": b}))
        .await;
    assert_eq!(st, 201);
    wb.expect_kind(kinds::FRIEND_EVENT).await;
    let (st, both) = s
        .post_as(&tb, "/api/v1/friends/requests", json!({"to": c}))
        .await;
    assert_eq!(
        (st, both["status"].as_str()),
        (200, Some("accepted")),
        "{both}"
    );
    assert_eq!(
        friend_event(&wb.expect_kind(kinds::FRIEND_EVENT).await).event,
        FriendEventKind::Accepted
    );

    // Removal: both get `removed`, and chat is refused again.
    let (st, _) = s.delete_as(&ta, &format!("/api/v1/friends/{b}")).await;
    assert_eq!(st, 204);
    assert_eq!(
        friend_event(&wa.expect_kind(kinds::FRIEND_EVENT).await).event,
        FriendEventKind::Removed
    );
    assert_eq!(
        friend_event(&wb.expect_kind(kinds::FRIEND_EVENT).await).event,
        FriendEventKind::Removed
    );
    let (st, gone) = s.delete_as(&ta, &format!("/api/v1/friends/{b}")).await;
    assert_eq!((st, code(&gone)), (404, "not_found"));
    wa.send(&Envelope::chat(&a, &b, "after", 1, "still there?"))
        .await;
    assert_eq!(wa.expect_error().await, (1101, Some("after".into())));
    // A missing recipient is still 1107, not 1101.
    wa.send(&Envelope::chat(&a, "99999", "nobody", 1, "x"))
        .await;
    assert_eq!(wa.expect_error().await.0, 1107);
}

#[tokio::test]
async fn receipts_pass_between_friends_and_are_stored_for_the_sender() {
    let s = TestServer::start_friends_only().await;
    let (a, ta, mut wa) = online(&s, "alice").await;
    let (b, tb, mut wb) = online(&s, "bob").await;
    s.befriend((&a, &ta), (&b, &tb)).await;
    for conn in [&mut wa, &mut wb] {
        conn.expect_kind(kinds::FRIEND_EVENT).await;
        conn.expect_kind(kinds::FRIEND_EVENT).await;
    }
    wa.send(&Envelope::chat(&a, &b, "m1", 1, "hello")).await;
    wa.recv().await.expect("ack");
    wb.expect_kind(1).await;
    let receipt = json!({"kind": "delivered", "ids": ["m1"], "by": b}).to_string();
    wb.send(&Envelope::chat(
        &b,
        &a,
        "r1",
        kinds::RECEIPT,
        receipt.clone(),
    ))
    .await;
    assert_eq!(wb.recv().await.expect("ack").packet_type, PacketType::Ack);
    let got = wa.expect_kind(kinds::RECEIPT).await;
    assert_eq!(got.data_content.as_deref(), Some(receipt.as_str()));
    let synced = s.sync_at(&ta, 0, LEVEL).await;
    assert!(synced
        .iter()
        .any(|e| e.fp.as_deref() == Some("r1") && e.typeu == kinds::RECEIPT));
    // A client may not forge server kinds.
    wb.send(&Envelope::chat(&b, &a, "fake", kinds::FRIEND_EVENT, "{}"))
        .await;
    assert_eq!(wb.expect_error().await, (1101, Some("fake".into())));
}

#[tokio::test]
async fn groups_fan_out_sync_remove_leave_hand_over_and_limit() {
    let s = TestServer::start_friends_only().await;
    let (a, ta, mut wa) = online(&s, "alice").await;
    let (b, tb, mut wb) = online(&s, "bob").await;
    let (c, tc) = s.account("carol").await; // offline member
    let (d, td, mut wd) = online(&s, "dave").await; // never a member
    s.befriend((&a, &ta), (&b, &tb)).await;
    s.befriend((&a, &ta), (&c, &tc)).await;
    for conn in [&mut wa, &mut wb] {
        while conn.recv_within(SHORT).await.is_some() {}
    }

    // Inviting a non-friend is refused when friends_only is on.
    let (st, e) = s
        .post_as(&ta, "/api/v1/groups", json!({"name": "x", "members": [d]}))
        .await;
    assert_eq!((st, code(&e)), (403, "not_friends"));
    let (st, e) = s
        .post_as(&ta, "/api/v1/groups", json!({"name": " ", "members": []}))
        .await;
    assert_eq!((st, code(&e)), (400, "invalid_request"));

    let (st, g) = s
        .post_as(
            &ta,
            "/api/v1/groups",
            json!({"name": "team", "members": [b, c]}),
        )
        .await;
    assert_eq!(st, 201, "{g}");
    let gid = g["group_id"].as_str().expect("gid").to_owned();
    assert!(gid.starts_with('g'));
    assert_eq!(
        (g["owner"].as_str(), g["member_count"].as_u64()),
        (Some(a.as_str()), Some(3))
    );
    let created = group_event(&wb.expect_kind(kinds::GROUP_EVENT).await);
    assert_eq!(
        (created.event, created.group.group_id.as_str()),
        (GroupEventKind::Created, gid.as_str())
    );
    wa.expect_kind(kinds::GROUP_EVENT).await;

    // Group chat: ACK to the sender; every online member gets it with its own seq.
    let msg = Envelope::chat(&a, &gid, "g1", 1, "hello team");
    wa.send(&msg).await;
    let ack = wa.recv().await.expect("ack");
    assert_eq!(
        (ack.packet_type, ack.from.as_str()),
        (PacketType::Ack, gid.as_str())
    );
    let at_b = wb.expect_kind(1).await;
    assert_eq!(
        (at_b.from.as_str(), at_b.to.as_str()),
        (a.as_str(), gid.as_str())
    );
    let b_sync = s.sync_at(&tb, 0, LEVEL).await;
    assert_eq!(
        b_sync.last().map(|e| (e.fp.clone(), e.seq)),
        Some((Some("g1".into()), at_b.seq))
    );
    // The sender's own copy is in its mailbox; a resend is ACKed and not delivered again.
    assert!(s
        .sync_at(&ta, 0, LEVEL)
        .await
        .iter()
        .any(|e| e.fp.as_deref() == Some("g1")));
    wa.send(&msg).await;
    assert_eq!(wa.recv().await.expect("ack").packet_type, PacketType::Ack);
    wb.expect_silence(SHORT).await;
    // The offline member gets the event and the message by sync, at its own seqs.
    let c_sync = s.sync_at(&tc, 0, LEVEL).await;
    let fps: Vec<_> = c_sync.iter().map(|e| (e.typeu, e.seq)).collect();
    assert_eq!(
        fps[fps.len() - 2..],
        [(kinds::GROUP_EVENT, Some(3)), (1, Some(4))]
    );
    // Non-members: 1101; receipts to a group: 1101.
    wd.send(&Envelope::chat(&d, &gid, "nope", 1, "let me in"))
        .await;
    assert_eq!(wd.expect_error().await, (1101, Some("nope".into())));
    let (st, _) = s.get(&format!("/api/v1/groups/{gid}"), Some(&td)).await;
    assert_eq!(st, 404);
    wb.send(&Envelope::chat(&b, &gid, "rcpt", kinds::RECEIPT, "{}"))
        .await;
    assert_eq!(wb.expect_error().await.0, 1101);

    // Rename, member list, list of my groups.
    let (st, r) = s
        .call(
            reqwest::Method::PATCH,
            &format!("/api/v1/groups/{gid}"),
            Some(&tb),
            Some(json!({"name": "dream team"})),
            &[],
        )
        .await;
    assert_eq!((st, r["name"].as_str()), (200, Some("dream team")));
    assert_eq!(
        group_event(&wa.expect_kind(kinds::GROUP_EVENT).await).event,
        GroupEventKind::Renamed
    );
    wb.expect_kind(kinds::GROUP_EVENT).await;
    let (_, members) = s
        .get(&format!("/api/v1/groups/{gid}/members"), Some(&tb))
        .await;
    let roles: Vec<_> = members["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| {
            (
                m["user_id"].as_str().unwrap_or("").to_owned(),
                m["role"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert!(
        roles.contains(&(a.clone(), "owner".into()))
            && roles.contains(&(b.clone(), "member".into()))
    );
    let (_, mine) = s.get("/api/v1/groups", Some(&tc)).await;
    assert_eq!(mine["groups"][0]["group_id"], gid.as_str());

    // A member may not remove others; the owner removes carol, who gets the event and
    // nothing after it.
    let (st, e) = s
        .delete_as(&tb, &format!("/api/v1/groups/{gid}/members/{c}"))
        .await;
    assert_eq!((st, code(&e)), (403, "forbidden"));
    let (st, _) = s
        .delete_as(&ta, &format!("/api/v1/groups/{gid}/members/{c}"))
        .await;
    assert_eq!(st, 204);
    let removed = group_event(&wb.expect_kind(kinds::GROUP_EVENT).await);
    assert_eq!(
        (removed.event, removed.members.clone()),
        (GroupEventKind::MemberRemoved, vec![c.clone()])
    );
    wa.expect_kind(kinds::GROUP_EVENT).await;
    wa.send(&Envelope::chat(&a, &gid, "g2", 1, "carol is gone"))
        .await;
    wa.recv().await.expect("ack");
    wb.expect_kind(1).await;
    let c_after = s.sync_at(&tc, 0, LEVEL).await;
    let last = c_after.last().expect("events");
    assert_eq!(group_event(last).event, GroupEventKind::MemberRemoved);
    assert!(
        !c_after.iter().any(|e| e.fp.as_deref() == Some("g2")),
        "removed member stops receiving"
    );

    // The owner leaves: bob (longest-standing) owns it; bob leaves last: the group is gone.
    let (st, _) = s
        .delete_as(&ta, &format!("/api/v1/groups/{gid}/members/{a}"))
        .await;
    assert_eq!(st, 204);
    let left = group_event(&wb.expect_kind(kinds::GROUP_EVENT).await);
    assert_eq!(
        (left.event, left.group.owner.as_str()),
        (GroupEventKind::MemberLeft, b.as_str())
    );
    assert_eq!(
        group_event(&wa.expect_kind(kinds::GROUP_EVENT).await).event,
        GroupEventKind::MemberLeft
    );
    let (st, _) = s
        .delete_as(&tb, &format!("/api/v1/groups/{gid}/members/{b}"))
        .await;
    assert_eq!(st, 204);
    assert_eq!(
        group_event(&wb.expect_kind(kinds::GROUP_EVENT).await)
            .group
            .member_count,
        0
    );
    let (st, _) = s.get(&format!("/api/v1/groups/{gid}"), Some(&tb)).await;
    assert_eq!(st, 404);
    wb.send(&Envelope::chat(&b, &gid, "g3", 1, "anyone?")).await;
    assert_eq!(wb.expect_error().await.0, 1101);

    // At most 500 members, owner included.
    let too_many: Vec<String> = (0..500).map(|i| (20_000 + i).to_string()).collect();
    let (st, e) = s
        .post_as(
            &ta,
            "/api/v1/groups",
            json!({"name": "big", "members": too_many}),
        )
        .await;
    assert_eq!((st, code(&e)), (400, "invalid_request"), "{e}");
    assert!(e["error"]["message"].as_str().unwrap_or("").contains("500"));
}
