//! Images and stickers (docs/MEDIA.md): compression before upload, content-addressed upload
//! with instant send by hash, the local media cache and sticker packs.

pub mod compress;
#[doc(hidden)]
pub mod sample;

pub use compress::{compress, CompressOptions, Compressed, ImageQuality, MediaError, Still};

pub mod cache;
pub mod stickers;
pub(crate) mod upload;
