//! QoS resend policy (MobileIMSDK semantics), as pure functions of time and attempts.
//!
//! Every `qos_check` the engine looks at the outbox: entries sent less than `min_age` ago
//! wait; older ones are resent with the same fp until they were resent `max_retries` times
//! on the current connection, after which they are marked Failed (code 0, "no
//! acknowledgement") and *parked*: they stay in the outbox, skipped on this connection, so a
//! link that looked alive but carried nothing loses no message. After a (re)login every entry,
//! parked ones included, is sent once at once with attempts reset.

use std::time::Duration;

use crate::store::OutboxEntry;

/// The failure reason for a message that got no ACK.
pub const NO_ACK_REASON: &str = "no acknowledgement";

/// Resend policy parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QosPolicy {
    pub min_age: Duration,
    pub max_retries: u32,
}

impl QosPolicy {
    pub fn from_timing(t: &crate::Timing) -> Self {
        Self {
            min_age: t.qos_min_age,
            max_retries: t.qos_max_retries,
        }
    }
}

/// What to do with one outbox entry now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QosAction {
    /// Sent recently: leave it.
    Wait,
    /// Send it again (same fp) and count an attempt.
    Resend,
    /// Give up: mark it Failed.
    Fail,
}

/// The decision for an entry last sent at `last_sent_at` (ms) after `attempts` resends.
pub fn decide(policy: &QosPolicy, now_ms: i64, last_sent_at: i64, attempts: u32) -> QosAction {
    let min_age = i64::try_from(policy.min_age.as_millis()).unwrap_or(i64::MAX);
    if now_ms.saturating_sub(last_sent_at) < min_age {
        QosAction::Wait
    } else if attempts >= policy.max_retries {
        QosAction::Fail
    } else {
        QosAction::Resend
    }
}

/// The ids to resend and to fail in one check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QosPlan {
    pub resend: Vec<String>,
    pub fail: Vec<String>,
}

/// Applies [`decide`] to every entry.
pub fn plan(policy: &QosPolicy, now_ms: i64, entries: &[OutboxEntry]) -> QosPlan {
    let mut plan = QosPlan::default();
    for e in entries.iter().filter(|e| !e.parked) {
        match decide(policy, now_ms, e.last_sent_at, e.attempts) {
            QosAction::Wait => {}
            QosAction::Resend => plan.resend.push(e.id.clone()),
            QosAction::Fail => plan.fail.push(e.id.clone()),
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use hongyan_protocol::Envelope;

    const P: QosPolicy = QosPolicy {
        min_age: Duration::from_secs(3),
        max_retries: 2,
    };

    #[test]
    fn young_entries_wait() {
        assert_eq!(decide(&P, 10_000, 8_000, 0), QosAction::Wait);
        assert_eq!(decide(&P, 10_000, 7_001, 5), QosAction::Wait);
        assert_eq!(decide(&P, 10_000, 7_000, 0), QosAction::Resend);
    }

    #[test]
    fn gives_up_after_max_retries() {
        assert_eq!(decide(&P, 10_000, 0, 1), QosAction::Resend);
        assert_eq!(decide(&P, 10_000, 0, 2), QosAction::Fail);
        let never = QosPolicy {
            max_retries: 0,
            ..P
        };
        assert_eq!(decide(&never, 10_000, 0, 0), QosAction::Fail);
    }

    #[test]
    fn mobileimsdk_timeline_send_resend_resend_fail() {
        // Sent at 0, checked every 5 s.
        let (mut last, mut attempts) = (0_i64, 0_u32);
        let mut log = Vec::new();
        for t in (5_000..=20_000).step_by(5_000) {
            let a = decide(&P, t, last, attempts);
            log.push(a);
            match a {
                QosAction::Resend => {
                    last = t;
                    attempts += 1;
                }
                QosAction::Fail => break,
                QosAction::Wait => {}
            }
        }
        assert_eq!(log, [QosAction::Resend, QosAction::Resend, QosAction::Fail]);
    }

    #[test]
    fn plan_splits_entries() {
        let entry = |id: &str, last: i64, attempts: u32| OutboxEntry {
            id: id.into(),
            envelope: Envelope::chat("1", "2", id, 1, "x"),
            attempts,
            parked: false,
            last_sent_at: last,
            created_at: 0,
        };
        let p = plan(
            &P,
            10_000,
            &[
                entry("young", 9_000, 0),
                entry("old", 1_000, 0),
                entry("dead", 1_000, 2),
            ],
        );
        assert_eq!(p.resend, ["old"]);
        assert_eq!(p.fail, ["dead"]);
    }
}
