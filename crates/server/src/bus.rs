//! Cross-node message bus over core NATS (see docs/DEPLOY.md, "Bus (notes)").
//!
//! Subjects: `hongyan.user.<id>` carries stored envelopes for user `<id>` (the envelope's JSON),
//! `hongyan.user.<id>.kick` carries a new login ([`Kick`]) so an older session on another node
//! is kicked, `hongyan.broadcast` carries notice notifies ([`NoticeBroadcast`]) to every node.
//! NATS is best effort: publishing never waits long and never fails the store + ACK path; the
//! caller logs a [`BusError`] and sync delivers what NATS lost.

use std::{
    pin::Pin,
    sync::atomic::Ordering,
    task::{Context, Poll},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use bytes::Bytes;
use futures_util::{stream, Stream, StreamExt};
use hongyan_protocol::Envelope;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use tokio::sync::broadcast;

/// How long connecting to NATS at startup may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The most a publish may wait (for room in the client's outgoing queue).
const PUBLISH_TIMEOUT: Duration = Duration::from_millis(500);
/// The most [`Bus::flush`] waits for the server's answer.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(2);
/// Longest pause between reconnect attempts: a restarted nats-server is found again quickly.
const MAX_RECONNECT_DELAY: Duration = Duration::from_secs(1);

/// How many link events a slow listener may fall behind before it misses some.
const LINK_EVENTS: usize = 64;

/// NATS header on a delivery: when the envelope was stored, in nanoseconds since the Unix
/// epoch, so the receiving node can record the delivery latency across nodes.
pub const STORED_AT_HEADER: &str = "Hongyan-Stored-At";

/// Subject for notice notifies to every node.
pub const BROADCAST_SUBJECT: &str = "hongyan.broadcast";

/// `hongyan.user.<id>`: stored envelopes for user `<id>`.
pub fn user_subject(user_id: i64) -> String {
    format!("hongyan.user.{user_id}")
}

/// `hongyan.user.<id>.kick`: a new login of user `<id>`.
pub fn kick_subject(user_id: i64) -> String {
    format!("hongyan.user.{user_id}.kick")
}

/// Why a bus operation failed; the caller logs it and carries on.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("cannot connect to NATS at {url}: {source}")]
    Connect {
        url: String,
        source: async_nats::ConnectError,
    },
    #[error("NATS is not connected")]
    Disconnected,
    #[error("NATS did not take the message within {0:?}")]
    Timeout(Duration),
    #[error("NATS publish failed: {0}")]
    Publish(#[from] async_nats::PublishError),
    #[error("NATS subscribe failed: {0}")]
    Subscribe(#[from] async_nats::SubscribeError),
    #[error("cannot encode a bus payload: {0}")]
    Encode(#[from] serde_json::Error),
}

/// A new login of a user on `node`: sessions of that user on other nodes whose login is
/// older than `first_login_time` are kicked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kick {
    pub node: String,
    pub first_login_time: i64,
}

/// A notice notify (typeu 80) or recall (81) for notice `notice_id`, sent by `node`; each
/// node pushes it to its own online users the notice is visible to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeBroadcast {
    pub node: String,
    pub typeu: i32,
    pub notice_id: i64,
}

/// What arrives for a subscribed user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserEvent {
    /// An envelope to push to the user's session; `stored_at` when the sender said when it
    /// was stored ([`STORED_AT_HEADER`]).
    Deliver {
        envelope: Envelope,
        stored_at: Option<SystemTime>,
    },
    /// A newer login elsewhere.
    Kick(Kick),
}

/// The connection to NATS came up (the first time or again) or went down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkEvent {
    /// Connected; subscriptions are being re-sent (a [`Bus::flush`] waits for them).
    Connected,
    /// Lost; the client keeps trying to reconnect.
    Disconnected,
}

/// A connection to NATS shared by the whole node (cheap to clone).
#[derive(Debug, Clone)]
pub struct Bus {
    client: async_nats::Client,
    node: String,
    links: broadcast::Sender<LinkEvent>,
}

impl Bus {
    /// Connects to `url` as node `node` (the name kicks and broadcasts carry). Fails when NATS
    /// cannot be reached now; once connected, the client reconnects by itself forever and
    /// re-subscribes what was subscribed.
    pub async fn connect(url: &str, node: &str) -> Result<Self, BusError> {
        Self::open(url, node, false).await
    }

    /// Like [`Bus::connect`], but does not wait for NATS: the client keeps trying in the
    /// background (a node starts while NATS is down and joins once it is up). Fails only for
    /// a URL that cannot be used at all.
    pub async fn start(url: &str, node: &str) -> Result<Self, BusError> {
        Self::open(url, node, true).await
    }

    async fn open(url: &str, node: &str, in_background: bool) -> Result<Self, BusError> {
        let (links, _) = broadcast::channel(LINK_EVENTS);
        let sender = links.clone();
        let mut options = async_nats::ConnectOptions::new()
            .name(format!("hongyan-{node}"))
            .connection_timeout(CONNECT_TIMEOUT)
            .max_reconnects(None)
            .reconnect_delay_callback(|attempts| {
                let delay = Duration::from_millis(100).saturating_mul(attempts as u32);
                delay.min(MAX_RECONNECT_DELAY)
            })
            .event_callback(move |event| {
                let link = match event {
                    async_nats::Event::Connected => Some(LinkEvent::Connected),
                    async_nats::Event::Disconnected => Some(LinkEvent::Disconnected),
                    _ => None,
                };
                if let Some(link) = link {
                    // Nobody listening is fine.
                    let _ = sender.send(link);
                }
                async {}
            });
        if in_background {
            options = options.retry_on_initial_connect();
        }
        let client = options
            .connect(url)
            .await
            .map_err(|source| BusError::Connect {
                url: url.to_owned(),
                source,
            })?;
        Ok(Self {
            client,
            node: node.to_owned(),
            links,
        })
    }

    /// Connection ups and downs from now on. The state may change again before a listener
    /// sees an event: check [`Bus::is_connected`] when it matters.
    pub fn link_events(&self) -> broadcast::Receiver<LinkEvent> {
        self.links.subscribe()
    }

    /// The NATS client, for node-level subjects other modules own (e.g. presence).
    pub fn nats(&self) -> &async_nats::Client {
        &self.client
    }

    /// This node's name.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// Whether the connection to NATS is up now (for `/readyz`).
    pub fn is_connected(&self) -> bool {
        self.client.connection_state() == async_nats::connection::State::Connected
    }

    /// Messages this connection has received from NATS, including ones for subscriptions
    /// already dropped (for metrics and tests).
    pub fn messages_in(&self) -> u64 {
        self.client.statistics().in_messages.load(Ordering::Relaxed)
    }

    /// Publishes `envelope` to user `user_id`'s subject.
    pub async fn publish_to_user(&self, user_id: i64, envelope: &Envelope) -> Result<(), BusError> {
        self.publish_json(user_subject(user_id), envelope).await
    }

    /// Publishes the stored `envelope` to user `user_id`'s subject with the time it was
    /// stored ([`STORED_AT_HEADER`]).
    pub async fn publish_stored(
        &self,
        user_id: i64,
        envelope: &Envelope,
        stored_at: SystemTime,
    ) -> Result<(), BusError> {
        let nanos = stored_at
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(STORED_AT_HEADER, nanos.to_string());
        self.publish_with(user_subject(user_id), Some(headers), envelope)
            .await
    }

    /// Tells every node that user `user_id` logged in here at `first_login_time`.
    pub async fn publish_kick(&self, user_id: i64, first_login_time: i64) -> Result<(), BusError> {
        let kick = Kick {
            node: self.node.clone(),
            first_login_time,
        };
        self.publish_json(kick_subject(user_id), &kick).await
    }

    /// Tells every node (this one too) to push a notice notify/recall.
    pub async fn publish_notice(&self, typeu: i32, notice_id: i64) -> Result<(), BusError> {
        let notice = NoticeBroadcast {
            node: self.node.clone(),
            typeu,
            notice_id,
        };
        self.publish_json(BROADCAST_SUBJECT.to_owned(), &notice)
            .await
    }

    /// Deliveries and kicks for user `user_id` until the returned handle is dropped (which
    /// unsubscribes both subjects).
    /// While NATS is down the subscription is queued in the client and sent on reconnect;
    /// the call waits at most [`FLUSH_TIMEOUT`] for room in the client's queue.
    pub async fn subscribe_user(&self, user_id: i64) -> Result<UserSubscription, BusError> {
        let both = async {
            let deliveries = self.client.subscribe(user_subject(user_id)).await?;
            let kicks = self.client.subscribe(kick_subject(user_id)).await?;
            Ok::<_, BusError>((deliveries, kicks))
        };
        let (deliveries, kicks) = tokio::time::timeout(FLUSH_TIMEOUT, both)
            .await
            .map_err(|_| BusError::Timeout(FLUSH_TIMEOUT))??;
        let events = stream::select(
            deliveries.filter_map(|message| async move { delivery(message) }),
            decoded(kicks).map(UserEvent::Kick),
        );
        Ok(UserSubscription {
            user_id,
            events: Box::pin(events),
        })
    }

    /// Notice broadcasts from every node (this one too) until the handle is dropped.
    pub async fn subscribe_broadcast(&self) -> Result<BroadcastSubscription, BusError> {
        let subscriber = self.client.subscribe(BROADCAST_SUBJECT).await?;
        Ok(BroadcastSubscription {
            notices: Box::pin(decoded(subscriber)),
        })
    }

    /// Waits (bounded) until NATS has processed everything this node sent so far, e.g. a
    /// subscription before a peer publishes. `Client::flush` only waits for the socket write,
    /// so this is a round trip: a message to a fresh inbox comes back only after the server has
    /// handled every earlier command of this connection.
    pub async fn flush(&self) -> Result<(), BusError> {
        if !self.is_connected() {
            return Err(BusError::Disconnected);
        }
        let round_trip = async {
            let inbox = self.client.new_inbox();
            let mut echo = self.client.subscribe(inbox.clone()).await?;
            self.client.publish(inbox, Bytes::new()).await?;
            echo.next().await.ok_or(BusError::Disconnected)?;
            Ok(())
        };
        tokio::time::timeout(FLUSH_TIMEOUT, round_trip)
            .await
            .map_err(|_| BusError::Timeout(FLUSH_TIMEOUT))?
    }

    /// Fails fast while disconnected (the client would otherwise queue the message and the
    /// caller could wait); never waits longer than [`PUBLISH_TIMEOUT`].
    pub(crate) async fn publish_json(
        &self,
        subject: String,
        value: &impl Serialize,
    ) -> Result<(), BusError> {
        self.publish_with(subject, None, value).await
    }

    async fn publish_with(
        &self,
        subject: String,
        headers: Option<async_nats::HeaderMap>,
        value: &impl Serialize,
    ) -> Result<(), BusError> {
        let payload = Bytes::from(serde_json::to_vec(value)?);
        if !self.is_connected() {
            return Err(BusError::Disconnected);
        }
        let publish = async {
            match headers {
                Some(headers) => {
                    self.client
                        .publish_with_headers(subject, headers, payload)
                        .await
                }
                None => self.client.publish(subject, payload).await,
            }
        };
        tokio::time::timeout(PUBLISH_TIMEOUT, publish)
            .await
            .map_err(|_| BusError::Timeout(PUBLISH_TIMEOUT))??;
        Ok(())
    }
}

/// A delivery: the envelope's JSON, and the store time from [`STORED_AT_HEADER`] if present
/// and readable. An undecodable payload is logged and skipped.
fn delivery(message: async_nats::Message) -> Option<UserEvent> {
    let envelope = match serde_json::from_slice(&message.payload) {
        Ok(envelope) => envelope,
        Err(e) => {
            tracing::warn!(subject = %message.subject, error = %e, "dropping undecodable bus delivery");
            return None;
        }
    };
    let stored_at = message
        .headers
        .as_ref()
        .and_then(|h| h.get(STORED_AT_HEADER))
        .and_then(|v| v.as_str().parse::<u64>().ok())
        .map(|nanos| UNIX_EPOCH + Duration::from_nanos(nanos));
    Some(UserEvent::Deliver {
        envelope,
        stored_at,
    })
}

/// Decodes each message's JSON payload; a payload that does not decode is logged and skipped
/// (another node's bug must not end the subscription).
fn decoded<T: DeserializeOwned>(
    subscriber: async_nats::Subscriber,
) -> impl Stream<Item = T> + Send + 'static {
    subscriber.filter_map(|message| async move {
        match serde_json::from_slice(&message.payload) {
            Ok(value) => Some(value),
            Err(e) => {
                tracing::warn!(subject = %message.subject, error = %e, "dropping undecodable bus message");
                None
            }
        }
    })
}

/// Events for one user; dropping it unsubscribes.
pub struct UserSubscription {
    user_id: i64,
    events: Pin<Box<dyn Stream<Item = UserEvent> + Send>>,
}

impl UserSubscription {
    pub fn user_id(&self) -> i64 {
        self.user_id
    }

    /// The next event; `None` once the bus connection is closed for good.
    pub async fn next(&mut self) -> Option<UserEvent> {
        self.events.next().await
    }
}

impl Stream for UserSubscription {
    type Item = UserEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<UserEvent>> {
        self.events.as_mut().poll_next(cx)
    }
}

impl std::fmt::Debug for UserSubscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserSubscription")
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

/// Notice broadcasts; dropping it unsubscribes.
pub struct BroadcastSubscription {
    notices: Pin<Box<dyn Stream<Item = NoticeBroadcast> + Send>>,
}

impl BroadcastSubscription {
    /// The next notice broadcast; `None` once the bus connection is closed for good.
    pub async fn next(&mut self) -> Option<NoticeBroadcast> {
        self.notices.next().await
    }
}

impl Stream for BroadcastSubscription {
    type Item = NoticeBroadcast;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<NoticeBroadcast>> {
        self.notices.as_mut().poll_next(cx)
    }
}

impl std::fmt::Debug for BroadcastSubscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BroadcastSubscription")
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_follow_the_contract() {
        assert_eq!(user_subject(7), "hongyan.user.7");
        assert_eq!(kick_subject(7), "hongyan.user.7.kick");
    }

    #[test]
    fn kick_payload_is_plain_json() {
        let kick = Kick {
            node: "n1".into(),
            first_login_time: 42,
        };
        let json = serde_json::to_string(&kick).unwrap();
        assert_eq!(json, r#"{"node":"n1","first_login_time":42}"#);
        assert_eq!(serde_json::from_str::<Kick>(&json).unwrap(), kick);
    }
}
