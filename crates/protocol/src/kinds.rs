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
/// Friend event (request / accepted / declined / removed) from the server; stored.
pub const FRIEND_EVENT: i32 = 60;
/// Group event (created / renamed / members added / removed / left) from the server; stored.
pub const GROUP_EVENT: i32 = 61;
/// Broadcast ("public mailbox") notify: pull it over HTTP.
pub const BROADCAST_NOTIFY: i32 = 80;
/// Broadcast recall.
pub const BROADCAST_RECALL: i32 = 81;
/// Delivered / read receipt.
pub const RECEIPT: i32 = 90;
/// A friend came online or went offline (server → user, not stored).
pub const PRESENCE: i32 = 91;
/// The peer is typing (relayed between friends, not stored).
pub const TYPING: i32 = 92;

/// The core_level that introduced friends, groups, notices, receipts, presence and typing.
pub const SOCIAL_CORE_LEVEL: u32 = 261_124;
/// The core_level that introduced stickers.
pub const STICKER_CORE_LEVEL: u32 = 261_201;

/// The oldest `core_level` that understands `typeu`; older clients get [`text_fallback`].
pub fn min_core_level(typeu: i32) -> u32 {
    match typeu {
        UNSET | TEXT => 0,
        STICKER => STICKER_CORE_LEVEL,
        _ => SOCIAL_CORE_LEVEL,
    }
}

/// Whether a message of `typeu` is a signal the server never stores (typing, presence,
/// notice notify/recall).
pub fn is_transient(typeu: i32) -> bool {
    matches!(
        typeu,
        PRESENCE | TYPING | BROADCAST_NOTIFY | BROADCAST_RECALL
    )
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
        FRIEND_EVENT => "[Contacts changed] Update Hongyan to see it",
        GROUP_EVENT => "[Group changed] Update Hongyan to see it",
        BROADCAST_NOTIFY | BROADCAST_RECALL => "[Notice] Update Hongyan to see it",
        RECEIPT | PRESENCE | TYPING => "",
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

    #[test]
    fn issue_five_kinds_need_the_social_core() {
        for k in [
            FRIEND_EVENT,
            GROUP_EVENT,
            RECEIPT,
            PRESENCE,
            TYPING,
            BROADCAST_NOTIFY,
        ] {
            assert_eq!(min_core_level(k), SOCIAL_CORE_LEVEL, "{k}");
        }
        assert!(text_fallback(FRIEND_EVENT).contains("Update"));
        assert!(text_fallback(GROUP_EVENT).contains("Update"));
        assert!(is_transient(TYPING) && is_transient(PRESENCE) && !is_transient(RECEIPT));
    }
}
