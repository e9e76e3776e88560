//! Hongyan full-text search: the project's CJK-aware analyzer and a tantivy index of messages.
//! The contract is docs/SEARCH.md. The index is a cache; the caller's store is the truth.

mod collector;
mod error;
mod idkey;
mod index;
mod query;
mod schema;
mod snippet;
mod tokenizer;
mod types;

pub use error::SearchError;
pub use index::{SearchIndex, VERSION_FILE};
pub use schema::SCHEMA_VERSION;
pub use snippet::{snippet, SNIPPET_CHARS};
pub use tokenizer::{analyze, analyzer, is_cjk, tokenize, HongyanTokenizer, TOKENIZER_NAME};
pub use types::{Doc, Hit, Opened, Order, Query, RebuildReason, Results, SnippetPart, Token};
