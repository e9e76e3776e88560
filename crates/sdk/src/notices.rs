//! Notices (broadcasts): read diffusion. The server keeps one copy per notice and says
//! "pull" with typeu 80; the SDK pages `GET /api/v1/broadcasts?after=<cursor>` after every
//! login and on every notify, keeping the cursor in the store. Each visible notice becomes a
//! message `notice-<id>` (typeu 80, content `{"id","title","body"}`, `sent_at` = published
//! at) in the conversation [`NOTICES_CONVERSATION`], unread like any message; a recalled one
//! (typeu 81, or `recalled: true` in a page) is deleted locally.

use crate::engine::Session;
use crate::error::Result;
use crate::events::Event;
use crate::model::{notice_message_id, Message, NOTICES_CONVERSATION};

/// `sync_state` key of the notices cursor.
const CURSOR_KEY: &str = "notices_cursor";

/// Most pages one pull follows (a page that does not move the cursor ends it anyway).
const MAX_PAGES: usize = 50;

/// Pulls what changed since the stored cursor. Returns the number of new notices.
pub(crate) async fn pull(session: &Session) -> Result<usize> {
    let _one_at_a_time = session.notices_lock.lock().await;
    let mut added = 0;
    for _ in 0..MAX_PAGES {
        let after: i64 = session
            .store
            .call(|s| {
                Ok(s.state(CURSOR_KEY)?
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0))
            })
            .await?;
        let page = session.http.notices(&session.token, after).await?;
        let me = session.user_id.clone();
        let cursor = page.cursor;
        let (fresh, removed, conversation) = session
            .store
            .call(move |s| {
                let mut fresh = Vec::new();
                let mut removed = Vec::new();
                let mut keep = Vec::new();
                for n in &page.notices {
                    if n.recalled {
                        if let Some((m, _)) = s.delete_message(&notice_message_id(n.id))? {
                            removed.push(m);
                        }
                    } else {
                        keep.push(Message::from_notice(n, &me));
                    }
                }
                fresh.extend(s.insert_messages(&keep)?);
                if cursor > after {
                    s.set_state(CURSOR_KEY, &cursor.to_string())?;
                }
                Ok((fresh, removed, s.conversation(NOTICES_CONVERSATION)?))
            })
            .await?;
        added += fresh.len();
        let changed = !fresh.is_empty() || !removed.is_empty();
        for m in removed {
            session.emit(Event::MessageRemoved {
                id: m.id,
                conversation_id: m.conversation_id,
            });
        }
        for m in fresh {
            session.emit(Event::MessageReceived(m));
        }
        if let Some(c) = conversation.filter(|_| changed) {
            session.emit(Event::ConversationUpdated(c));
        }
        if cursor <= after {
            break;
        }
    }
    Ok(added)
}

/// A notice was recalled (typeu 81): delete its message, if stored.
pub(crate) async fn remove(session: &Session, notice_id: i64) {
    let id = notice_message_id(notice_id);
    match session.store.call(move |s| s.delete_message(&id)).await {
        Ok(Some((m, conversation))) => {
            session.emit(Event::MessageRemoved {
                id: m.id,
                conversation_id: m.conversation_id,
            });
            if let Some(c) = conversation {
                session.emit(Event::ConversationUpdated(c));
            }
        }
        Ok(None) => {}
        Err(e) => tracing::error!(error = %e, "could not remove a recalled notice"),
    }
}
