//! The plain data types of the API; all serialisable so the SDK and the app pass them on.

use serde::{Deserialize, Serialize};

/// One message as the index sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct Doc {
    pub id: String,
    pub conversation_id: String,
    pub sender: String,
    /// Milliseconds since the epoch.
    pub sent_at: i64,
    pub text: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    /// `sent_at` descending, ties by id descending.
    #[default]
    Newest,
    /// BM25 score descending, ties by `sent_at` then id descending.
    Relevance,
}

/// A search request. `text` is what the user typed; it is never parsed as query syntax beyond
/// `"quoted phrases"`, so no input is an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", default)]
pub struct Query {
    pub text: String,
    pub conversation_id: Option<String>,
    pub sender: Option<String>,
    /// Inclusive lower bound on `sent_at`.
    pub from_ms: Option<i64>,
    /// Inclusive upper bound on `sent_at`.
    pub to_ms: Option<i64>,
    pub order: Order,
    pub offset: usize,
    pub limit: usize,
}

impl Default for Query {
    fn default() -> Self {
        Query {
            text: String::new(),
            conversation_id: None,
            sender: None,
            from_ms: None,
            to_ms: None,
            order: Order::Newest,
            offset: 0,
            limit: 20,
        }
    }
}

impl Query {
    /// A query for `text` with the defaults (newest first, first 20).
    pub fn text(text: impl Into<String>) -> Self {
        Query {
            text: text.into(),
            ..Query::default()
        }
    }
}

/// A piece of a snippet; render as plain text, emphasise the `hit` parts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct SnippetPart {
    pub text: String,
    pub hit: bool,
}

/// One matching message. The index does not store message text (see docs/SEARCH.md), so the
/// snippet is made by the caller with [`crate::snippet`] from the text it holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct Hit {
    pub id: String,
    pub conversation_id: String,
    pub sender: String,
    pub sent_at: i64,
    /// BM25 score with [`Order::Relevance`]; 0 with [`Order::Newest`] (not computed).
    pub score: f32,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct Results {
    /// All matches, not only this page.
    pub total: usize,
    pub hits: Vec<Hit>,
}

/// How [`crate::SearchIndex::open`] found the directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Opened {
    Ready,
    /// The index is empty and usable; the caller should feed it every message again.
    Rebuild(RebuildReason),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RebuildReason {
    Missing,
    Corrupt(String),
    /// The schema version found (0 when the version file is missing or unreadable).
    OldVersion(u32),
}

/// A token of [`crate::tokenize`]: analysed text, position, byte offsets in the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct Token {
    pub text: String,
    pub position: usize,
    pub start: usize,
    pub end: usize,
}
