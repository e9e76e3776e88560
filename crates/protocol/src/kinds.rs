//! Application message kinds (`typeu`) and the oldest `core_level` that understands each.

/// `typeu` not set by the sender; treated as text.
pub const UNSET: i32 = -1;
/// Plain text; `dataContent` is the text itself.
pub const TEXT: i32 = 1;
/// An image reference (JSON).
pub const IMAGE: i32 = 2;
/// A sticker reference (JSON).
pub const STICKER: i32 = 3;
/// Recall of the sender's own message.
pub const RECALL: i32 = 30;
/// Broadcast ("public mailbox") notify: pull it over HTTP.
pub const BROADCAST_NOTIFY: i32 = 80;
/// Broadcast recall.
pub const BROADCAST_RECALL: i32 = 81;
/// Delivered / read receipt.
pub const RECEIPT: i32 = 90;

/// The oldest `core_level` that understands `typeu`; older clients get [`text_fallback`].
pub fn min_core_level(typeu: i32) -> u32 {
    match typeu {
        UNSET | TEXT => 0,
        STICKER => 261_201,
        _ => 261_124,
    }
}

/// Whether `typeu` is plain text.
pub fn is_text(typeu: i32) -> bool {
    matches!(typeu, UNSET | TEXT)
}

/// The readable text a too-old client receives instead of a kind it cannot show.
pub fn text_fallback(typeu: i32) -> &'static str {
    match typeu {
        IMAGE => "[Image] Update Hongyan to see it",
        STICKER => "[Sticker] Update Hongyan to see it",
        RECALL => "[A message was recalled]",
        BROADCAST_NOTIFY | BROADCAST_RECALL => "[Notice] Update Hongyan to see it",
        RECEIPT => "",
        _ => "[Unsupported message] Update Hongyan to see it",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_understood_by_every_level() {
        assert_eq!(min_core_level(TEXT), 0);
        assert_eq!(min_core_level(UNSET), 0);
        assert!(is_text(UNSET) && is_text(TEXT) && !is_text(IMAGE));
    }

    #[test]
    fn stickers_need_a_newer_core_than_images() {
        assert!(min_core_level(STICKER) > min_core_level(IMAGE));
        assert!(text_fallback(STICKER).starts_with("[Sticker]"));
        assert!(text_fallback(1234).contains("Update"));
    }
}
