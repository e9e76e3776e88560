//! Writing into mailboxes beyond 1:1 chat: server events (typeu 60/61) and group messages.
//!
//! A group message goes into every member's mailbox with each member's own seq, in a
//! constant number of statements whatever the member count: the body is stored once in
//! `bodies`, one `UPDATE … RETURNING` bumps every member's `last_seq`, one `INSERT … SELECT`
//! writes every member's row (referencing the body) at the new seq.

use hongyan_protocol::{now_ms, Envelope};
use rusqlite::{params, Connection, OptionalExtension};

use super::{sqlite::next_seq, ChatOutcome, Delivery, StoreError};
pub use super::{GroupChatOutcome, NewGroupChat};
use crate::store::SqliteStore;

/// The fp of a server-made event: `s-<uuid>`.
pub fn event_fp() -> String {
    format!("s-{}", uuid::Uuid::now_v7())
}

/// The envelope a mailbox row with these values is delivered as.
fn envelope(
    from: i64,
    to: &str,
    fp: &str,
    typeu: i32,
    content: &str,
    seq: i64,
    sm: i64,
) -> Envelope {
    let mut env = Envelope::chat(from.to_string(), to, fp, typeu, content);
    env.sm = sm;
    env.seq = Some(seq);
    env
}

/// Appends one server event (`from` = 0) to `user_id`'s mailbox.
pub fn push_event(
    conn: &Connection,
    user_id: i64,
    to: &str,
    fp: &str,
    typeu: i32,
    content: &str,
    sm: i64,
) -> Result<Delivery, StoreError> {
    let seq = next_seq(conn, user_id)?;
    conn.prepare_cached(
        "INSERT INTO mailbox (user_id, seq, fp, from_id, to_id, typeu, content, sm)
         VALUES (?1, ?2, ?3, 0, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![user_id, seq, fp, to, typeu, content, sm])?;
    Ok((user_id, envelope(0, to, fp, typeu, content, seq, sm)))
}

/// One mailbox row for every member of `group_id`, each at that member's next seq, all
/// referencing one stored body. Returns (member, seq) for every row. Three statements,
/// whatever the member count.
pub fn fan_out(
    conn: &Connection,
    group_id: i64,
    from: i64,
    fp: &str,
    typeu: i32,
    content: &str,
    sm: i64,
) -> Result<Vec<(i64, i64)>, StoreError> {
    let body_id: i64 = conn
        .prepare_cached("INSERT INTO bodies (content) VALUES (?1) RETURNING id")?
        .query_row([content], |r| r.get(0))?;
    let seqs = conn
        .prepare_cached(
            "UPDATE users SET last_seq = last_seq + 1
             WHERE id IN (SELECT user_id FROM group_members WHERE group_id = ?1)
             RETURNING id, last_seq",
        )?
        .query_map([group_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<Vec<(i64, i64)>, _>>()?;
    conn.prepare_cached(
        "INSERT INTO mailbox (user_id, seq, fp, from_id, to_id, typeu, content, sm, body_id)
         SELECT u.id, u.last_seq, ?2, ?3, ?4, ?5, '', ?6, ?7
         FROM group_members m JOIN users u ON u.id = m.user_id
         WHERE m.group_id = ?1",
    )?
    .execute(params![
        group_id,
        fp,
        from,
        hongyan_protocol::api::group_wire_id(group_id),
        typeu,
        sm,
        body_id
    ])?;
    Ok(seqs)
}

/// [`fan_out`] of a server event, as deliveries.
pub fn fan_out_event(
    conn: &Connection,
    group_id: i64,
    fp: &str,
    typeu: i32,
    content: &str,
    sm: i64,
) -> Result<Vec<Delivery>, StoreError> {
    let to = hongyan_protocol::api::group_wire_id(group_id);
    Ok(fan_out(conn, group_id, 0, fp, typeu, content, sm)?
        .into_iter()
        .map(|(user, seq)| (user, envelope(0, &to, fp, typeu, content, seq, sm)))
        .collect())
}

/// Stores a group message: dedupe by `(from, fp)`, membership check, fan-out on write.
pub fn store_group_chat_sync(
    conn: &Connection,
    msg: &NewGroupChat,
) -> Result<GroupChatOutcome, StoreError> {
    let seen = conn
        .prepare_cached("SELECT seq, sm FROM sent WHERE from_id = ?1 AND fp = ?2")?
        .query_row(params![msg.from, msg.fp], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    if let Some((seq, sm)) = seen {
        return Ok(GroupChatOutcome {
            outcome: ChatOutcome::Duplicate { seq, sm },
            copies: Vec::new(),
        });
    }
    let member = conn
        .prepare_cached("SELECT 1 FROM group_members WHERE group_id = ?1 AND user_id = ?2")?
        .exists(params![msg.group_id, msg.from])?;
    if !member {
        return Err(StoreError::NotAllowed);
    }
    let sm = now_ms();
    let copies = fan_out(
        conn,
        msg.group_id,
        msg.from,
        &msg.fp,
        msg.typeu,
        &msg.content,
        sm,
    )?;
    let own = copies
        .iter()
        .find(|(user, _)| *user == msg.from)
        .map_or(0, |(_, seq)| *seq);
    conn.prepare_cached("INSERT INTO sent (from_id, fp, seq, sm) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![msg.from, msg.fp, own, sm])?;
    Ok(GroupChatOutcome {
        outcome: ChatOutcome::Stored { seq: own, sm },
        copies,
    })
}

impl SqliteStore {
    /// Stores a group message in every member's mailbox (see [`store_group_chat_sync`]).
    pub async fn store_group_chat(
        &self,
        msg: NewGroupChat,
    ) -> Result<GroupChatOutcome, StoreError> {
        self.write(move |conn| store_group_chat_sync(conn, &msg))
            .await
    }
}
