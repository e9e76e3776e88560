//! Friend events (typeu 60) and group events (typeu 61): how they change the local caches
//! and which [`Event`]s they become. Friend events are not chat messages; group events are
//! also stored as system lines of the group conversation (by [`crate::sync::ingest`]).

use hongyan_protocol::api::{FriendEvent, FriendEventKind, GroupEvent, GroupEventKind};

use crate::error::Result;
use crate::events::Event;
use crate::model::Friend;
use crate::store::Store;

/// Applies a friend event seen by account `me` to the caches; returns the events to emit.
pub fn apply_friend_event(
    store: &Store,
    me: &str,
    ev: &FriendEvent,
    now: i64,
) -> Result<Vec<Event>> {
    store.remember_users([&ev.user])?;
    let mut out = Vec::new();
    match ev.event {
        FriendEventKind::Request => {
            if let Some(r) = &ev.request {
                let incoming = r.to.user_id == me;
                store.upsert_friend_request(r, incoming)?;
                out.push(if incoming {
                    Event::FriendRequestReceived(r.clone())
                } else {
                    // Sent from another device of this account.
                    Event::FriendRequestUpdated(r.clone())
                });
            }
        }
        FriendEventKind::Accepted => {
            store.upsert_friend(&Friend {
                user: ev.user.clone(),
                since: now,
                online: false,
            })?;
            if let Some(r) = &ev.request {
                store.remove_friend_request(r.id)?;
                out.push(Event::FriendRequestUpdated(r.clone()));
            }
            out.push(Event::FriendsChanged);
        }
        FriendEventKind::Declined => {
            if let Some(r) = &ev.request {
                store.remove_friend_request(r.id)?;
                out.push(Event::FriendRequestUpdated(r.clone()));
            }
        }
        FriendEventKind::Removed => {
            store.remove_friend(&ev.user.user_id)?;
            out.push(Event::FriendsChanged);
        }
    }
    Ok(out)
}

/// Applies a group event seen by account `me` to the groups cache; returns the event to emit:
/// [`Event::GroupLeft`] when `me` was removed or left (or the group is gone), else
/// [`Event::GroupUpdated`] with the group's state after the change.
pub fn apply_group_event(store: &Store, me: &str, ev: &GroupEvent) -> Result<Event> {
    let me_out = matches!(
        ev.event,
        GroupEventKind::MemberRemoved | GroupEventKind::MemberLeft
    ) && ev.members.iter().any(|m| m == me);
    if me_out || ev.group.member_count == 0 {
        store.remove_group(&ev.group.group_id)?;
        return Ok(Event::GroupLeft {
            group_id: ev.group.group_id.clone(),
        });
    }
    store.upsert_group(&ev.group)?;
    Ok(Event::GroupUpdated(ev.group.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FriendRequest, FriendRequestStatus, Group, User};

    fn user(id: &str) -> User {
        User {
            user_id: id.into(),
            username: format!("u{id}"),
            nickname: format!("N{id}"),
        }
    }

    fn request(id: i64, from: &str, to: &str, status: FriendRequestStatus) -> FriendRequest {
        FriendRequest {
            id,
            from: user(from),
            to: user(to),
            message: "hi".into(),
            status,
            created_at: 1,
        }
    }

    fn friend_event(kind: FriendEventKind, req: Option<FriendRequest>, other: &str) -> FriendEvent {
        FriendEvent {
            event: kind,
            request: req,
            user: user(other),
        }
    }

    #[test]
    fn friend_events_map_to_events_and_update_the_caches() {
        let s = Store::open_in_memory().expect("open");
        let incoming = request(1, "7", "5", FriendRequestStatus::Pending);
        let ev = friend_event(FriendEventKind::Request, Some(incoming.clone()), "7");
        assert_eq!(
            apply_friend_event(&s, "5", &ev, 10).expect("apply"),
            [Event::FriendRequestReceived(incoming.clone())]
        );
        assert_eq!(
            s.friend_requests().expect("r").incoming,
            std::slice::from_ref(&incoming)
        );
        assert_eq!(s.known_user("7").expect("u"), Some(user("7")));

        let accepted = FriendRequest {
            status: FriendRequestStatus::Accepted,
            ..incoming
        };
        let ev = friend_event(FriendEventKind::Accepted, Some(accepted.clone()), "7");
        assert_eq!(
            apply_friend_event(&s, "5", &ev, 20).expect("apply"),
            [Event::FriendRequestUpdated(accepted), Event::FriendsChanged]
        );
        assert!(s.friend_requests().expect("r").incoming.is_empty());
        let friends = s.friends().expect("f");
        assert_eq!((friends.len(), friends[0].since), (1, 20));

        let ev = friend_event(FriendEventKind::Removed, None, "7");
        assert_eq!(
            apply_friend_event(&s, "5", &ev, 30).expect("apply"),
            [Event::FriendsChanged]
        );
        assert!(s.friends().expect("f").is_empty());

        // My own request, sent from another device: outgoing, not "received".
        let mine = request(2, "5", "8", FriendRequestStatus::Pending);
        let ev = friend_event(FriendEventKind::Request, Some(mine.clone()), "8");
        assert_eq!(
            apply_friend_event(&s, "5", &ev, 40).expect("apply"),
            [Event::FriendRequestUpdated(mine.clone())]
        );
        assert_eq!(
            s.friend_requests().expect("r").outgoing,
            std::slice::from_ref(&mine)
        );
        let declined = FriendRequest {
            status: FriendRequestStatus::Declined,
            ..mine
        };
        let ev = friend_event(FriendEventKind::Declined, Some(declined.clone()), "8");
        assert_eq!(
            apply_friend_event(&s, "5", &ev, 50).expect("apply"),
            [Event::FriendRequestUpdated(declined)]
        );
        assert!(s.friend_requests().expect("r").outgoing.is_empty());
    }

    #[test]
    fn group_events_update_or_drop_the_group() {
        let s = Store::open_in_memory().expect("open");
        let group = Group {
            group_id: "g3".into(),
            name: "team".into(),
            owner: "7".into(),
            member_count: 3,
            created_at: 1,
        };
        let ev = |event, members: &[&str], count| GroupEvent {
            event,
            group: Group {
                member_count: count,
                ..group.clone()
            },
            by: "7".into(),
            members: members.iter().map(|m| (*m).to_owned()).collect(),
        };
        let e = apply_group_event(&s, "5", &ev(GroupEventKind::Created, &["5", "8"], 3))
            .expect("apply");
        assert_eq!(e, Event::GroupUpdated(group.clone()));
        assert_eq!(s.groups().expect("g"), std::slice::from_ref(&group));
        // Someone else removed: still a member, the count changes.
        let e = apply_group_event(&s, "5", &ev(GroupEventKind::MemberRemoved, &["8"], 2))
            .expect("apply");
        assert!(matches!(e, Event::GroupUpdated(g) if g.member_count == 2));
        // I am removed: the group is gone for me.
        let e = apply_group_event(&s, "5", &ev(GroupEventKind::MemberRemoved, &["5"], 1))
            .expect("apply");
        assert_eq!(
            e,
            Event::GroupLeft {
                group_id: "g3".into()
            }
        );
        assert!(s.groups().expect("g").is_empty());
    }
}
