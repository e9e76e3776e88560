//! Who is online on the other nodes of a deployment, kept by every node over core NATS
//! (docs/DEPLOY.md, "Presence (notes)").
//!
//! Each node publishes a [`Change`] when one of its users comes online or goes offline, and
//! every [`Timing::heartbeat`] a [`Heartbeat`] with all users online on it: a node that starts
//! late learns the state from the next heartbeats, a lost change is repaired by the next
//! heartbeat, and the users of a node that is no longer heard from (killed, cut off) expire
//! after [`Timing::expiry`]. Entries are kept per (node, user), so a user moving from node A
//! to node B stays online whatever order A's "offline" and B's "online" arrive in. A node's
//! own sessions are never taken from the bus: its session registry is the truth for them.
//!
//! The node's users whose deployment-wide state flips (seen from here) come out as [`Flip`]s,
//! for this node to tell its own sessions that are friends of them (typeu 91).

use std::{
    collections::{HashMap, HashSet},
    sync::Mutex,
    time::{Duration, Instant},
};

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::bus::{Bus, BusError};

/// A node's user came online or went offline: `{"node","user","online"}`.
pub const CHANGE_SUBJECT: &str = "hongyan.presence.change";
/// A node's full list of online users: `{"node","users":[…],"leaving"?}`.
pub const HEARTBEAT_SUBJECT: &str = "hongyan.presence.heartbeat";
/// Both presence subjects, in one subscription so they arrive in the order sent.
const PRESENCE_SUBJECTS: &str = "hongyan.presence.*";

/// User `user` came online (`online`) or went offline on `node`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub node: String,
    pub user: i64,
    pub online: bool,
}

/// Every user online on `node` now; `leaving` when the node shuts down (forget it at once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heartbeat {
    pub node: String,
    pub users: Vec<i64>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub leaving: bool,
}

/// A user who is now online (`online`) or offline on the other nodes, seen from this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flip {
    pub user: i64,
    pub online: bool,
}

/// How often a node says who is online on it, and how long a silent node is believed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    pub heartbeat: Duration,
    /// A node not heard from for this long is dropped with its users (about 3 missed beats).
    pub expiry: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            heartbeat: Duration::from_secs(2),
            expiry: Duration::from_secs(7),
        }
    }
}

/// What one other node said last, and when it was last heard from.
#[derive(Debug)]
struct NodeView {
    users: HashSet<i64>,
    heard: Instant,
}

/// The users online on the other nodes (pure state; the bus feeds it).
#[derive(Debug)]
pub struct Directory {
    own: String,
    nodes: HashMap<String, NodeView>,
}

impl Directory {
    /// An empty directory for node `own` (whose own messages are ignored).
    pub fn new(own: impl Into<String>) -> Self {
        Self {
            own: own.into(),
            nodes: HashMap::new(),
        }
    }

    /// Whether `user` is online on some other node.
    pub fn is_online(&self, user: i64) -> bool {
        self.nodes.values().any(|n| n.users.contains(&user))
    }

    /// Whether `user` is online on another node than `except`.
    fn online_beside(&self, except: &str, user: i64) -> bool {
        self.nodes
            .iter()
            .any(|(node, view)| node != except && view.users.contains(&user))
    }

    /// The other nodes heard from, sorted.
    pub fn nodes(&self) -> Vec<String> {
        let mut nodes: Vec<_> = self.nodes.keys().cloned().collect();
        nodes.sort();
        nodes
    }

    /// The other nodes `user` is online on, sorted.
    pub fn where_online(&self, user: i64) -> Vec<String> {
        let mut nodes: Vec<_> = self
            .nodes
            .iter()
            .filter(|(_, view)| view.users.contains(&user))
            .map(|(node, _)| node.clone())
            .collect();
        nodes.sort();
        nodes
    }

    fn view(&mut self, node: &str, now: Instant) -> &mut NodeView {
        let view = self
            .nodes
            .entry(node.to_owned())
            .or_insert_with(|| NodeView {
                users: HashSet::new(),
                heard: now,
            });
        view.heard = now;
        view
    }

    /// Applies a change from another node; the flip if the user's state elsewhere changed.
    pub fn change(&mut self, change: &Change, now: Instant) -> Option<Flip> {
        if change.node == self.own {
            return None;
        }
        let beside = self.online_beside(&change.node, change.user);
        let view = self.view(&change.node, now);
        let changed = if change.online {
            view.users.insert(change.user)
        } else {
            view.users.remove(&change.user)
        };
        (changed && !beside).then_some(Flip {
            user: change.user,
            online: change.online,
        })
    }

    /// Replaces another node's users with its heartbeat's (or forgets the node when it is
    /// leaving); the users whose state elsewhere changed.
    pub fn heartbeat(&mut self, beat: &Heartbeat, now: Instant) -> Vec<Flip> {
        if beat.node == self.own {
            return Vec::new();
        }
        let new: HashSet<i64> = if beat.leaving {
            HashSet::new()
        } else {
            beat.users.iter().copied().collect()
        };
        let old = if beat.leaving {
            self.nodes
                .remove(&beat.node)
                .map(|v| v.users)
                .unwrap_or_default()
        } else {
            std::mem::replace(&mut self.view(&beat.node, now).users, new.clone())
        };
        let mut flips: Vec<Flip> = old
            .symmetric_difference(&new)
            .filter(|user| !self.online_beside(&beat.node, **user))
            .map(|user| Flip {
                user: *user,
                online: new.contains(user),
            })
            .collect();
        flips.sort_by_key(|f| f.user);
        flips
    }

    /// Drops the nodes not heard from within `expiry`; the users who went offline with them.
    pub fn expire(&mut self, now: Instant, expiry: Duration) -> Vec<Flip> {
        let silent: Vec<String> = self
            .nodes
            .iter()
            .filter(|(_, v)| now.saturating_duration_since(v.heard) > expiry)
            .map(|(node, _)| node.clone())
            .collect();
        let mut gone = HashSet::new();
        for node in silent {
            tracing::info!(%node, "presence: node not heard from; its users are offline");
            if let Some(view) = self.nodes.remove(&node) {
                gone.extend(view.users);
            }
        }
        let mut flips: Vec<Flip> = gone
            .into_iter()
            .filter(|user| !self.is_online(*user))
            .map(|user| Flip {
                user,
                online: false,
            })
            .collect();
        flips.sort_by_key(|f| f.user);
        flips
    }

    /// Counts every node as heard from now (after this node's own link to NATS was down, the
    /// silence was ours: each node gets a full expiry to be heard again).
    pub fn forgive(&mut self, now: Instant) {
        for view in self.nodes.values_mut() {
            view.heard = now;
        }
    }
}

/// This node's sessions, as the presence task sees them.
pub trait LocalSessions: Send + Sync {
    /// Every user online on this node.
    fn online_here(&self) -> Vec<i64>;
    /// Whether `user` is online on this node.
    fn is_here(&self, user: i64) -> bool;
}

/// The most [`Presence::settle`] waits for the task.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(1);

/// What [`Presence::run`] takes over: the subscription and the queues from this node.
struct Feeds {
    presence: async_nats::Subscriber,
    changes: mpsc::UnboundedReceiver<i64>,
    settles: mpsc::UnboundedReceiver<oneshot::Sender<()>>,
}

/// The node's presence directory and its link to the bus.
pub struct Presence {
    node: String,
    timing: Timing,
    directory: Mutex<Directory>,
    changes: mpsc::UnboundedSender<i64>,
    settles: mpsc::UnboundedSender<oneshot::Sender<()>>,
    feeds: Mutex<Option<Feeds>>,
    /// Held while a message is composed and sent: what goes out is in the order it was read
    /// (a heartbeat read before a login must not go out after that login's "online").
    sending: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Presence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Presence")
            .field("node", &self.node)
            .field("timing", &self.timing)
            .finish_non_exhaustive()
    }
}

impl Presence {
    /// Subscribes to the presence subjects on `bus` (the caller flushes before serving, so
    /// the subscription is in place). [`Presence::run`] then keeps the directory.
    pub async fn join(bus: &Bus, timing: Timing) -> Result<Self, BusError> {
        let presence = bus.nats().subscribe(PRESENCE_SUBJECTS).await?;
        let (changes, changes_rx) = mpsc::unbounded_channel();
        let (settles, settles_rx) = mpsc::unbounded_channel();
        Ok(Self {
            node: bus.node().to_owned(),
            timing,
            directory: Mutex::new(Directory::new(bus.node())),
            changes,
            settles,
            sending: tokio::sync::Mutex::new(()),
            feeds: Mutex::new(Some(Feeds {
                presence,
                changes: changes_rx,
                settles: settles_rx,
            })),
        })
    }

    fn directory(&self) -> std::sync::MutexGuard<'_, Directory> {
        self.directory.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether `user` is online on another node.
    pub fn elsewhere(&self, user: i64) -> bool {
        self.directory().is_online(user)
    }

    /// The other nodes heard from, sorted.
    pub fn nodes(&self) -> Vec<String> {
        self.directory().nodes()
    }

    /// The other nodes `user` is online on, sorted.
    pub fn where_online(&self, user: i64) -> Vec<String> {
        self.directory().where_online(user)
    }

    /// Returns once the task has applied every presence message this node has received so
    /// far (or after [`SETTLE_TIMEOUT`]). A node deciding that its user went offline asks
    /// first: another node's "online" that arrived just before the kick that closed the
    /// session here is then counted.
    pub async fn settle(&self) {
        let (tx, rx) = oneshot::channel();
        if self.settles.send(tx).is_ok() {
            let _ = tokio::time::timeout(SETTLE_TIMEOUT, rx).await;
        }
    }

    /// Tells the other nodes at once that `user` is logging in here, before anything else
    /// about the login goes out (the kick of an older session elsewhere): NATS keeps one
    /// connection's order, so every node counts the user online here before the old node's
    /// "offline", and the old node's own decision sees it too (see [`Presence::settle`]).
    pub async fn logging_in(&self, bus: &Bus, user: i64) {
        let _turn = self.sending.lock().await;
        self.publish_change(bus, user, true).await;
    }

    /// `user` came online or went offline here: the other nodes are told (in order, by the
    /// task; what is sent is the session registry's state when the task gets to it, so
    /// changes racing each other still end in the truth).
    pub fn local_change(&self, user: i64) {
        // The task is gone only at shutdown, when the leaving heartbeat says it all.
        let _ = self.changes.send(user);
    }

    /// Keeps the directory until `shutdown`: applies what other nodes say, tells them about
    /// local changes and heartbeats, expires silent nodes, and sends every [`Flip`] to
    /// `flips`. At shutdown it says it is leaving. Runs once; later calls return at once.
    pub async fn run(
        &self,
        bus: &Bus,
        local: &dyn LocalSessions,
        flips: mpsc::UnboundedSender<Vec<Flip>>,
        shutdown: CancellationToken,
    ) {
        let taken = self.feeds.lock().unwrap_or_else(|e| e.into_inner()).take();
        let Some(Feeds {
            mut presence,
            mut changes,
            mut settles,
        }) = taken
        else {
            return;
        };
        let mut heartbeat = tokio::time::interval(self.timing.heartbeat);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut sweep =
            tokio::time::interval((self.timing.heartbeat / 4).max(Duration::from_millis(50)));
        sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut link_was_down = false;
        loop {
            let out = tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
                message = presence.next() => match message {
                    Some(message) => self.receive(&message),
                    None => break,
                },
                // Biased: answered only when no received message is waiting.
                Some(settled) = settles.recv() => {
                    let _ = settled.send(());
                    Vec::new()
                }
                Some(user) = changes.recv() => {
                    let _turn = self.sending.lock().await;
                    self.publish_change(bus, user, local.is_here(user)).await;
                    Vec::new()
                }
                _ = heartbeat.tick() => {
                    self.send_heartbeat(bus, local).await;
                    Vec::new()
                }
                _ = sweep.tick() => {
                    if !bus.is_connected() {
                        link_was_down = true;
                        continue;
                    }
                    if link_was_down {
                        link_was_down = false;
                        self.directory().forgive(Instant::now());
                        // Back on the bus: say who is here now rather than at the next beat.
                        self.send_heartbeat(bus, local).await;
                    }
                    self.directory().expire(Instant::now(), self.timing.expiry)
                }
            };
            if !out.is_empty() && flips.send(out).is_err() {
                break;
            }
        }
        self.publish_heartbeat(bus, Vec::new(), true).await;
        if let Err(e) = bus.flush().await {
            tracing::debug!(error = %e, "presence: leaving not confirmed");
        }
    }

    /// Applies one message from the bus; the flips it causes.
    fn receive(&self, message: &async_nats::Message) -> Vec<Flip> {
        let now = Instant::now();
        let subject = message.subject.as_str();
        let applied = match subject {
            CHANGE_SUBJECT => serde_json::from_slice::<Change>(&message.payload)
                .map(|c| self.directory().change(&c, now).into_iter().collect()),
            HEARTBEAT_SUBJECT => serde_json::from_slice::<Heartbeat>(&message.payload)
                .map(|h| self.directory().heartbeat(&h, now)),
            _ => Ok(Vec::new()),
        };
        applied.unwrap_or_else(|e| {
            tracing::warn!(subject, error = %e, "presence: dropping undecodable message");
            Vec::new()
        })
    }

    /// Reads this node's users and sends them, in turn with the other messages.
    async fn send_heartbeat(&self, bus: &Bus, local: &dyn LocalSessions) {
        let _turn = self.sending.lock().await;
        self.publish_heartbeat(bus, local.online_here(), false)
            .await;
    }

    async fn publish_change(&self, bus: &Bus, user: i64, online: bool) {
        let change = Change {
            node: self.node.clone(),
            user,
            online,
        };
        if let Err(e) = bus.publish_json(CHANGE_SUBJECT.to_owned(), &change).await {
            // The next heartbeat carries it.
            tracing::debug!(user, error = %e, "presence: change not sent");
        }
    }

    async fn publish_heartbeat(&self, bus: &Bus, mut users: Vec<i64>, leaving: bool) {
        users.sort_unstable();
        let beat = Heartbeat {
            node: self.node.clone(),
            users,
            leaving,
        };
        match bus.publish_json(HEARTBEAT_SUBJECT.to_owned(), &beat).await {
            Ok(()) => {}
            // Down: the next heartbeat after the link is back says it all.
            Err(BusError::Disconnected) => {}
            // Anything else (e.g. a list beyond NATS's max_payload) repeats at every beat, and
            // the other nodes will expire this one's users: say so loudly.
            Err(e) => {
                tracing::warn!(users = beat.users.len(), error = %e, "presence: heartbeat not sent")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPIRY: Duration = Duration::from_secs(7);

    fn change(node: &str, user: i64, online: bool) -> Change {
        Change {
            node: node.into(),
            user,
            online,
        }
    }

    fn beat(node: &str, users: &[i64]) -> Heartbeat {
        Heartbeat {
            node: node.into(),
            users: users.to_vec(),
            leaving: false,
        }
    }

    fn flip(user: i64, online: bool) -> Flip {
        Flip { user, online }
    }

    #[test]
    fn changes_from_other_nodes_flip_users_and_own_messages_are_ignored() {
        let mut dir = Directory::new("a");
        let t = Instant::now();
        assert_eq!(dir.change(&change("b", 7, true), t), Some(flip(7, true)));
        assert!(dir.is_online(7));
        assert_eq!(dir.change(&change("b", 7, true), t), None, "no news");
        assert_eq!(dir.change(&change("b", 7, false), t), Some(flip(7, false)));
        assert!(!dir.is_online(7));
        assert_eq!(dir.change(&change("b", 7, false), t), None);

        assert_eq!(dir.change(&change("a", 8, true), t), None);
        assert_eq!(dir.heartbeat(&beat("a", &[8, 9]), t), vec![]);
        assert!(
            !dir.is_online(8),
            "this node's sessions come from its registry"
        );
        assert_eq!(dir.nodes(), vec!["b".to_owned()]);
    }

    #[test]
    fn a_user_moving_between_nodes_stays_online_whatever_the_order() {
        let t = Instant::now();
        // A's "offline" after B's "online".
        let mut dir = Directory::new("c");
        dir.change(&change("a", 7, true), t);
        assert_eq!(dir.change(&change("b", 7, true), t), None);
        assert_eq!(dir.change(&change("a", 7, false), t), None);
        assert!(dir.is_online(7));
        // And the other way round.
        let mut dir = Directory::new("c");
        dir.change(&change("a", 7, true), t);
        assert_eq!(dir.change(&change("a", 7, false), t), Some(flip(7, false)));
        assert_eq!(dir.change(&change("b", 7, true), t), Some(flip(7, true)));
        assert!(dir.is_online(7));
        // The user leaves B too: B's heartbeat without them makes them offline.
        assert_eq!(dir.heartbeat(&beat("b", &[]), t), vec![flip(7, false)]);
    }

    #[test]
    fn a_heartbeat_replaces_the_nodes_set() {
        let mut dir = Directory::new("a");
        let t = Instant::now();
        assert_eq!(
            dir.heartbeat(&beat("b", &[1, 2, 3]), t),
            vec![flip(1, true), flip(2, true), flip(3, true)]
        );
        dir.change(&change("c", 2, true), t);
        // 1 left b (missed change), 4 came (missed change), 2 left b but is on c.
        assert_eq!(
            dir.heartbeat(&beat("b", &[3, 4]), t),
            vec![flip(1, false), flip(4, true)]
        );
        assert!(!dir.is_online(1));
        assert!(dir.is_online(2) && dir.is_online(3) && dir.is_online(4));
        assert_eq!(dir.heartbeat(&beat("b", &[3, 4]), t), vec![], "no news");
    }

    #[test]
    fn a_silent_node_expires_with_its_users_and_a_heard_one_does_not() {
        let mut dir = Directory::new("a");
        let t0 = Instant::now();
        dir.heartbeat(&beat("b", &[1, 2]), t0);
        dir.heartbeat(&beat("c", &[2, 3]), t0);
        let later = t0 + Duration::from_secs(5);
        dir.heartbeat(&beat("c", &[2, 3]), later);
        assert_eq!(dir.expire(t0 + EXPIRY, EXPIRY), vec![], "b is not late yet");
        let b_late = t0 + EXPIRY + Duration::from_millis(1);
        assert_eq!(
            dir.expire(b_late, EXPIRY),
            vec![flip(1, false)],
            "2 is still on c"
        );
        assert_eq!(dir.nodes(), vec!["c".to_owned()]);
        assert!(dir.is_online(2) && dir.is_online(3) && !dir.is_online(1));
        // Any message counts as hearing from the node.
        dir.change(&change("c", 4, true), later + EXPIRY);
        assert_eq!(
            dir.expire(later + EXPIRY + Duration::from_secs(1), EXPIRY),
            vec![]
        );
    }

    #[test]
    fn forgiving_restarts_every_nodes_clock() {
        let mut dir = Directory::new("a");
        let t0 = Instant::now();
        dir.heartbeat(&beat("b", &[1]), t0);
        let back = t0 + Duration::from_secs(30);
        dir.forgive(back);
        assert_eq!(dir.expire(back + EXPIRY, EXPIRY), vec![]);
        assert_eq!(
            dir.expire(back + EXPIRY + Duration::from_millis(1), EXPIRY),
            vec![flip(1, false)]
        );
    }

    #[test]
    fn a_leaving_node_is_forgotten_at_once_and_a_restarted_one_starts_afresh() {
        let mut dir = Directory::new("a");
        let t = Instant::now();
        dir.heartbeat(&beat("b", &[1, 2]), t);
        let leaving = Heartbeat {
            node: "b".into(),
            users: vec![],
            leaving: true,
        };
        assert_eq!(
            dir.heartbeat(&leaving, t),
            vec![flip(1, false), flip(2, false)]
        );
        assert!(dir.nodes().is_empty());
        // Restarted b: its first heartbeat is the whole truth, whatever the old one said.
        dir.heartbeat(&beat("b", &[1, 2]), t);
        assert_eq!(
            dir.heartbeat(&beat("b", &[]), t),
            vec![flip(1, false), flip(2, false)]
        );
    }

    #[test]
    fn payloads_are_plain_json() {
        let json = serde_json::to_string(&change("n1", 7, true)).unwrap();
        assert_eq!(json, r#"{"node":"n1","user":7,"online":true}"#);
        let json = serde_json::to_string(&beat("n1", &[7, 8])).unwrap();
        assert_eq!(json, r#"{"node":"n1","users":[7,8]}"#);
        let leaving: Heartbeat =
            serde_json::from_str(r#"{"node":"n1","users":[],"leaving":true}"#).unwrap();
        assert!(leaving.leaving);
    }
}
