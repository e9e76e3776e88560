//! Groups, members, group events (typeu 61) and group messages.

use hongyan_protocol::{
    api::{parse_group_id, GroupEvent, GroupEventKind, Role},
    kinds, Envelope,
};
use hongyan_server::store::{ChatOutcome, NewGroupChat, Store, StoreError};

use super::{assert_gapless, assert_stored, chat, payload, recipients, user};
use crate::Nodes;

fn gid_of(wire: &str) -> i64 {
    parse_group_id(wire).expect("group id")
}

fn group_chat(from: i64, group_id: i64, fp: &str) -> NewGroupChat {
    NewGroupChat {
        from,
        group_id,
        fp: fp.into(),
        typeu: 1,
        content: format!("group body {fp}"),
    }
}

/// Checks `deliveries` are one `kind` event of group `gid` to exactly `to`, stored.
async fn assert_event(
    store: &Store,
    deliveries: &[(i64, Envelope)],
    kind: GroupEventKind,
    gid: i64,
    to: &[i64],
) -> GroupEvent {
    let mut expected = to.to_vec();
    expected.sort_unstable();
    assert_eq!(recipients(deliveries), expected, "{kind:?} told");
    let first: GroupEvent = payload(&deliveries[0].1);
    for (_, env) in deliveries {
        assert_eq!(env.typeu, kinds::GROUP_EVENT);
        assert_eq!(env.from, "0");
        assert_eq!(gid_of(&env.to), gid);
        assert_eq!(env.fp, deliveries[0].1.fp, "one event");
        assert_eq!(payload::<GroupEvent>(env), first);
    }
    assert_eq!(first.event, kind);
    assert_stored(store, deliveries).await;
    first
}

pub async fn groups_are_created_renamed_and_listed_with_events(store: &Nodes) {
    let owner = user(store, "owner").await;
    let friend = user(store, "friend").await;
    let stranger = user(store, "stranger").await;
    store.make_friends(owner, friend).await.expect("friends");

    // friends_only: a non-friend or a missing user is refused, and nothing is created.
    let err = store
        .create_group(owner, "g".into(), vec![friend, stranger], true)
        .await;
    assert!(
        matches!(err, Err(StoreError::NotFriends(id)) if id == stranger),
        "{err:?}"
    );
    let err = store
        .create_group(owner, "g".into(), vec![friend, 99999], false)
        .await;
    assert!(matches!(err, Err(StoreError::NoSuchUser)), "{err:?}");
    assert!(store.groups_of(owner).await.expect("groups").is_empty());
    assert_eq!(store.last_seq(owner).await.expect("seq"), 0);

    // The owner listed among the members (or twice) counts once.
    let (group, told) = store
        .create_group(owner, "first".into(), vec![friend, owner, friend], true)
        .await
        .expect("create");
    let gid = gid_of(&group.group_id);
    assert_eq!(
        (group.name.as_str(), group.owner.clone(), group.member_count),
        ("first", owner.to_string(), 2)
    );
    assert!(group.created_at > 0);
    let event = assert_event(store, &told, GroupEventKind::Created, gid, &[owner, friend]).await;
    assert_eq!(event.group, group);
    assert_eq!(event.by, owner.to_string());
    assert_eq!(event.members, [owner.to_string(), friend.to_string()]);

    let (second, _) = store
        .create_group(friend, "second".into(), vec![stranger, owner], false)
        .await
        .expect("create");
    assert!(gid_of(&second.group_id) > gid);
    // Newest first.
    let names: Vec<String> = store
        .groups_of(owner)
        .await
        .expect("groups")
        .into_iter()
        .map(|g| g.name)
        .collect();
    assert_eq!(names, ["second", "first"]);
    assert_eq!(
        store.groups_of(stranger).await.expect("groups"),
        std::slice::from_ref(&second)
    );

    // Visible to members only.
    assert_eq!(store.group(friend, gid).await.expect("group"), group);
    let err = store.group(stranger, gid).await;
    assert!(matches!(err, Err(StoreError::NotFound)), "{err:?}");
    let err = store.group(owner, 99999).await;
    assert!(matches!(err, Err(StoreError::NotFound)), "{err:?}");
    assert!(store.is_group_member(gid, friend).await.expect("member"));
    assert!(!store.is_group_member(gid, stranger).await.expect("member"));
    let err = store.group_members(stranger, gid).await;
    assert!(matches!(err, Err(StoreError::NotFound)), "{err:?}");
    let members = store.group_members(friend, gid).await.expect("members");
    let view: Vec<(String, Role)> = members
        .iter()
        .map(|m| (m.user.username.clone(), m.role))
        .collect();
    assert_eq!(
        view,
        [
            ("owner".to_string(), Role::Owner),
            ("friend".to_string(), Role::Member)
        ]
    );

    // Any member renames; everyone is told; a stranger cannot.
    let (renamed, told) = store
        .rename_group(friend, gid, "renamed".into())
        .await
        .expect("rename");
    assert_eq!(renamed.name, "renamed");
    let event = assert_event(store, &told, GroupEventKind::Renamed, gid, &[owner, friend]).await;
    assert_eq!(
        (event.group, event.by),
        (renamed.clone(), friend.to_string())
    );
    assert!(event.members.is_empty());
    let err = store.rename_group(stranger, gid, "x".into()).await;
    assert!(matches!(err, Err(StoreError::NotFound)), "{err:?}");
    assert_eq!(
        store.group(owner, gid).await.expect("group").name,
        "renamed"
    );
    for u in [owner, friend, stranger] {
        assert_gapless(store, u).await;
    }
}

pub async fn members_are_added_removed_and_the_owner_hands_over(store: &Nodes) {
    let owner = user(store, "owner").await;
    let early = user(store, "early").await;
    let late = user(store, "late").await;
    let other = user(store, "other").await;
    let (group, _) = store
        .create_group(owner, "g".into(), vec![early], false)
        .await
        .expect("create");
    let gid = gid_of(&group.group_id);

    // Adding: members already in are skipped; friends_only needs the inviter's friendship.
    let err = store.add_group_members(early, gid, vec![late], true).await;
    assert!(
        matches!(err, Err(StoreError::NotFriends(id)) if id == late),
        "{err:?}"
    );
    let err = store
        .add_group_members(early, gid, vec![99999], false)
        .await;
    assert!(matches!(err, Err(StoreError::NoSuchUser)), "{err:?}");
    let err = store.add_group_members(late, gid, vec![other], false).await;
    assert!(
        matches!(err, Err(StoreError::NotFound)),
        "a non-member: {err:?}"
    );
    store.make_friends(early, late).await.expect("friends");
    let (after, told) = store
        .add_group_members(early, gid, vec![owner, late, late], true)
        .await
        .expect("add");
    assert_eq!(after.member_count, 3);
    let event = assert_event(
        store,
        &told,
        GroupEventKind::MembersAdded,
        gid,
        &[owner, early, late],
    )
    .await;
    assert_eq!(
        (event.by, event.members),
        (early.to_string(), vec![late.to_string()])
    );
    let (same, told) = store
        .add_group_members(owner, gid, vec![early, late], false)
        .await
        .expect("nothing to add");
    assert_eq!(same.member_count, 3);
    assert!(told.is_empty(), "nobody added, nobody told");
    store
        .add_group_members(owner, gid, vec![other], false)
        .await
        .expect("add other");

    // Only the owner removes others.
    let err = store.remove_group_member(early, gid, other).await;
    assert!(matches!(err, Err(StoreError::Forbidden(_))), "{err:?}");
    let err = store.remove_group_member(owner, gid, 99999).await;
    assert!(matches!(err, Err(StoreError::NotFound)), "{err:?}");
    let told = store
        .remove_group_member(owner, gid, other)
        .await
        .expect("remove");
    let event = assert_event(
        store,
        &told,
        GroupEventKind::MemberRemoved,
        gid,
        &[owner, early, late, other],
    )
    .await;
    assert_eq!(
        (event.by, event.members),
        (owner.to_string(), vec![other.to_string()])
    );
    assert_eq!(event.group.member_count, 3);
    assert!(!store.is_group_member(gid, other).await.expect("member"));
    let err = store
        .store_group_chat(group_chat(other, gid, "removed"))
        .await;
    assert!(matches!(err, Err(StoreError::NotAllowed)), "{err:?}");

    // The owner leaves: the longest-standing member takes over.
    let told = store
        .remove_group_member(owner, gid, owner)
        .await
        .expect("leave");
    let event = assert_event(
        store,
        &told,
        GroupEventKind::MemberLeft,
        gid,
        &[owner, early, late],
    )
    .await;
    assert_eq!(event.group.owner, early.to_string());
    let members = store.group_members(late, gid).await.expect("members");
    assert_eq!(
        members
            .iter()
            .map(|m| (m.user.user_id.clone(), m.role))
            .collect::<Vec<_>>(),
        [
            (early.to_string(), Role::Owner),
            (late.to_string(), Role::Member)
        ]
    );
    // A member (not owner) leaves: the owner stays.
    store
        .remove_group_member(late, gid, late)
        .await
        .expect("leave");
    assert_eq!(
        store.group(early, gid).await.expect("g").owner,
        early.to_string()
    );
    // The last one out deletes the group, and is told.
    let told = store
        .remove_group_member(early, gid, early)
        .await
        .expect("last leaves");
    let event = assert_event(store, &told, GroupEventKind::MemberLeft, gid, &[early]).await;
    assert_eq!(event.group.member_count, 0);
    assert!(store.groups_of(early).await.expect("groups").is_empty());
    let err = store.group(early, gid).await;
    assert!(matches!(err, Err(StoreError::NotFound)), "{err:?}");
    let err = store.add_group_members(early, gid, vec![late], false).await;
    assert!(matches!(err, Err(StoreError::NotFound)), "{err:?}");
    let err = store.store_group_chat(group_chat(early, gid, "gone")).await;
    assert!(matches!(err, Err(StoreError::NotAllowed)), "{err:?}");
    // A deleted group's id is not handed out again.
    let (next, _) = store
        .create_group(early, "next".into(), vec![], false)
        .await
        .expect("create");
    assert!(gid_of(&next.group_id) > gid);
    for u in [owner, early, late, other] {
        assert_gapless(store, u).await;
    }
}

pub async fn a_group_holds_500_and_fans_out_one_copy_per_member_at_its_own_seq(store: &Nodes) {
    let mut users = Vec::new();
    for i in 0..510 {
        users.push(user(store, &format!("u{i}")).await);
    }
    let owner = users[0];
    let over = store
        .create_group(owner, "big".into(), users[1..501].to_vec(), false)
        .await;
    assert!(matches!(over, Err(StoreError::TooManyMembers)), "{over:?}");
    let (group, events) = store
        .create_group(owner, "big".into(), users[1..500].to_vec(), false)
        .await
        .expect("500 fit");
    assert_eq!(group.member_count, 500);
    assert_eq!(events.len(), 500, "one created event per member");
    let gid = gid_of(&group.group_id);
    let full = store
        .add_group_members(owner, gid, vec![users[500]], false)
        .await;
    assert!(matches!(full, Err(StoreError::TooManyMembers)), "{full:?}");
    // users[1] got a message earlier, so its seq differs from the others'.
    store
        .store_chat(chat(users[2], users[1], "x"))
        .await
        .expect("chat");
    let out = store
        .store_group_chat(NewGroupChat {
            from: owner,
            group_id: gid,
            fp: "g-1".into(),
            typeu: 1,
            content: "hello all".into(),
        })
        .await
        .expect("fan-out");
    assert_eq!(out.copies.len(), 500);
    let own = out.copies.iter().find(|c| c.0 == owner).map(|c| c.1);
    assert_eq!(
        Some(out.outcome.seq()),
        own,
        "the outcome is the sender's copy"
    );
    assert!(matches!(out.outcome, ChatOutcome::Stored { .. }));
    for (user, seq) in &out.copies {
        assert_eq!(store.last_seq(*user).await.expect("seq"), *seq);
        let rows = store.mailbox_after(*user, seq - 1, 1).await.expect("rows");
        assert_eq!(rows[0].fp, "g-1");
        assert_eq!(rows[0].content, "hello all", "the shared body is read back");
        assert_eq!(rows[0].to, group.group_id);
        assert_eq!((rows[0].from, rows[0].sm), (owner, out.outcome.sm()));
    }
    let seq_of = |u: i64| out.copies.iter().find(|c| c.0 == u).map(|c| c.1);
    assert_eq!(seq_of(users[1]), Some(3), "created event, chat, then this");
    assert_eq!(seq_of(users[3]), Some(2));
    // A resend is not stored again; a non-member is refused.
    let again = store
        .store_group_chat(NewGroupChat {
            from: owner,
            group_id: gid,
            fp: "g-1".into(),
            typeu: 1,
            content: "hello all".into(),
        })
        .await
        .expect("dup");
    assert!(again.copies.is_empty());
    assert_eq!(
        again.outcome,
        ChatOutcome::Duplicate {
            seq: out.outcome.seq(),
            sm: out.outcome.sm()
        }
    );
    let stranger = store
        .store_group_chat(NewGroupChat {
            from: users[500],
            group_id: gid,
            fp: "s".into(),
            typeu: 1,
            content: "x".into(),
        })
        .await;
    assert!(
        matches!(stranger, Err(StoreError::NotAllowed)),
        "{stranger:?}"
    );
    // The refusal did not burn the fp: once a member, the same fp is stored.
    let err = store
        .store_group_chat(group_chat(users[1], 99999, "nowhere"))
        .await;
    assert!(matches!(err, Err(StoreError::NotAllowed)), "{err:?}");
    let stored = store
        .store_group_chat(group_chat(users[1], gid, "nowhere"))
        .await
        .expect("member");
    assert_eq!(stored.copies.len(), 500);

    // Ten invitations at once (on two nodes) into a group of 495: exactly five fit.
    let (nearly, _) = store
        .create_group(owner, "nearly".into(), users[1..495].to_vec(), false)
        .await
        .expect("495");
    let nearly = gid_of(&nearly.group_id);
    let tasks: Vec<_> = users[500..510]
        .iter()
        .enumerate()
        .map(|(i, &invitee)| {
            let node: Store = if i % 2 == 0 {
                (**store).clone()
            } else {
                store.other_node().clone()
            };
            tokio::spawn(async move {
                node.add_group_members(owner, nearly, vec![invitee], false)
                    .await
            })
        })
        .collect();
    let mut added = 0;
    for t in tasks {
        match t.await.expect("join") {
            Ok((_, told)) => {
                added += 1;
                assert!(!told.is_empty());
            }
            Err(StoreError::TooManyMembers) => {}
            Err(e) => panic!("unexpected error: {e:?}"),
        }
    }
    assert_eq!(added, 5);
    let group = store.group(owner, nearly).await.expect("group");
    assert_eq!(group.member_count, 500);
}

pub async fn concurrent_duplicates_of_a_group_message_store_it_once(store: &Nodes) {
    let mut users = Vec::new();
    for i in 0..4 {
        users.push(user(store, &format!("u{i}")).await);
    }
    let (g, _) = store
        .create_group(users[0], "dups".into(), users[1..].to_vec(), false)
        .await
        .expect("create");
    let gid = gid_of(&g.group_id);
    let before = store.last_seq(users[2]).await.expect("seq");
    // Each of 10 messages sent 4 times at once, alternating nodes (a resend racing the
    // original on another node).
    let mut tasks = Vec::new();
    for n in 0..10 {
        for copy in 0..4 {
            let node: Store = if copy % 2 == 0 {
                (**store).clone()
            } else {
                store.other_node().clone()
            };
            let from = users[1];
            tasks.push(tokio::spawn(async move {
                let out = node
                    .store_group_chat(group_chat(from, gid, &format!("d{n}")))
                    .await
                    .expect("group chat");
                (n, out)
            }));
        }
    }
    let mut stored = std::collections::HashMap::new();
    let mut duplicates = Vec::new();
    for t in tasks {
        let (n, out) = t.await.expect("join");
        match out.outcome {
            ChatOutcome::Stored { .. } => {
                let members: Vec<i64> = out.copies.iter().map(|c| c.0).collect();
                assert_eq!(members, users);
                for &(u, seq) in &out.copies {
                    let rows = store.mailbox_after(u, seq - 1, 1).await.expect("rows");
                    assert_eq!(rows[0].fp, format!("d{n}"), "copy of d{n} to {u}");
                }
                assert!(stored.insert(n, out.outcome).is_none(), "d{n} stored twice");
            }
            ChatOutcome::Duplicate { .. } => {
                assert!(out.copies.is_empty());
                duplicates.push((n, out.outcome));
            }
        }
    }
    assert_eq!((stored.len(), duplicates.len()), (10, 30));
    // A duplicate answers with the original's seq and accept time.
    for (n, dup) in duplicates {
        let original = stored[&n];
        assert_eq!(
            dup,
            ChatOutcome::Duplicate {
                seq: original.seq(),
                sm: original.sm()
            }
        );
    }
    // Each member got each message once.
    for &u in &users {
        assert_gapless(store, u).await;
    }
    assert_eq!(store.last_seq(users[2]).await.expect("seq"), before + 10);
}

pub async fn concurrent_fan_outs_to_overlapping_members_neither_deadlock_nor_leave_gaps(
    store: &Nodes,
) {
    let mut users = Vec::new();
    for i in 0..12 {
        users.push(user(store, &format!("u{i}")).await);
    }
    // Three overlapping groups; every user is in at least one.
    let layouts: [Vec<i64>; 3] = [
        users[0..8].to_vec(),
        users[4..12].to_vec(),
        users.iter().copied().step_by(2).collect(),
    ];
    let mut groups = Vec::new();
    for (i, members) in layouts.iter().enumerate() {
        let (g, _) = store
            .create_group(members[0], format!("g{i}"), members[1..].to_vec(), false)
            .await
            .expect("create");
        groups.push((gid_of(&g.group_id), members.clone()));
    }
    let before: Vec<i64> = {
        let mut seqs = Vec::new();
        for &u in &users {
            seqs.push(store.last_seq(u).await.expect("seq"));
        }
        seqs
    };
    // Every member of every group sends 5 messages, through alternating nodes, while 1:1
    // chats cross between members of the same groups (1:1 locks its two users in id order
    // too) and the groups get renamed.
    let mut tasks = Vec::new();
    for (g, (gid, members)) in groups.iter().enumerate() {
        for (m, &from) in members.iter().enumerate() {
            let node: Store = if (g + m) % 2 == 0 {
                (**store).clone()
            } else {
                store.other_node().clone()
            };
            let gid = *gid;
            tasks.push(tokio::spawn(async move {
                for n in 0..5 {
                    let out = node
                        .store_group_chat(group_chat(from, gid, &format!("g{gid}-{n}")))
                        .await
                        .expect("group chat");
                    assert!(matches!(out.outcome, ChatOutcome::Stored { .. }));
                }
            }));
        }
    }
    let pairs = [
        (users[4], users[6]),
        (users[1], users[7]),
        (users[3], users[9]),
    ];
    for (a, b) in pairs {
        for (from, to) in [(a, b), (b, a)] {
            let node = store.other_node().clone();
            tasks.push(tokio::spawn(async move {
                for n in 0..10 {
                    node.store_chat(chat(from, to, &format!("c{n}")))
                        .await
                        .expect("chat");
                }
            }));
        }
    }
    for (i, (gid, members)) in groups.iter().enumerate() {
        let (node, gid, by) = ((**store).clone(), *gid, members[members.len() - 1]);
        tasks.push(tokio::spawn(async move {
            for n in 0..3 {
                node.rename_group(by, gid, format!("g{i} v{n}"))
                    .await
                    .expect("rename");
            }
        }));
    }
    for t in tasks {
        t.await.expect("join");
    }
    // Each user: every message of each of its groups (members × 5, 3 renames) exactly once,
    // plus the 1:1 chats, at seqs without gaps.
    for (i, &u) in users.iter().enumerate() {
        let mut expected = 0;
        for (gid, members) in &groups {
            if members.contains(&u) {
                expected += members.len() as i64 * 5 + 3;
                let rows = store.mailbox_after(u, 0, 100_000).await.expect("rows");
                let from_group = rows
                    .iter()
                    .filter(|r| parse_group_id(&r.to) == Some(*gid) && r.from != 0);
                assert_eq!(from_group.count(), members.len() * 5, "group {gid} for {u}");
            }
        }
        if pairs.iter().any(|&(a, b)| u == a || u == b) {
            expected += 20;
        }
        let last = assert_gapless(store, u).await;
        assert_eq!(last - before[i], expected, "user {u}");
    }
}
