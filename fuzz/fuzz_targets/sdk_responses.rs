//! The SDK's side: every server answer it parses, decoded as `Http` does (`resp.json()` is
//! `serde_json::from_slice`), and what it does with them next. Sync pages and pushed
//! envelopes go all the way through `sync::ingest` into a fresh in-memory store (receipts,
//! friend and group events, notices, fallbacks), and every message is previewed and its
//! image/sticker content read, as the app does. The first byte picks the answer type.
//! Nothing may panic; memory stays bounded.
#![no_main]

use hongyan_protocol::api::{FriendList, GroupList, MemberList, NoticeRef, NoticesPage, Presence};
use hongyan_protocol::{Envelope, KickoutInfo};
use hongyan_sdk::http::{map_error, LoginAnswer, Me, SyncPage};
use hongyan_sdk::model::{FriendRequest, FriendRequests, Group, StickerPack};
use hongyan_sdk::{Message, RegisteredUser, Store, User};
use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// The account the fuzzed answers are for: the first byte's top bit picks one of two (the
/// seeds hold both sides of a conversation, so own messages and others' are both covered).
const ACCOUNTS: [&str; 2] = ["10003", "10002"];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let me = ACCOUNTS[usize::from(pick >> 7)];
    match pick % 16 {
        0 => {
            if let Some(page) = json::<SyncPage>(body) {
                ingest(me, &page.envelopes());
            }
        }
        1 => {
            // A pushed envelope (WebSocket text / TCP frame body) and the signals it may be.
            if let Ok(env) = Envelope::decode(body) {
                let text = env.data_content.as_deref().unwrap_or_default();
                let _ = serde_json::from_str::<Presence>(text);
                let _ = serde_json::from_str::<NoticeRef>(text);
                let _ = env.payload::<KickoutInfo>();
                ingest(me, std::slice::from_ref(&env));
            }
        }
        2 => {
            let _ = json::<LoginAnswer>(body).map(|a| format!("{a:?}"));
        }
        3 => {
            let _ = json::<Me>(body);
        }
        4 => {
            let _ = json::<User>(body);
        }
        5 => {
            #[derive(Deserialize)]
            struct Answer {
                #[allow(dead_code)]
                users: Vec<User>,
            }
            let _ = json::<Answer>(body);
        }
        6 => {
            let _ = json::<RegisteredUser>(body);
        }
        7 => {
            let _ = json::<FriendList>(body);
        }
        8 => {
            let _ = json::<FriendRequests>(body);
        }
        9 => {
            let _ = json::<FriendRequest>(body);
        }
        10 => {
            let _ = json::<Group>(body);
        }
        11 => {
            let _ = json::<GroupList>(body);
        }
        12 => {
            let _ = json::<MemberList>(body);
        }
        13 => {
            if let Some(page) = json::<NoticesPage>(body) {
                for notice in &page.notices {
                    let _ = Message::from_notice(notice, me).preview();
                }
            }
        }
        14 => {
            #[derive(Deserialize)]
            struct Answer {
                #[allow(dead_code)]
                packs: Vec<StickerPack>,
            }
            let _ = json::<Answer>(body);
        }
        _ => {
            // An error answer: any status, any body.
            let Some((status, body)) = body.split_first_chunk::<2>() else {
                return;
            };
            let status = 100 + u16::from_be_bytes(*status) % 500;
            if let (Ok(status), Ok(text)) = (
                reqwest::StatusCode::from_u16(status),
                std::str::from_utf8(body),
            ) {
                let _ = map_error(status, text);
            }
        }
    }
});

fn json<T: DeserializeOwned>(body: &[u8]) -> Option<T> {
    serde_json::from_slice(body).ok()
}

/// What the SDK does with envelopes from a sync page or a push: store them (a fresh store
/// each time keeps memory flat) and show them.
fn ingest(me: &str, envs: &[Envelope]) {
    for env in envs {
        if let Some(m) = Message::from_envelope(env, me, 0) {
            let _ = m.preview();
            let _ = m.image();
            let _ = m.sticker();
        }
    }
    let store = Store::open_in_memory().expect("in-memory store");
    let _ = hongyan_sdk::sync::ingest(&store, me, envs, 0);
}
