//! Notice notify (80) and recall (81) across nodes: the node that changed a notice publishes
//! it on `hongyan.broadcast`, and every node (the origin too: one path) pushes it to its own
//! sessions the notice is visible to. Without a bus the origin pushes to its sessions directly.
//!
//! The payload is [`bus::NoticeBroadcast`] plus the audience (`"audience":[ids]`, absent =
//! everyone), so a node decides visibility without reading the store.

use std::collections::HashSet;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::{
    bus::{self, Bus, BusError, BROADCAST_SUBJECT},
    relay, AppState,
};

/// A notice notify/recall with who may see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeSignal {
    #[serde(flatten)]
    pub notice: bus::NoticeBroadcast,
    /// The users the notice is visible to; `None` = everyone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<Vec<i64>>,
}

/// Tells the online users `audience` admits (`None` = everyone) about notice `id` (`typeu` 80
/// or 81): on every node with a bus, else on this one.
pub async fn announce(state: &AppState, typeu: i32, id: i64, audience: Option<Vec<i64>>) {
    let Some(bus) = &state.bus else {
        push_here(state, typeu, id, audience.as_deref());
        return;
    };
    let signal = NoticeSignal {
        notice: bus::NoticeBroadcast {
            node: bus.node().to_owned(),
            typeu,
            notice_id: id,
        },
        audience,
    };
    if let Err(e) = bus
        .publish_json(BROADCAST_SUBJECT.to_owned(), &signal)
        .await
    {
        // The other nodes' users see it at their next notices fetch.
        tracing::warn!(notice = id, error = %e, "notice broadcast not sent; telling this node only");
        push_here(state, typeu, id, signal.audience.as_deref());
    }
}

/// Pushes notice `id` (`typeu`) to this node's sessions `audience` admits (`None` = all).
fn push_here(state: &AppState, typeu: i32, id: i64, audience: Option<&[i64]>) {
    let audience: Option<HashSet<i64>> = audience.map(|ids| ids.iter().copied().collect());
    relay::announce_notice(state, typeu, id, |user| {
        audience.as_ref().is_none_or(|a| a.contains(&user))
    });
}

/// The broadcast subscription, taken in [`Cluster::join`](super::Cluster::join) so it is in
/// place before the node serves.
pub struct NoticeFeed {
    subscriber: std::sync::Mutex<Option<async_nats::Subscriber>>,
}

impl std::fmt::Debug for NoticeFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NoticeFeed").finish_non_exhaustive()
    }
}

impl NoticeFeed {
    pub async fn join(bus: &Bus) -> Result<Self, BusError> {
        let subscriber = bus.nats().subscribe(BROADCAST_SUBJECT).await?;
        Ok(Self {
            subscriber: std::sync::Mutex::new(Some(subscriber)),
        })
    }

    /// Pushes every broadcast to this node's visible sessions until `shutdown`. Runs once.
    pub async fn run(&self, state: &AppState, shutdown: CancellationToken) {
        let taken = self
            .subscriber
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let Some(mut subscriber) = taken else {
            return;
        };
        loop {
            let message = tokio::select! {
                () = shutdown.cancelled() => return,
                message = subscriber.next() => match message {
                    Some(message) => message,
                    None => return,
                },
            };
            match serde_json::from_slice::<NoticeSignal>(&message.payload) {
                Ok(signal) => push_here(
                    state,
                    signal.notice.typeu,
                    signal.notice.notice_id,
                    signal.audience.as_deref(),
                ),
                Err(e) => tracing::warn!(error = %e, "dropping undecodable notice broadcast"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signal_is_the_bus_broadcast_plus_the_audience() {
        let signal = NoticeSignal {
            notice: bus::NoticeBroadcast {
                node: "n1".into(),
                typeu: 80,
                notice_id: 5,
            },
            audience: Some(vec![7, 8]),
        };
        let json = serde_json::to_string(&signal).unwrap();
        assert_eq!(
            json,
            r#"{"node":"n1","typeu":80,"notice_id":5,"audience":[7,8]}"#
        );
        // A plain broadcast reader understands it, and a plain broadcast is "everyone".
        let plain: bus::NoticeBroadcast = serde_json::from_str(&json).unwrap();
        assert_eq!(plain, signal.notice);
        let everyone: NoticeSignal =
            serde_json::from_str(r#"{"node":"n1","typeu":81,"notice_id":5}"#).unwrap();
        assert_eq!(everyone.audience, None);
    }
}
