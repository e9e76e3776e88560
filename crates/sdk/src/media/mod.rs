//! Images and stickers (docs/MEDIA.md): compression before upload, content-addressed upload
//! with instant send by hash, the local media cache and sticker packs.
