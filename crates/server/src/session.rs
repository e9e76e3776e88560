//! Session registry: which live connection speaks for which user.
//!
//! MobileIMSDK semantics: one session per user, the newest login wins. A new login with the
//! same `firstLoginTime` is the same client reconnecting (the old connection is closed
//! quietly); a different one is another client, and the old session gets a KICKOUT first.
//! Removal is keyed by connection id, so a replaced connection's cleanup cannot remove the
//! session that replaced it.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicI64, AtomicU64, Ordering},
        Arc, Mutex,
    },
};

use hongyan_protocol::{codes, ClientVersion, Envelope, KickoutInfo};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::router::adapt_for_client;

/// What a connection's writer task is told to do.
#[derive(Debug)]
pub enum Outbound {
    /// Send this encoded envelope.
    Frame(String),
    /// Flush what is queued, then close the connection.
    Close,
}

/// A new, process-unique connection id.
pub fn next_conn_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The registry's view of one logged-in connection.
#[derive(Debug, Clone)]
pub struct SessionHandle {
    pub conn_id: u64,
    pub user_id: i64,
    pub first_login_time: i64,
    pub version: ClientVersion,
    /// `"ws"` or `"tcp"`.
    pub transport: &'static str,
    /// The peer's socket address.
    pub peer: String,
    /// When the session logged in (ms).
    pub since: i64,
    pub tx: mpsc::Sender<Outbound>,
    /// Cancelling it tears the connection down without flushing.
    pub cancel: CancellationToken,
    /// Which mailbox rows have been pushed (catching up after a bus outage).
    pub progress: Arc<PushProgress>,
}

/// How far pushes to one session have got. With a bus, deliveries from other nodes that
/// NATS lost while it was down are pushed again from the mailbox once it is back
/// (docs/DEPLOY.md, "Node wiring (notes)").
#[derive(Debug)]
pub struct PushProgress {
    /// Highest mailbox seq queued on the connection (at first, the seq at login).
    pushed: AtomicI64,
    /// During a bus outage: the seq after which the mailbox is pushed again once the bus is
    /// back; [`PushProgress::NONE`] otherwise.
    resume_after: AtomicI64,
}

impl PushProgress {
    const NONE: i64 = -1;

    /// Progress of a session whose client syncs up to `login_seq` itself.
    pub fn new(login_seq: i64) -> Self {
        Self {
            pushed: AtomicI64::new(login_seq),
            resume_after: AtomicI64::new(Self::NONE),
        }
    }

    /// Records that the row with `seq` was queued on the connection.
    pub fn pushed(&self, seq: i64) {
        self.pushed.fetch_max(seq, Ordering::Relaxed);
    }

    /// The highest seq queued so far.
    pub fn last_pushed(&self) -> i64 {
        self.pushed.load(Ordering::Relaxed)
    }

    /// The bus went down: what arrives from other nodes is missed from here on. An earlier
    /// mark (an outage not yet caught up) is kept.
    pub fn mark_outage(&self) {
        self.mark_outage_after(self.last_pushed());
    }

    /// Like [`PushProgress::mark_outage`], from `seq` on (a login while the bus is down).
    pub fn mark_outage_after(&self, seq: i64) {
        let _ = self.resume_after.compare_exchange(
            Self::NONE,
            seq.max(0),
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
    }

    /// The seq to catch up from, if an outage was marked (and clears the mark).
    pub fn take_resume(&self) -> Option<i64> {
        let after = self.resume_after.swap(Self::NONE, Ordering::Relaxed);
        (after != Self::NONE).then_some(after)
    }
}

impl SessionHandle {
    /// Queues `env` adapted to this session's core_level (a signal its client cannot show
    /// is not sent) and records its seq. `false` if nothing was queued.
    pub fn push(&self, env: Envelope) -> bool {
        let Some(env) = adapt_for_client(env, &self.version) else {
            return false;
        };
        let seq = env.seq;
        let sent = self.send(env.encode());
        if let (true, Some(seq)) = (sent, seq) {
            self.progress.pushed(seq);
        }
        sent
    }

    /// Queues a frame. A connection whose queue is full cannot keep up; it is cut off
    /// (everything it missed is in its mailbox and comes back with sync). `false` if the
    /// frame was not queued.
    pub fn send(&self, frame: String) -> bool {
        match self.tx.try_send(Outbound::Frame(frame)) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::warn!(
                    conn = self.conn_id,
                    user = self.user_id,
                    "outbound queue full; closing"
                );
                self.cancel.cancel();
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }

    /// Closes the connection after what is already queued.
    pub fn close(&self) {
        if self.tx.try_send(Outbound::Close).is_err() {
            self.cancel.cancel();
        }
    }

    /// Sends KICKOUT with `code`/`reason`, then closes.
    pub fn kick(&self, code: i32, reason: &str) {
        let info = KickoutInfo {
            code,
            reason: reason.to_owned(),
        };
        self.send(Envelope::kickout(self.user_id.to_string(), &info).encode());
        self.close();
    }
}

/// What registering a session displaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replaced {
    /// The user had no session.
    Nothing,
    /// The same client reconnected; the old connection was closed quietly.
    Reconnect { old_conn: u64 },
    /// Another client logged in; the old one was kicked out.
    Kicked { old_conn: u64 },
}

/// user id → live session.
#[derive(Debug, Default)]
pub struct SessionRegistry {
    map: Mutex<HashMap<i64, SessionHandle>>,
}

impl SessionRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, SessionHandle>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes `handle` the user's session, closing or kicking whatever it replaces.
    pub fn register(&self, handle: SessionHandle) -> Replaced {
        let first_login_time = handle.first_login_time;
        let conn_id = handle.conn_id;
        let old = self.lock().insert(handle.user_id, handle);
        match old {
            None => Replaced::Nothing,
            Some(old) if old.conn_id == conn_id => Replaced::Nothing,
            Some(old) if old.first_login_time == first_login_time => {
                old.close();
                Replaced::Reconnect {
                    old_conn: old.conn_id,
                }
            }
            Some(old) => {
                old.kick(codes::KICKOUT_DUPLICATE_LOGIN, "logged in elsewhere");
                Replaced::Kicked {
                    old_conn: old.conn_id,
                }
            }
        }
    }

    /// Removes the user's session if it is still connection `conn_id`.
    pub fn remove(&self, user_id: i64, conn_id: u64) -> bool {
        let mut map = self.lock();
        if map.get(&user_id).is_some_and(|h| h.conn_id == conn_id) {
            map.remove(&user_id);
            true
        } else {
            false
        }
    }

    /// The user's live session.
    pub fn get(&self, user_id: i64) -> Option<SessionHandle> {
        self.lock().get(&user_id).cloned()
    }

    /// Whether the user has a live session.
    pub fn is_online(&self, user_id: i64) -> bool {
        self.lock().contains_key(&user_id)
    }

    /// Every live session, in no particular order.
    pub fn snapshot(&self) -> Vec<SessionHandle> {
        self.lock().values().cloned().collect()
    }

    /// Number of live sessions on `transport` (`ws` or `tcp`), counted under the lock
    /// without cloning handles (a metrics scrape must stay cheap with many connections).
    pub fn count_on(&self, transport: &str) -> usize {
        self.lock()
            .values()
            .filter(|h| h.transport == transport)
            .count()
    }

    /// Number of online users.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handle(conn_id: u64, user_id: i64, flt: i64) -> (SessionHandle, mpsc::Receiver<Outbound>) {
        let (tx, rx) = mpsc::channel(8);
        (
            SessionHandle {
                conn_id,
                user_id,
                first_login_time: flt,
                version: ClientVersion::unknown(),
                transport: "ws",
                peer: "127.0.0.1:1".into(),
                since: 0,
                tx,
                cancel: CancellationToken::new(),
                progress: Arc::new(PushProgress::new(0)),
            },
            rx,
        )
    }

    #[test]
    fn push_adapts_and_records_the_highest_seq() {
        let (a, mut rx) = handle(1, 7, 0);
        let mut chat = Envelope::chat("3", "7", "f", hongyan_protocol::kinds::TEXT, "hi");
        chat.seq = Some(5);
        assert!(a.push(chat.clone()));
        chat.seq = Some(4);
        assert!(a.push(chat));
        assert_eq!(a.progress.last_pushed(), 5);
        // An unknown-version client gets no receipt at all, and nothing is recorded.
        let mut receipt = Envelope::chat("3", "7", "r", hongyan_protocol::kinds::RECEIPT, "{}");
        receipt.seq = Some(9);
        assert!(!a.push(receipt));
        assert_eq!(a.progress.last_pushed(), 5);
        assert!(matches!(rx.try_recv(), Ok(Outbound::Frame(_))));
        assert!(matches!(rx.try_recv(), Ok(Outbound::Frame(_))));
        assert!(rx.try_recv().is_err());
    }

    #[test]
    fn an_outage_keeps_its_first_mark_until_taken() {
        let p = PushProgress::new(3);
        assert_eq!(p.take_resume(), None);
        p.pushed(6);
        p.mark_outage();
        p.pushed(9);
        p.mark_outage();
        assert_eq!(p.take_resume(), Some(6), "the outage started after 6");
        assert_eq!(p.take_resume(), None);
        p.mark_outage_after(2);
        assert_eq!(p.take_resume(), Some(2));
    }

    #[test]
    fn reconnect_closes_old_quietly() {
        let reg = SessionRegistry::new();
        let (a, mut a_rx) = handle(1, 7, 100);
        let (b, _b_rx) = handle(2, 7, 100);
        assert_eq!(reg.register(a), Replaced::Nothing);
        assert_eq!(reg.register(b), Replaced::Reconnect { old_conn: 1 });
        assert!(matches!(a_rx.try_recv(), Ok(Outbound::Close)));
        assert!(a_rx.try_recv().is_err());
        assert_eq!(reg.get(7).map(|h| h.conn_id), Some(2));
    }

    #[test]
    fn other_client_kicks_old() {
        let reg = SessionRegistry::new();
        let (a, mut a_rx) = handle(1, 7, 100);
        let (b, _b_rx) = handle(2, 7, 200);
        reg.register(a);
        assert_eq!(reg.register(b), Replaced::Kicked { old_conn: 1 });
        match a_rx.try_recv() {
            Ok(Outbound::Frame(text)) => {
                let env = Envelope::decode(text.as_bytes()).expect("envelope");
                let info: KickoutInfo = env.payload().expect("kickout");
                assert_eq!(info.code, 1);
                assert_eq!(info.reason, "logged in elsewhere");
            }
            other => panic!("expected kickout, got {other:?}"),
        }
        assert!(matches!(a_rx.try_recv(), Ok(Outbound::Close)));
    }

    #[test]
    fn old_cleanup_does_not_remove_new_session() {
        let reg = SessionRegistry::new();
        let (a, _a_rx) = handle(1, 7, 100);
        let (b, _b_rx) = handle(2, 7, 200);
        reg.register(a);
        reg.register(b);
        assert!(!reg.remove(7, 1));
        assert_eq!(reg.len(), 1);
        assert!(reg.remove(7, 2));
        assert!(reg.is_empty());
    }

    #[test]
    fn counts_sessions_per_transport() {
        let reg = SessionRegistry::new();
        let (a, _a_rx) = handle(1, 7, 100);
        let (mut b, _b_rx) = handle(2, 8, 100);
        b.transport = "tcp";
        let (c, _c_rx) = handle(3, 9, 100);
        reg.register(a);
        reg.register(b);
        reg.register(c);
        assert_eq!((reg.count_on("ws"), reg.count_on("tcp")), (2, 1));
        assert!(reg.remove(8, 2));
        assert_eq!((reg.count_on("ws"), reg.count_on("tcp")), (2, 0));
    }

    #[test]
    fn full_queue_cuts_the_slow_connection() {
        let (a, _rx) = handle(1, 7, 0);
        for _ in 0..8 {
            assert!(a.send("x".into()));
        }
        assert!(!a.cancel.is_cancelled());
        assert!(!a.send("x".into()));
        assert!(a.cancel.is_cancelled());
    }
}
