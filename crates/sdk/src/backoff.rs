//! Reconnect delays: capped exponential backoff with full jitter.

use std::time::Duration;

use rand::Rng;

/// Delay generator: attempt `n` (0-based) waits a uniformly random time in
/// `[min/2, min(max, min * 2^n)]`; [`Backoff::reset`] after a successful login.
#[derive(Debug, Clone)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    pub fn new(min: Duration, max: Duration) -> Self {
        Self {
            min,
            max: max.max(min),
            attempt: 0,
        }
    }

    /// Attempts so far since the last reset.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    /// The ceiling for the current attempt, before jitter.
    pub fn ceiling(&self) -> Duration {
        let factor = 1_u32.checked_shl(self.attempt.min(31)).unwrap_or(u32::MAX);
        self.min.saturating_mul(factor).min(self.max)
    }

    /// The next delay, drawn with `rng`; advances the attempt counter.
    pub fn next_with<R: Rng + ?Sized>(&mut self, rng: &mut R) -> Duration {
        let hi = self.ceiling();
        let lo = self.min / 2;
        self.attempt = self.attempt.saturating_add(1);
        if hi <= lo {
            return hi;
        }
        let ms = rng.gen_range(lo.as_millis()..=hi.as_millis());
        Duration::from_millis(u64::try_from(ms).unwrap_or(u64::MAX))
    }

    /// The next delay with the thread-local RNG.
    pub fn next_delay(&mut self) -> Duration {
        self.next_with(&mut rand::thread_rng())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, SeedableRng};

    #[test]
    fn ceiling_doubles_up_to_the_cap() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(15));
        let mut ceilings = Vec::new();
        for _ in 0..7 {
            ceilings.push(b.ceiling().as_secs());
            b.next_delay();
        }
        assert_eq!(ceilings, [1, 2, 4, 8, 15, 15, 15]);
        b.reset();
        assert_eq!((b.attempt(), b.ceiling()), (0, Duration::from_secs(1)));
        for _ in 0..100 {
            b.next_delay(); // no overflow however long the outage
        }
        assert_eq!(b.ceiling(), Duration::from_secs(15));
    }

    #[test]
    fn delays_are_jittered_within_bounds() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(15));
            for _ in 0..8 {
                let ceiling = b.ceiling();
                let d = b.next_with(&mut rng);
                assert!(
                    d >= Duration::from_millis(500) && d <= ceiling,
                    "{d:?} > {ceiling:?}"
                );
                seen.insert(d.as_millis());
            }
        }
        assert!(seen.len() > 100, "delays must vary, got {}", seen.len());
    }
}
