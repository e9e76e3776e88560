//! Groups and their members. Every change writes a group event (typeu 61) into the
//! members' mailboxes (and a removed or leaving member's) in the same transaction.

use hongyan_protocol::{
    api::{
        group_wire_id, Group, GroupEvent, GroupEventKind, Member, Role, User, MAX_GROUP_MEMBERS,
    },
    kinds, now_ms,
};
use rusqlite::{params, Connection, OptionalExtension};

use super::{
    fanout::{event_fp, fan_out_event, push_event},
    friends::are_friends,
    Delivery, SqliteStore, StoreError,
};

fn group_view(conn: &Connection, gid: i64) -> Result<Option<Group>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT g.name, g.owner_id, g.created_at,
                    (SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id)
             FROM chat_groups g WHERE g.id = ?1",
        )?
        .query_row([gid], |r| {
            Ok(Group {
                group_id: group_wire_id(gid),
                name: r.get(0)?,
                owner: r.get::<_, i64>(1)?.to_string(),
                created_at: r.get(2)?,
                member_count: r.get(3)?,
            })
        })
        .optional()?)
}

fn is_member(conn: &Connection, gid: i64, user: i64) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM group_members WHERE group_id = ?1 AND user_id = ?2")?
        .exists(params![gid, user])?)
}

/// The group as `me` sees it; [`StoreError::NotFound`] unless `me` is a member.
fn group_for(conn: &Connection, me: i64, gid: i64) -> Result<Group, StoreError> {
    if !is_member(conn, gid, me)? {
        return Err(StoreError::NotFound);
    }
    group_view(conn, gid)?.ok_or(StoreError::NotFound)
}

fn member_count(conn: &Connection, gid: i64) -> Result<usize, StoreError> {
    Ok(conn
        .prepare_cached("SELECT COUNT(*) FROM group_members WHERE group_id = ?1")?
        .query_row([gid], |r| r.get::<_, i64>(0))? as usize)
}

/// Adds the users in `ids` who are not members yet; returns the ones added. Checks that
/// they exist, the size limit and (with `friends_only`) that `by` is friends with each.
fn add(
    conn: &Connection,
    gid: i64,
    by: i64,
    ids: &[i64],
    friends_only: bool,
) -> Result<Vec<i64>, StoreError> {
    let mut fresh = Vec::new();
    for &id in ids {
        if !fresh.contains(&id) && !is_member(conn, gid, id)? {
            fresh.push(id);
        }
    }
    // The size limit first: an oversized request is refused without per-user lookups.
    if member_count(conn, gid)? + fresh.len() > MAX_GROUP_MEMBERS {
        return Err(StoreError::TooManyMembers);
    }
    for &id in &fresh {
        let exists = conn
            .prepare_cached("SELECT 1 FROM users WHERE id = ?1")?
            .exists([id])?;
        if !exists {
            return Err(StoreError::NoSuchUser);
        }
        if friends_only && id != by && !are_friends(conn, by, id)? {
            return Err(StoreError::NotFriends(id));
        }
    }
    let now = now_ms();
    let mut insert = conn.prepare_cached(
        "INSERT INTO group_members (group_id, user_id, joined_at) VALUES (?1, ?2, ?3)",
    )?;
    for &id in &fresh {
        insert.execute(params![gid, id, now])?;
    }
    Ok(fresh)
}

pub(super) fn event_content(
    event: GroupEventKind,
    group: &Group,
    by: i64,
    members: &[i64],
) -> String {
    let payload = GroupEvent {
        event,
        group: group.clone(),
        by: by.to_string(),
        members: members.iter().map(i64::to_string).collect(),
    };
    serde_json::to_string(&payload).unwrap_or_default()
}

/// Writes a group event into every current member's mailbox, plus `also` (a member who
/// just left or was removed).
fn announce(
    conn: &Connection,
    gid: i64,
    content: &str,
    also: Option<i64>,
) -> Result<Vec<Delivery>, StoreError> {
    let fp = event_fp();
    let sm = now_ms();
    let mut out = fan_out_event(conn, gid, &fp, kinds::GROUP_EVENT, content, sm)?;
    if let Some(user) = also {
        out.push(push_event(
            conn,
            user,
            &group_wire_id(gid),
            &fp,
            kinds::GROUP_EVENT,
            content,
            sm,
        )?);
    }
    Ok(out)
}

fn create(
    conn: &Connection,
    owner: i64,
    name: &str,
    members: &[i64],
    friends_only: bool,
) -> Result<(Group, Vec<Delivery>), StoreError> {
    let now = now_ms();
    let gid: i64 = conn
        .prepare_cached(
            "INSERT INTO chat_groups (name, owner_id, created_at) VALUES (?1, ?2, ?3) RETURNING id",
        )?
        .query_row(params![name, owner, now], |r| r.get(0))?;
    let mut all = vec![owner];
    all.extend(members.iter().copied().filter(|m| *m != owner));
    let added = add(conn, gid, owner, &all, friends_only)?;
    let group = group_view(conn, gid)?.ok_or(StoreError::NotFound)?;
    let content = event_content(GroupEventKind::Created, &group, owner, &added);
    let deliveries = announce(conn, gid, &content, None)?;
    Ok((group, deliveries))
}

fn remove(conn: &Connection, me: i64, gid: i64, target: i64) -> Result<Vec<Delivery>, StoreError> {
    let group = group_for(conn, me, gid)?;
    let owner = group.owner == me.to_string();
    if target != me && !owner {
        return Err(StoreError::Forbidden(
            "only the owner may remove other members",
        ));
    }
    if !is_member(conn, gid, target)? {
        return Err(StoreError::NotFound);
    }
    conn.prepare_cached("DELETE FROM group_members WHERE group_id = ?1 AND user_id = ?2")?
        .execute(params![gid, target])?;
    let left = member_count(conn, gid)?;
    if target.to_string() == group.owner && left > 0 {
        // The owner left: the longest-standing member takes over.
        conn.prepare_cached(
            "UPDATE chat_groups SET owner_id = (SELECT user_id FROM group_members
               WHERE group_id = ?1 ORDER BY joined_at, user_id LIMIT 1)
             WHERE id = ?1",
        )?
        .execute([gid])?;
    }
    let after = match group_view(conn, gid)? {
        Some(g) => g,
        None => return Err(StoreError::NotFound),
    };
    let event = if target == me {
        GroupEventKind::MemberLeft
    } else {
        GroupEventKind::MemberRemoved
    };
    let content = event_content(event, &after, me, &[target]);
    let deliveries = announce(conn, gid, &content, Some(target))?;
    if left == 0 {
        // The last one out deletes the group.
        conn.prepare_cached("DELETE FROM chat_groups WHERE id = ?1")?
            .execute([gid])?;
    }
    Ok(deliveries)
}

impl SqliteStore {
    /// Creates a group owned by `owner` with `members` (≤ 500 in all, owner included).
    pub async fn create_group(
        &self,
        owner: i64,
        name: String,
        members: Vec<i64>,
        friends_only: bool,
    ) -> Result<(Group, Vec<Delivery>), StoreError> {
        self.write(move |conn| create(conn, owner, &name, &members, friends_only))
            .await
    }

    /// The groups `me` belongs to, newest first.
    pub async fn groups_of(&self, me: i64) -> Result<Vec<Group>, StoreError> {
        self.read(move |conn| {
            let ids = conn
                .prepare_cached(
                    "SELECT group_id FROM group_members WHERE user_id = ?1 ORDER BY group_id DESC",
                )?
                .query_map([me], |r| r.get(0))?
                .collect::<Result<Vec<i64>, _>>()?;
            let mut out = Vec::with_capacity(ids.len());
            for gid in ids {
                if let Some(g) = group_view(conn, gid)? {
                    out.push(g);
                }
            }
            Ok(out)
        })
        .await
    }

    /// Group `gid` if `me` is a member.
    pub async fn group(&self, me: i64, gid: i64) -> Result<Group, StoreError> {
        self.read(move |conn| group_for(conn, me, gid)).await
    }

    /// Whether `user` is a member of `gid`.
    pub async fn is_group_member(&self, gid: i64, user: i64) -> Result<bool, StoreError> {
        self.read(move |conn| is_member(conn, gid, user)).await
    }

    /// Renames `gid` (any member).
    pub async fn rename_group(
        &self,
        me: i64,
        gid: i64,
        name: String,
    ) -> Result<(Group, Vec<Delivery>), StoreError> {
        self.write(move |conn| {
            group_for(conn, me, gid)?;
            conn.prepare_cached("UPDATE chat_groups SET name = ?2 WHERE id = ?1")?
                .execute(params![gid, name])?;
            let group = group_view(conn, gid)?.ok_or(StoreError::NotFound)?;
            let content = event_content(GroupEventKind::Renamed, &group, me, &[]);
            let deliveries = announce(conn, gid, &content, None)?;
            Ok((group, deliveries))
        })
        .await
    }

    /// The members of `gid` (visible to members only), longest-standing first.
    pub async fn group_members(&self, me: i64, gid: i64) -> Result<Vec<Member>, StoreError> {
        self.read(move |conn| {
            let group = group_for(conn, me, gid)?;
            let rows = conn
                .prepare_cached(
                    "SELECT u.id, u.username, u.nickname, m.joined_at FROM group_members m
                     JOIN users u ON u.id = m.user_id
                     WHERE m.group_id = ?1 ORDER BY m.joined_at, u.id",
                )?
                .query_map([gid], |r| {
                    let id: i64 = r.get(0)?;
                    Ok(Member {
                        user: User {
                            user_id: id.to_string(),
                            username: r.get(1)?,
                            nickname: r.get(2)?,
                        },
                        role: if id.to_string() == group.owner {
                            Role::Owner
                        } else {
                            Role::Member
                        },
                        joined_at: r.get(3)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
    }

    /// `me` (a member) invites `ids`; those already in are skipped.
    pub async fn add_group_members(
        &self,
        me: i64,
        gid: i64,
        ids: Vec<i64>,
        friends_only: bool,
    ) -> Result<(Group, Vec<Delivery>), StoreError> {
        self.write(move |conn| {
            group_for(conn, me, gid)?;
            let added = add(conn, gid, me, &ids, friends_only)?;
            let group = group_view(conn, gid)?.ok_or(StoreError::NotFound)?;
            if added.is_empty() {
                return Ok((group, Vec::new()));
            }
            let content = event_content(GroupEventKind::MembersAdded, &group, me, &added);
            let deliveries = announce(conn, gid, &content, None)?;
            Ok((group, deliveries))
        })
        .await
    }

    /// `me` removes `target` (owner) or leaves (`target == me`). An owner who leaves hands
    /// the group to the longest-standing member; the last one out deletes it.
    pub async fn remove_group_member(
        &self,
        me: i64,
        gid: i64,
        target: i64,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.write(move |conn| remove(conn, me, gid, target)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::fanout::NewGroupChat;

    #[tokio::test]
    async fn a_group_holds_500_and_fans_out_one_copy_per_member_at_its_own_seq() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(dir.path()).expect("open");
        let mut users = Vec::new();
        for i in 0..501 {
            users.push(
                store
                    .create_user(format!("u{i}"), "n".into(), "h".into())
                    .await
                    .expect("user"),
            );
        }
        let owner = users[0];
        let over = store
            .create_group(owner, "big".into(), users[1..].to_vec(), false)
            .await;
        assert!(matches!(over, Err(StoreError::TooManyMembers)), "{over:?}");
        let (group, events) = store
            .create_group(owner, "big".into(), users[1..500].to_vec(), false)
            .await
            .expect("500 fit");
        assert_eq!(group.member_count, 500);
        assert_eq!(events.len(), 500, "one created event per member");
        let gid = parse(&group.group_id);
        let full = store
            .add_group_members(owner, gid, vec![users[500]], false)
            .await;
        assert!(matches!(full, Err(StoreError::TooManyMembers)), "{full:?}");
        // users[1] got a message earlier, so its seq differs from the others'.
        store
            .store_chat(crate::store::NewChat {
                from: users[2],
                to: users[1],
                fp: "x".into(),
                typeu: 1,
                content: "hi".into(),
                friends_only: false,
            })
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
        for (user, seq) in &out.copies {
            assert_eq!(store.last_seq(*user).await.expect("seq"), *seq);
            let rows = store.mailbox_after(*user, seq - 1, 1).await.expect("rows");
            assert_eq!(rows[0].fp, "g-1");
            assert_eq!(rows[0].content, "hello all", "the shared body is read back");
            assert_eq!(rows[0].to, group.group_id);
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
    }

    fn parse(wire: &str) -> i64 {
        hongyan_protocol::api::parse_group_id(wire).expect("group id")
    }
}
