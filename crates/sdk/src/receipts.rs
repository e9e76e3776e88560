//! Delivered / read receipts (typeu 90) written by this client for messages it received.
//!
//! The recipient's SDK sends each sender one `delivered` receipt after storing their 1:1
//! messages (live or by sync) and `read` receipts when the conversation is marked read. A
//! receipt is an ordinary QoS envelope kept in the persisted outbox (so it survives restarts
//! and is resent like chat) but never a visible message; a receipt the server refuses
//! (e.g. `1101` after unfriending) is dropped silently.

use hongyan_protocol::api::{Receipt, ReceiptKind, MAX_RECEIPT_IDS};
use hongyan_protocol::{kinds, Envelope};

/// Receipt envelopes from `me` for `(sender, message id)` pairs: one packet per sender and
/// per [`MAX_RECEIPT_IDS`] ids, senders in first-seen order, ids in the given order.
pub fn envelopes(me: &str, kind: ReceiptKind, items: &[(String, String)]) -> Vec<Envelope> {
    let mut by_sender: Vec<(&str, Vec<String>)> = Vec::new();
    for (sender, id) in items {
        match by_sender.iter_mut().find(|(s, _)| s == sender) {
            Some((_, ids)) => ids.push(id.clone()),
            None => by_sender.push((sender, vec![id.clone()])),
        }
    }
    let mut out = Vec::new();
    for (sender, ids) in by_sender {
        for chunk in ids.chunks(MAX_RECEIPT_IDS) {
            let receipt = Receipt {
                kind,
                ids: chunk.to_vec(),
                by: me.to_owned(),
            };
            // Serializing a plain struct cannot fail.
            let body = serde_json::to_string(&receipt).unwrap_or_default();
            let fp = uuid::Uuid::now_v7().to_string();
            out.push(Envelope::chat(me, sender, fp, kinds::RECEIPT, body));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(sender: &str, n: usize) -> Vec<(String, String)> {
        (0..n)
            .map(|i| (sender.to_owned(), format!("{sender}-{i}")))
            .collect()
    }

    #[test]
    fn one_packet_per_sender_and_at_most_100_ids_each() {
        let mut all = items("7", 250);
        all.extend(items("8", 3));
        all.push(("7".into(), "7-late".into()));
        let envs = envelopes("5", ReceiptKind::Delivered, &all);
        let parsed: Vec<(String, Receipt)> = envs
            .iter()
            .map(|e| {
                assert!(e.qos && e.fp.is_some() && e.typeu == kinds::RECEIPT);
                assert_eq!(e.from, "5");
                let r: Receipt =
                    serde_json::from_str(e.data_content.as_deref().expect("body")).expect("json");
                (e.to.clone(), r)
            })
            .collect();
        let shape: Vec<(&str, usize)> = parsed
            .iter()
            .map(|(to, r)| (to.as_str(), r.ids.len()))
            .collect();
        assert_eq!(shape, [("7", 100), ("7", 100), ("7", 51), ("8", 3)]);
        assert!(parsed.iter().all(|(_, r)| r.by == "5"));
        assert_eq!(parsed[2].1.ids.last().map(String::as_str), Some("7-late"));
        assert_eq!(parsed[0].1.ids[0], "7-0");
        let fps: std::collections::HashSet<_> = envs.iter().map(|e| e.fp.clone()).collect();
        assert_eq!(fps.len(), envs.len(), "every packet has its own fp");
    }

    #[test]
    fn nothing_to_acknowledge_sends_nothing() {
        assert!(envelopes("5", ReceiptKind::Read, &[]).is_empty());
    }
}
