//! Message ids as index keys, compactly: a canonical UUID (36 lowercase-hex characters, the
//! SDK's ids) becomes its 16 bytes, anything else its UTF-8 bytes. A marker byte keeps the two
//! apart. Byte order of UUID keys equals the text order of the ids.
//!
//! Deletes go by a 64-bit hash of the id instead (8-byte terms cost about half of 17-byte
//! ones in the term dictionary). Two ids of one account sharing a hash (odds about 1 in 10^7
//! for a million messages) would delete each other from the cache, nothing worse.

/// The delete key of an id: FNV-1a, then a SplitMix64 finaliser so every bit mixes. Written
/// here (not std's hasher) because it is stored and must never change.
pub(crate) fn hash(id: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

const UUID: u8 = 1;
const RAW: u8 = 0;

pub(crate) fn encode(id: &str) -> Vec<u8> {
    match uuid_bytes(id) {
        Some(bytes) => {
            let mut key = Vec::with_capacity(17);
            key.push(UUID);
            key.extend_from_slice(&bytes);
            key
        }
        None => {
            let mut key = Vec::with_capacity(id.len() + 1);
            key.push(RAW);
            key.extend_from_slice(id.as_bytes());
            key
        }
    }
}

pub(crate) fn decode(key: &[u8]) -> String {
    match key.split_first() {
        Some((&UUID, bytes)) if bytes.len() == 16 => {
            let mut out = String::with_capacity(36);
            for (i, b) in bytes.iter().enumerate() {
                if matches!(i, 4 | 6 | 8 | 10) {
                    out.push('-');
                }
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xF)]));
            }
            out
        }
        Some((_, bytes)) => String::from_utf8_lossy(bytes).into_owned(),
        None => String::new(),
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// The 16 bytes of `8-4-4-4-12` lowercase hex (only that form, so decoding gives it back).
fn uuid_bytes(id: &str) -> Option<[u8; 16]> {
    let s = id.as_bytes();
    if s.len() != 36 || [8, 13, 18, 23].iter().any(|&i| s[i] != b'-') {
        return None;
    }
    let mut digits = s
        .iter()
        .enumerate()
        .filter(|(i, _)| ![8, 13, 18, 23].contains(i))
        .map(|(_, &c)| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        });
    let mut out = [0u8; 16];
    for byte in &mut out {
        *byte = (digits.next()?? << 4) | digits.next()??;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_pack_to_17_bytes_and_round_trip() {
        let id = "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
        let key = encode(id);
        assert_eq!(key.len(), 17);
        assert_eq!(decode(&key), id);
    }

    #[test]
    fn other_ids_round_trip_raw() {
        for id in [
            "m1",
            "",
            "0193A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B", // uppercase: not canonical, kept raw
            "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5",  // too short
            "0193a1b2xc3d4-7e5f-8a9b-0c1d2e3f4a5b",
            "消息-id",
        ] {
            let key = encode(id);
            assert_eq!(key[0], RAW, "{id}");
            assert_eq!(decode(&key), id);
        }
    }

    const PINNED_EMPTY: u64 = 0xf52a_15e9_a9b5_e89b;
    const PINNED_UUID: u64 = 0x1bec_802f_928e_3041;

    #[test]
    fn hash_is_fixed_forever() {
        // Stored in every index: a change here needs a SCHEMA_VERSION bump.
        assert_eq!(hash(""), PINNED_EMPTY);
        assert_eq!(hash("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"), PINNED_UUID);
        assert_eq!(hash("m1"), hash("m1"));
        assert_ne!(hash("m1"), hash("m2"));
        assert_ne!(hash("ab"), hash("ba"));
    }

    #[test]
    fn uuid_key_order_is_text_order() {
        let a = "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
        let b = "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c";
        let c = "f193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
        assert!(encode(a) < encode(b) && encode(b) < encode(c));
    }
}
