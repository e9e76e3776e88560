//! Groups and their members, with the SQLite backend's semantics (`store::groups`): every
//! change writes a group event (typeu 61) into the members' mailboxes (and a removed or
//! leaving member's) in the same transaction. A change locks the group's row exclusively
//! first, then the members' `users` rows in id order ([`super::fanout`]).

use std::collections::HashSet;

use deadpool_postgres::{GenericClient, Transaction};
use hongyan_protocol::{
    api::{group_wire_id, Group, GroupEventKind, Member, Role, User, MAX_GROUP_MEMBERS},
    kinds, now_ms,
};
use tokio_postgres::Row;

use super::{
    fanout::{fan_out_event, lock_group, lock_users, member_ids, push_event},
    PostgresStore,
};
use crate::store::{fanout::event_fp, groups::event_content, Delivery, StoreError};

const GROUP_SELECT: &str = "SELECT g.id, g.name, g.owner_id, g.created_at,
        (SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id)
     FROM chat_groups g";

fn group_of(r: &Row) -> Group {
    Group {
        group_id: group_wire_id(r.get(0)),
        name: r.get(1),
        owner: r.get::<_, i64>(2).to_string(),
        created_at: r.get(3),
        member_count: u32::try_from(r.get::<_, i64>(4)).unwrap_or(u32::MAX),
    }
}

async fn group_view(client: &impl GenericClient, gid: i64) -> Result<Option<Group>, StoreError> {
    Ok(client
        .query_opt(&format!("{GROUP_SELECT} WHERE g.id = $1"), &[&gid])
        .await?
        .map(|r| group_of(&r)))
}

async fn is_member(client: &impl GenericClient, gid: i64, user: i64) -> Result<bool, StoreError> {
    Ok(client
        .query_opt(
            "SELECT 1 FROM group_members WHERE group_id = $1 AND user_id = $2",
            &[&gid, &user],
        )
        .await?
        .is_some())
}

/// The group as `me` sees it; [`StoreError::NotFound`] unless `me` is a member.
async fn group_for(client: &impl GenericClient, me: i64, gid: i64) -> Result<Group, StoreError> {
    if !is_member(client, gid, me).await? {
        return Err(StoreError::NotFound);
    }
    group_view(client, gid).await?.ok_or(StoreError::NotFound)
}

/// Locks `gid` for a change by member `me`: its owner, or [`StoreError::NotFound`] when
/// there is no such group or `me` is not in it.
async fn lock_for_change(tx: &Transaction<'_>, me: i64, gid: i64) -> Result<i64, StoreError> {
    let owner = lock_group(tx, gid).await?.ok_or(StoreError::NotFound)?;
    if !is_member(tx, gid, me).await? {
        return Err(StoreError::NotFound);
    }
    Ok(owner)
}

/// Of `ids`, those to add to `gid` (`None`: a group being created), in order, without
/// repeats or current members. Checks the size limit first (an oversized request is refused
/// without per-user lookups), then that each exists and (with `friends_only`) is `by`'s
/// friend; the first failing id decides the error, as in the SQLite backend.
async fn to_add(
    tx: &Transaction<'_>,
    gid: Option<i64>,
    by: i64,
    ids: &[i64],
    friends_only: bool,
) -> Result<Vec<i64>, StoreError> {
    let current = match gid {
        Some(gid) => member_ids(tx, gid).await?,
        None => Vec::new(),
    };
    let mut fresh = Vec::new();
    for &id in ids {
        if !fresh.contains(&id) && current.binary_search(&id).is_err() {
            fresh.push(id);
        }
    }
    if current.len() + fresh.len() > MAX_GROUP_MEMBERS {
        return Err(StoreError::TooManyMembers);
    }
    let ids_in = |rows: Vec<Row>| -> HashSet<i64> { rows.iter().map(|r| r.get(0)).collect() };
    let existing = ids_in(
        tx.query("SELECT id FROM users WHERE id = ANY($1)", &[&fresh])
            .await?,
    );
    let friends = if friends_only {
        ids_in(
            tx.query(
                "SELECT friend_id FROM friends WHERE user_id = $1 AND friend_id = ANY($2)",
                &[&by, &fresh],
            )
            .await?,
        )
    } else {
        HashSet::new()
    };
    for &id in &fresh {
        if !existing.contains(&id) {
            return Err(StoreError::NoSuchUser);
        }
        if friends_only && id != by && !friends.contains(&id) {
            return Err(StoreError::NotFriends(id));
        }
    }
    Ok(fresh)
}

async fn insert_members(tx: &Transaction<'_>, gid: i64, ids: &[i64]) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO group_members (group_id, user_id, joined_at)
         SELECT $1, u, $3 FROM unnest($2::BIGINT[]) AS u",
        &[&gid, &ids, &now_ms()],
    )
    .await?;
    Ok(())
}

/// Writes a group event into the mailboxes of `members` (locked, by id), plus `also` (a
/// member who just left or was removed, locked too).
async fn announce(
    tx: &Transaction<'_>,
    gid: i64,
    members: &[i64],
    content: &str,
    also: Option<i64>,
) -> Result<Vec<Delivery>, StoreError> {
    let fp = event_fp();
    let sm = now_ms();
    let mut out = fan_out_event(tx, gid, members, &fp, kinds::GROUP_EVENT, content, sm).await?;
    if let Some(user) = also {
        let to = group_wire_id(gid);
        out.push(push_event(tx, user, &to, &fp, kinds::GROUP_EVENT, content, sm).await?);
    }
    Ok(out)
}

/// Locks the members' rows and announces `event` to them.
async fn announce_to_members(
    tx: &Transaction<'_>,
    gid: i64,
    content: &str,
) -> Result<Vec<Delivery>, StoreError> {
    let members = lock_users(tx, &member_ids(tx, gid).await?).await?;
    announce(tx, gid, &members, content, None).await
}

async fn create(
    tx: &Transaction<'_>,
    owner: i64,
    name: &str,
    members: &[i64],
    friends_only: bool,
) -> Result<(Group, Vec<Delivery>), StoreError> {
    let mut all = vec![owner];
    all.extend(members.iter().copied().filter(|m| *m != owner));
    // Checked before the insert, so a refused group uses up no id.
    let added = to_add(tx, None, owner, &all, friends_only).await?;
    let gid: i64 = tx
        .query_one(
            "INSERT INTO chat_groups (name, owner_id, created_at) VALUES ($1, $2, $3) RETURNING id",
            &[&name, &owner, &now_ms()],
        )
        .await?
        .get(0);
    insert_members(tx, gid, &added).await?;
    let group = group_view(tx, gid).await?.ok_or(StoreError::NotFound)?;
    let content = event_content(GroupEventKind::Created, &group, owner, &added);
    let deliveries = announce_to_members(tx, gid, &content).await?;
    Ok((group, deliveries))
}

async fn remove(
    tx: &Transaction<'_>,
    me: i64,
    gid: i64,
    target: i64,
) -> Result<Vec<Delivery>, StoreError> {
    let owner = lock_for_change(tx, me, gid).await?;
    if target != me && owner != me {
        return Err(StoreError::Forbidden(
            "only the owner may remove other members",
        ));
    }
    let before = member_ids(tx, gid).await?;
    if before.binary_search(&target).is_err() {
        return Err(StoreError::NotFound);
    }
    // Everyone told, the one leaving included, locked in one step.
    lock_users(tx, &before).await?;
    tx.execute(
        "DELETE FROM group_members WHERE group_id = $1 AND user_id = $2",
        &[&gid, &target],
    )
    .await?;
    let left: Vec<i64> = before.into_iter().filter(|&m| m != target).collect();
    if target == owner && !left.is_empty() {
        // The owner left: the longest-standing member takes over.
        tx.execute(
            "UPDATE chat_groups SET owner_id = (SELECT user_id FROM group_members
               WHERE group_id = $1 ORDER BY joined_at, user_id LIMIT 1)
             WHERE id = $1",
            &[&gid],
        )
        .await?;
    }
    let after = group_view(tx, gid).await?.ok_or(StoreError::NotFound)?;
    let event = if target == me {
        GroupEventKind::MemberLeft
    } else {
        GroupEventKind::MemberRemoved
    };
    let content = event_content(event, &after, me, &[target]);
    let deliveries = announce(tx, gid, &left, &content, Some(target)).await?;
    if left.is_empty() {
        // The last one out deletes the group.
        tx.execute("DELETE FROM chat_groups WHERE id = $1", &[&gid])
            .await?;
    }
    Ok(deliveries)
}

impl PostgresStore {
    /// Creates a group owned by `owner` with `members` (≤ 500 in all, owner included).
    pub async fn create_group(
        &self,
        owner: i64,
        name: String,
        members: Vec<i64>,
        friends_only: bool,
    ) -> Result<(Group, Vec<Delivery>), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let created = create(&tx, owner, &name, &members, friends_only).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// The groups `me` belongs to, newest first.
    pub async fn groups_of(&self, me: i64) -> Result<Vec<Group>, StoreError> {
        let client = self.client().await?;
        let rows = client
            .query(
                &format!(
                    "{GROUP_SELECT} JOIN group_members my ON my.group_id = g.id
                     WHERE my.user_id = $1 ORDER BY g.id DESC"
                ),
                &[&me],
            )
            .await?;
        Ok(rows.iter().map(group_of).collect())
    }

    /// Group `gid` if `me` is a member.
    pub async fn group(&self, me: i64, gid: i64) -> Result<Group, StoreError> {
        let client = self.client().await?;
        group_for(&client, me, gid).await
    }

    /// Whether `user` is a member of `gid`.
    pub async fn is_group_member(&self, gid: i64, user: i64) -> Result<bool, StoreError> {
        let client = self.client().await?;
        is_member(&client, gid, user).await
    }

    /// Renames `gid` (any member).
    pub async fn rename_group(
        &self,
        me: i64,
        gid: i64,
        name: String,
    ) -> Result<(Group, Vec<Delivery>), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        lock_for_change(&tx, me, gid).await?;
        tx.execute(
            "UPDATE chat_groups SET name = $2 WHERE id = $1",
            &[&gid, &name],
        )
        .await?;
        let group = group_view(&tx, gid).await?.ok_or(StoreError::NotFound)?;
        let content = event_content(GroupEventKind::Renamed, &group, me, &[]);
        let deliveries = announce_to_members(&tx, gid, &content).await?;
        tx.commit().await?;
        Ok((group, deliveries))
    }

    /// The members of `gid` (visible to members only), longest-standing first.
    pub async fn group_members(&self, me: i64, gid: i64) -> Result<Vec<Member>, StoreError> {
        let client = self.client().await?;
        let group = group_for(&client, me, gid).await?;
        let rows = client
            .query(
                "SELECT u.id, u.username, u.nickname, m.joined_at FROM group_members m
                 JOIN users u ON u.id = m.user_id
                 WHERE m.group_id = $1 ORDER BY m.joined_at, u.id",
                &[&gid],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| {
                let id: i64 = r.get(0);
                Member {
                    user: User {
                        user_id: id.to_string(),
                        username: r.get(1),
                        nickname: r.get(2),
                    },
                    role: if id.to_string() == group.owner {
                        Role::Owner
                    } else {
                        Role::Member
                    },
                    joined_at: r.get(3),
                }
            })
            .collect())
    }

    /// `me` (a member) invites `ids`; those already in are skipped.
    pub async fn add_group_members(
        &self,
        me: i64,
        gid: i64,
        ids: Vec<i64>,
        friends_only: bool,
    ) -> Result<(Group, Vec<Delivery>), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        lock_for_change(&tx, me, gid).await?;
        let added = to_add(&tx, Some(gid), me, &ids, friends_only).await?;
        if added.is_empty() {
            let group = group_view(&tx, gid).await?.ok_or(StoreError::NotFound)?;
            return Ok((group, Vec::new()));
        }
        insert_members(&tx, gid, &added).await?;
        let group = group_view(&tx, gid).await?.ok_or(StoreError::NotFound)?;
        let content = event_content(GroupEventKind::MembersAdded, &group, me, &added);
        let deliveries = announce_to_members(&tx, gid, &content).await?;
        tx.commit().await?;
        Ok((group, deliveries))
    }

    /// `me` removes `target` (owner) or leaves (`target == me`). An owner who leaves hands
    /// the group to the longest-standing member; the last one out deletes it.
    pub async fn remove_group_member(
        &self,
        me: i64,
        gid: i64,
        target: i64,
    ) -> Result<Vec<Delivery>, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let deliveries = remove(&tx, me, gid, target).await?;
        tx.commit().await?;
        Ok(deliveries)
    }
}
