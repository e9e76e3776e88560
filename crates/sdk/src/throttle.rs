//! A per-key rate limit: at most one event per key in each interval (typing signals).

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Remembers when each key last passed.
#[derive(Debug)]
pub struct Throttle {
    interval: Duration,
    last: HashMap<String, Instant>,
}

impl Throttle {
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            last: HashMap::new(),
        }
    }

    /// Whether `key` may pass at `now`; if so, `now` is recorded as its last pass.
    pub fn allow(&mut self, key: &str, now: Instant) -> bool {
        match self.last.get(key) {
            Some(t) if now.saturating_duration_since(*t) < self.interval => false,
            _ => {
                // Keep the map small: forget keys whose interval has passed.
                let interval = self.interval;
                self.last
                    .retain(|_, t| now.saturating_duration_since(*t) < interval);
                self.last.insert(key.to_owned(), now);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_per_interval_per_key() {
        let mut t = Throttle::new(Duration::from_secs(3));
        let t0 = Instant::now();
        assert!(t.allow("7", t0));
        assert!(!t.allow("7", t0 + Duration::from_millis(2_999)));
        assert!(
            t.allow("8", t0 + Duration::from_millis(10)),
            "keys are independent"
        );
        assert!(t.allow("7", t0 + Duration::from_secs(3)));
        assert!(!t.allow("7", t0 + Duration::from_secs(4)));
        assert!(t.allow("7", t0 + Duration::from_secs(6)));
    }
}
