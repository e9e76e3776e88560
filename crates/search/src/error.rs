//! The one error type of the crate.

use thiserror::Error;

/// Everything that can go wrong in the index. User query text never produces an error: bad
/// syntax is read as plain text.
#[derive(Debug, Error)]
pub enum SearchError {
    #[error("search index i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("search index directory: {0}")]
    Directory(#[from] tantivy::directory::error::OpenDirectoryError),
    #[error("search index writer is poisoned (a writer thread panicked)")]
    Poisoned,
}
