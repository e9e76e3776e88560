//! Full-text search over this account's whole history (issue 6, docs/SEARCH.md).
//!
//! One tantivy index per account in `<account dir>/search/` beside the SQLite store, opened
//! at login/resume and closed at logout/shutdown. SQLite stays the truth; the index is a
//! cache of it:
//! - a dedicated indexer thread ([`indexer`]) follows the `messages` table: new rows by
//!   `rowid` above its read mark, deletes and in-place rewrites through the journal the
//!   store's triggers write (`store/search.rs`). A SQLite update hook wakes it, so every
//!   path that stores a message (own sends, live pushes, sync pages, groups, notices) is
//!   covered without the write paths knowing about search;
//! - writes are committed at most every [`indexer::COMMIT_EVERY`] or every
//!   [`indexer::COMMIT_DOCS`] documents, then the "indexed up to" watermark is persisted in
//!   the store, so a crash between store and index heals on the next open;
//! - a missing, corrupt or older-version index is rebuilt from the store in the background
//!   with [`crate::Event::IndexProgress`]; searches answer from what is indexed so far.
//!
//! What is indexed: text messages (their text) and notices (title and body). Images,
//! stickers, recalls, group system lines and the text fallbacks an older core stored for
//! kinds it could not show are not: they carry no words of their sender.

mod indexer;
mod service;

use hongyan_protocol::kinds;
use hongyan_search::Doc;
use serde::{Deserialize, Serialize};

use crate::model::{Message, NoticeContent};

pub use hongyan_search::{Order, Query, RebuildReason, SnippetPart, SCHEMA_VERSION};
pub(crate) use service::{SearchHandle, SearchService};

/// The index directory's name inside the account directory.
pub const DIR_NAME: &str = "search";

/// The most hits one page returns (a larger `limit` is capped).
pub const MAX_LIMIT: usize = 100;

/// One page of results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchPage {
    /// All matches in the index, not only this page.
    pub total: usize,
    pub hits: Vec<SearchHit>,
    /// The `offset` of the next page; `None` on the last one.
    pub next_offset: Option<usize>,
}

/// A matching message with its snippet (render the parts as text, emphasise `hit` ones).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    pub message: Message,
    pub snippet: Vec<SnippetPart>,
    /// BM25 score with [`Order::Relevance`], 0 with [`Order::Newest`].
    pub score: f32,
}

/// Whether the index is complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndexState {
    /// Everything stored is indexed (new messages follow within about a second).
    Ready,
    /// Catching up with the store (a rebuild, or messages stored before a crash): searches
    /// answer from what is indexed so far.
    Rebuilding,
    /// No index: not logged in, or it could not be opened (searching is an error).
    Unavailable,
}

/// [`crate::Client::index_status`]: `{ "state": "ready" | "rebuilding" | "unavailable",
/// "done", "total" }`; while rebuilding `done` of `total` messages are indexed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexStatus {
    pub state: IndexState,
    pub done: u64,
    pub total: u64,
}

impl IndexStatus {
    /// No index open.
    pub const UNAVAILABLE: Self = Self {
        state: IndexState::Unavailable,
        done: 0,
        total: 0,
    };
}

/// The text the index holds for `m`, or `None` for kinds that are not indexed.
pub fn indexed_text(m: &Message) -> Option<String> {
    let text = match m.typeu {
        kinds::UNSET | kinds::TEXT if !crate::sync::is_fallback(m) => m.content.clone(),
        kinds::BROADCAST_NOTIFY => {
            let n: NoticeContent = serde_json::from_str(&m.content).ok()?;
            format!("{}\n{}", n.title, n.body)
        }
        _ => return None,
    };
    (!text.trim().is_empty()).then_some(text)
}

/// The index document of `m`, if it is indexed.
pub(crate) fn doc_for(m: &Message) -> Option<Doc> {
    Some(Doc {
        text: indexed_text(m)?,
        id: m.id.clone(),
        conversation_id: m.conversation_id.clone(),
        sender: m.from.clone(),
        sent_at: m.sent_at,
    })
}

#[cfg(test)]
mod tests;
