//! Rate limits (docs/RELIABILITY.md, "Rate limits"): GCRA token buckets from `governor`,
//! keyed by peer address (logins before an account is known), by username (password
//! guessing), by account (messages, uploads), plus one bucket per long connection.
//!
//! A check that fails says what was limited and how long until the next attempt may pass;
//! the caller turns that into HTTP 429 + `Retry-After` or the protocol's error 1102.

use std::{
    fmt,
    hash::Hash,
    net::{IpAddr, SocketAddr},
    num::NonZeroU32,
    str::FromStr,
    time::Duration,
};

use governor::{
    clock::{Clock, DefaultClock},
    middleware::NoOpMiddleware,
    state::{keyed::DashMapStateStore, InMemoryState, NotKeyed},
    Quota, RateLimiter,
};

/// One limit: `count` per `per`, up to `burst` at once; or off.
///
/// Written `COUNT/UNIT[:BURST]` with UNIT `s`, `min` or `h` (e.g. `20/s:50`, `5/min:10`);
/// without a burst the bucket holds `COUNT`. `off` disables the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rate {
    Off,
    Every {
        count: NonZeroU32,
        per: Duration,
        burst: NonZeroU32,
    },
}

impl Rate {
    /// `count` per `per`, burst `burst` (zeros count as one).
    pub fn every(count: u32, per: Duration, burst: u32) -> Self {
        Self::Every {
            count: NonZeroU32::new(count).unwrap_or(NonZeroU32::MIN),
            per,
            burst: NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN),
        }
    }

    /// The governor quota; `None` when off. `min_burst` raises the burst (a bucket must
    /// hold the largest single charge, e.g. one maximal upload).
    fn quota(self, min_burst: u32) -> Option<Quota> {
        let Self::Every { count, per, burst } = self else {
            return None;
        };
        let period = (per / count.get()).max(Duration::from_nanos(1));
        let burst = burst.max(NonZeroU32::new(min_burst).unwrap_or(NonZeroU32::MIN));
        Quota::with_period(period).map(|q| q.allow_burst(burst))
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Off => f.write_str("off"),
            Self::Every { count, per, burst } => {
                let unit = match per.as_secs() {
                    3600 => "h",
                    60 => "min",
                    _ => "s",
                };
                write!(f, "{count}/{unit}:{burst}")
            }
        }
    }
}

/// Why a [`Rate`] did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a rate: write COUNT/UNIT[:BURST] with UNIT s, min or h (e.g. 20/s:50), or off"
)]
pub struct BadRate(String);

impl FromStr for Rate {
    type Err = BadRate;

    fn from_str(s: &str) -> Result<Self, BadRate> {
        let bad = || BadRate(s.to_owned());
        let s = s.trim();
        if s.eq_ignore_ascii_case("off") {
            return Ok(Self::Off);
        }
        let (count, rest) = s.split_once('/').ok_or_else(bad)?;
        let (unit, burst) = match rest.split_once(':') {
            Some((unit, burst)) => (unit, Some(burst)),
            None => (rest, None),
        };
        let count: NonZeroU32 = count.trim().parse().map_err(|_| bad())?;
        let per = match unit.trim() {
            "s" => Duration::from_secs(1),
            "min" => Duration::from_secs(60),
            "h" => Duration::from_secs(3600),
            _ => return Err(bad()),
        };
        let burst = match burst {
            Some(b) => b.trim().parse().map_err(|_| bad())?,
            None => count,
        };
        Ok(Self::Every { count, per, burst })
    }
}

/// Every limit the server applies (flags `--rate-…`, docs/RELIABILITY.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateConfig {
    /// HTTP logins and registrations per peer address.
    pub login_per_ip: Rate,
    /// HTTP logins per username (password guessing on one account).
    pub login_per_user: Rate,
    /// Long-connection logins per peer address.
    pub conn_login_per_ip: Rate,
    /// Type-2 frames (chat, typing) per long connection.
    pub msg_per_conn: Rate,
    /// Type-2 frames per account, over all its connections to this node.
    pub msg_per_account: Rate,
    /// Media `PUT` requests per account.
    pub upload_per_account: Rate,
    /// Media bytes per account, in MiB (`256/min` = 256 MiB a minute).
    pub upload_mib_per_account: Rate,
}

impl RateConfig {
    /// The defaults: far above what a person does, so only floods and scripts meet them.
    pub fn defaults() -> Self {
        let (s, min) = (Duration::from_secs(1), Duration::from_secs(60));
        Self {
            login_per_ip: Rate::every(120, min, 200),
            login_per_user: Rate::every(5, min, 10),
            conn_login_per_ip: Rate::every(600, min, 300),
            // Bursts hold a whole outbox: the SDK sends everything queued at once after a
            // reconnect, and a refused message comes later, maybe after newer ones.
            msg_per_conn: Rate::every(20, s, 300),
            msg_per_account: Rate::every(50, s, 500),
            upload_per_account: Rate::every(60, min, 100),
            upload_mib_per_account: Rate::every(512, min, 1024),
        }
    }

    /// No limits at all (`--rate-limits false`; load benchmarks).
    pub fn off() -> Self {
        Self {
            login_per_ip: Rate::Off,
            login_per_user: Rate::Off,
            conn_login_per_ip: Rate::Off,
            msg_per_conn: Rate::Off,
            msg_per_account: Rate::Off,
            upload_per_account: Rate::Off,
            upload_mib_per_account: Rate::Off,
        }
    }
}

/// A check that failed: what was limited, and when the next attempt may pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    /// What was exceeded, for the error message ("too many login attempts …").
    pub what: &'static str,
    pub retry_after: Duration,
}

impl Limited {
    /// Whole seconds for `Retry-After` (rounded up, at least 1).
    pub fn retry_after_secs(&self) -> u64 {
        let secs = self.retry_after.as_secs() + u64::from(self.retry_after.subsec_nanos() > 0);
        secs.max(1)
    }

    /// A message a person can read, with the wait.
    pub fn message(&self) -> String {
        if self.retry_after < Duration::from_secs(1) {
            let ms = self.retry_after.as_millis().max(1);
            format!("rate limited: {}; try again in {ms} ms", self.what)
        } else {
            format!(
                "rate limited: {}; try again in {} s",
                self.what,
                self.retry_after_secs()
            )
        }
    }
}

type Keyed<K, C> = RateLimiter<K, DashMapStateStore<K>, C, NoOpMiddleware<<C as Clock>::Instant>>;
type Direct<C> = RateLimiter<NotKeyed, InMemoryState, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// One keyed bucket set with the message it reports.
struct KeyedLimit<K: Hash + Eq + Clone, C: Clock> {
    limiter: Keyed<K, C>,
    what: &'static str,
}

impl<K: Hash + Eq + Clone, C: Clock + Clone> KeyedLimit<K, C> {
    fn new(rate: Rate, min_burst: u32, clock: &C, what: &'static str) -> Option<Self> {
        let quota = rate.quota(min_burst)?;
        Some(Self {
            limiter: RateLimiter::dashmap_with_clock(quota, clock.clone()),
            what,
        })
    }

    fn check(&self, key: &K, cost: NonZeroU32) -> Result<(), Limited> {
        let limited = |retry_after| Limited {
            what: self.what,
            retry_after,
        };
        match self.limiter.check_key_n(key, cost) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => Err(limited(
                not_until.wait_time_from(self.limiter.clock().now()),
            )),
            // More than the bucket can ever hold: `min_burst` prevents this; refuse anyway.
            Err(_) => Err(limited(Duration::from_secs(60))),
        }
    }

    fn sweep(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

/// The per-connection message bucket (one per long connection, dropped with it).
pub struct ConnMessages<C: Clock = DefaultClock> {
    limiter: Option<Direct<C>>,
}

impl<C: Clock> fmt::Debug for ConnMessages<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnMessages")
            .field("limited", &self.limiter.is_some())
            .finish()
    }
}

/// Every rate limiter of the server.
pub struct RateLimits<C: Clock = DefaultClock> {
    clock: C,
    login_ip: Option<KeyedLimit<IpAddr, C>>,
    login_user: Option<KeyedLimit<String, C>>,
    conn_login_ip: Option<KeyedLimit<IpAddr, C>>,
    msg_account: Option<KeyedLimit<i64, C>>,
    msg_conn: Option<Quota>,
    upload_requests: Option<KeyedLimit<i64, C>>,
    upload_kib: Option<KeyedLimit<i64, C>>,
    /// The most one upload may charge (the server's `--max-media-bytes`), KiB.
    max_upload_kib: u32,
}

impl<C: Clock> fmt::Debug for RateLimits<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimits").finish_non_exhaustive()
    }
}

impl RateLimits {
    /// The server's limits on the real clock.
    pub fn new(config: &RateConfig, max_upload_bytes: u64) -> Self {
        Self::with_clock(config, max_upload_bytes, DefaultClock::default())
    }
}

/// KiB, rounded up; saturates at `u32::MAX` KiB (4 TiB).
fn kib(bytes: u64) -> u32 {
    u32::try_from(bytes.div_ceil(1024)).unwrap_or(u32::MAX)
}

/// The peer's address as one key: an IPv4 client seen through an IPv6 socket is the same
/// client.
fn peer_key(peer: SocketAddr) -> IpAddr {
    peer.ip().to_canonical()
}

impl<C: Clock + Clone> RateLimits<C> {
    /// Limits on `clock` (tests pass a fake clock).
    pub fn with_clock(config: &RateConfig, max_upload_bytes: u64, clock: C) -> Self {
        let max_upload_kib = kib(max_upload_bytes).max(1);
        // The MiB rate in KiB cells: a bucket must hold one largest upload.
        let upload_kib_rate = match config.upload_mib_per_account {
            Rate::Off => Rate::Off,
            Rate::Every { count, per, burst } => Rate::Every {
                count: count.saturating_mul(NonZeroU32::new(1024).unwrap_or(NonZeroU32::MIN)),
                per,
                burst: burst.saturating_mul(NonZeroU32::new(1024).unwrap_or(NonZeroU32::MIN)),
            },
        };
        Self {
            login_ip: KeyedLimit::new(
                config.login_per_ip,
                1,
                &clock,
                "too many logins and registrations from this address",
            ),
            login_user: KeyedLimit::new(
                config.login_per_user,
                1,
                &clock,
                "too many login attempts for this account",
            ),
            conn_login_ip: KeyedLimit::new(
                config.conn_login_per_ip,
                1,
                &clock,
                "too many long-connection logins from this address",
            ),
            msg_account: KeyedLimit::new(
                config.msg_per_account,
                1,
                &clock,
                "too many messages from this account",
            ),
            msg_conn: config.msg_per_conn.quota(1),
            upload_requests: KeyedLimit::new(
                config.upload_per_account,
                1,
                &clock,
                "too many uploads from this account",
            ),
            upload_kib: KeyedLimit::new(
                upload_kib_rate,
                max_upload_kib,
                &clock,
                "too many bytes uploaded by this account",
            ),
            max_upload_kib,
            clock,
        }
    }

    /// An HTTP login (`username` given) or registration (`None`) from `peer`: the address's
    /// bucket first, then the username's.
    pub fn check_http_login(
        &self,
        peer: SocketAddr,
        username: Option<&str>,
    ) -> Result<(), Limited> {
        check(&self.login_ip, &peer_key(peer), NonZeroU32::MIN)?;
        match username {
            // Usernames are unique ignoring case: `Alice` must not open a second bucket.
            Some(name) => check(&self.login_user, &name.to_lowercase(), NonZeroU32::MIN),
            None => Ok(()),
        }
    }

    /// A long-connection login from `peer` (unknown peers are not limited by address).
    pub fn check_conn_login(&self, peer: Option<SocketAddr>) -> Result<(), Limited> {
        match peer {
            Some(peer) => check(&self.conn_login_ip, &peer_key(peer), NonZeroU32::MIN),
            None => Ok(()),
        }
    }

    /// A new connection's message bucket.
    pub fn conn_messages(&self) -> ConnMessages<C> {
        ConnMessages {
            limiter: self
                .msg_conn
                .map(|q| RateLimiter::direct_with_clock(q, self.clock.clone())),
        }
    }

    /// One type-2 frame from `user_id` on the connection holding `conn`.
    pub fn check_message(&self, conn: &ConnMessages<C>, user_id: i64) -> Result<(), Limited> {
        if let Some(limiter) = &conn.limiter {
            if let Err(not_until) = limiter.check() {
                return Err(Limited {
                    what: "too many messages on this connection",
                    retry_after: not_until.wait_time_from(self.clock.now()),
                });
            }
        }
        check(&self.msg_account, &user_id, NonZeroU32::MIN)
    }

    /// A media `PUT` of `bytes` (the declared length; `None` charges the largest upload).
    pub fn check_upload(&self, user_id: i64, bytes: Option<u64>) -> Result<(), Limited> {
        check(&self.upload_requests, &user_id, NonZeroU32::MIN)?;
        let cost = bytes.map_or(self.max_upload_kib, |b| kib(b).min(self.max_upload_kib));
        check(
            &self.upload_kib,
            &user_id,
            NonZeroU32::new(cost).unwrap_or(NonZeroU32::MIN),
        )
    }

    /// Forgets keys whose buckets are full again (bounds memory; run periodically).
    pub fn sweep(&self) {
        if let Some(l) = &self.login_ip {
            l.sweep();
        }
        if let Some(l) = &self.login_user {
            l.sweep();
        }
        if let Some(l) = &self.conn_login_ip {
            l.sweep();
        }
        for l in [&self.msg_account, &self.upload_requests, &self.upload_kib]
            .into_iter()
            .flatten()
        {
            l.sweep();
        }
    }

    /// How many keys the keyed buckets hold (tests of [`RateLimits::sweep`]).
    pub fn tracked_keys(&self) -> usize {
        let ip = [&self.login_ip, &self.conn_login_ip]
            .into_iter()
            .flatten()
            .map(|l| l.limiter.len())
            .sum::<usize>();
        let user = self.login_user.as_ref().map_or(0, |l| l.limiter.len());
        let account = [&self.msg_account, &self.upload_requests, &self.upload_kib]
            .into_iter()
            .flatten()
            .map(|l| l.limiter.len())
            .sum::<usize>();
        ip + user + account
    }
}

fn check<K: Hash + Eq + Clone, C: Clock + Clone>(
    limit: &Option<KeyedLimit<K, C>>,
    key: &K,
    cost: NonZeroU32,
) -> Result<(), Limited> {
    match limit {
        Some(limit) => limit.check(key, cost),
        None => Ok(()),
    }
}

/// How often [`RateLimits::sweep`] runs.
pub const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// Sweeps the server's limiters every [`SWEEP_EVERY`] until shutdown.
pub fn spawn_sweeper(state: &std::sync::Arc<crate::AppState>) {
    let state = std::sync::Arc::downgrade(state);
    let Some(shutdown) = state.upgrade().map(|s| s.shutdown.clone()) else {
        return;
    };
    tokio::spawn(async move {
        let mut every = tokio::time::interval(SWEEP_EVERY);
        every.tick().await;
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = every.tick() => {}
            }
            let Some(state) = state.upgrade() else { return };
            state.limits.sweep();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;

    fn peer(last: u8) -> SocketAddr {
        SocketAddr::from(([10, 0, 0, last], 40000))
    }

    fn limits(config: RateConfig) -> (RateLimits<FakeRelativeClock>, FakeRelativeClock) {
        let clock = FakeRelativeClock::default();
        (
            RateLimits::with_clock(&config, 32 * 1024 * 1024, clock.clone()),
            clock,
        )
    }

    #[test]
    fn rates_parse_and_print() {
        assert_eq!(
            "20/s:50".parse(),
            Ok(Rate::every(20, Duration::from_secs(1), 50))
        );
        assert_eq!(
            " 5/min ".parse(),
            Ok(Rate::every(5, Duration::from_secs(60), 5))
        );
        assert_eq!(
            "100/h:7".parse(),
            Ok(Rate::every(100, Duration::from_secs(3600), 7))
        );
        assert_eq!("OFF".parse(), Ok(Rate::Off));
        for bad in ["", "20", "0/s", "20/day", "20/s:0", "20/s:x", "-1/s", "a/s"] {
            assert!(bad.parse::<Rate>().is_err(), "{bad:?} parsed");
        }
        for s in ["20/s:50", "5/min:10", "100/h:7", "off"] {
            assert_eq!(s.parse::<Rate>().map(|r| r.to_string()), Ok(s.to_owned()));
        }
    }

    #[test]
    fn login_burst_then_wait_then_allowed() {
        let (l, clock) = limits(RateConfig::defaults());
        // 5/min burst 10 per username.
        for _ in 0..10 {
            l.check_http_login(peer(1), Some("alice"))
                .expect("within burst");
        }
        let limited = l
            .check_http_login(peer(1), Some("alice"))
            .expect_err("11th attempt");
        assert_eq!(limited.what, "too many login attempts for this account");
        assert_eq!(limited.retry_after, Duration::from_secs(12));
        assert_eq!(limited.retry_after_secs(), 12);
        assert!(
            limited.message().contains("try again in 12 s"),
            "{}",
            limited.message()
        );
        // Nor by spelling the name another way (usernames ignore case).
        assert!(l.check_http_login(peer(2), Some("ALICE")).is_err());
        // Another account from the same address is not affected.
        l.check_http_login(peer(1), Some("bob"))
            .expect("other user");
        clock.advance(Duration::from_secs(12));
        l.check_http_login(peer(1), Some("alice"))
            .expect("after the wait");
        assert!(l.check_http_login(peer(1), Some("alice")).is_err());
    }

    #[test]
    fn login_per_address_covers_registrations_and_ignores_ports() {
        let config = RateConfig {
            login_per_ip: Rate::every(2, Duration::from_secs(60), 3),
            ..RateConfig::defaults()
        };
        let (l, _clock) = limits(config);
        l.check_http_login(peer(1), None).expect("1");
        l.check_http_login(SocketAddr::from(([10, 0, 0, 1], 1)), Some("a"))
            .expect("2");
        l.check_http_login(peer(1), Some("b")).expect("3");
        let limited = l.check_http_login(peer(1), Some("c")).expect_err("4");
        assert_eq!(
            limited.what,
            "too many logins and registrations from this address"
        );
        assert_eq!(limited.retry_after_secs(), 30);
        l.check_http_login(peer(2), Some("c"))
            .expect("another address");
        // IPv4 through an IPv6 socket is the same address.
        let mapped: SocketAddr = "[::ffff:10.0.0.1]:5".parse().expect("addr");
        assert!(l.check_http_login(mapped, None).is_err());
    }

    #[test]
    fn messages_limited_per_connection_and_per_account() {
        let config = RateConfig {
            msg_per_conn: Rate::every(10, Duration::from_secs(1), 5),
            msg_per_account: Rate::every(20, Duration::from_secs(1), 8),
            ..RateConfig::defaults()
        };
        let (l, clock) = limits(config);
        let a = l.conn_messages();
        for _ in 0..5 {
            l.check_message(&a, 7)
                .expect("within the connection's burst");
        }
        let limited = l.check_message(&a, 7).expect_err("6th");
        assert_eq!(limited.what, "too many messages on this connection");
        assert_eq!(limited.retry_after, Duration::from_millis(100));
        assert!(limited.message().ends_with("try again in 100 ms"));
        // A second connection of the same account has its own bucket but shares the
        // account's: 3 more reach the account's burst of 8.
        let b = l.conn_messages();
        for _ in 0..3 {
            l.check_message(&b, 7).expect("account burst left");
        }
        let limited = l.check_message(&b, 7).expect_err("account burst spent");
        assert_eq!(limited.what, "too many messages from this account");
        // Another account on its own connection is untouched.
        l.check_message(&l.conn_messages(), 8)
            .expect("other account");
        clock.advance(Duration::from_millis(100));
        l.check_message(&a, 7).expect("refilled");
    }

    #[test]
    fn uploads_limited_by_requests_and_bytes() {
        let config = RateConfig {
            upload_per_account: Rate::every(60, Duration::from_secs(60), 3),
            upload_mib_per_account: Rate::every(10, Duration::from_secs(60), 10),
            ..RateConfig::defaults()
        };
        let clock = FakeRelativeClock::default();
        let l = RateLimits::with_clock(&config, 8 * 1024 * 1024, clock.clone());
        l.check_upload(1, Some(6 * 1024 * 1024))
            .expect("6 of 10 MiB");
        let limited = l
            .check_upload(1, Some(5 * 1024 * 1024))
            .expect_err("11 MiB > 10");
        assert_eq!(limited.what, "too many bytes uploaded by this account");
        // The refused request still counted as a request: one left.
        l.check_upload(1, Some(1024)).expect("small upload");
        let limited = l.check_upload(1, Some(1)).expect_err("4th request");
        assert_eq!(limited.what, "too many uploads from this account");
        assert_eq!(limited.retry_after, Duration::from_secs(1));
        // Unknown length charges the largest upload (8 MiB): the second does not fit.
        l.check_upload(2, None).expect("8 of 10 MiB");
        let limited = l.check_upload(2, None).expect_err("16 MiB > 10");
        assert_eq!(limited.what, "too many bytes uploaded by this account");
        // 6 MiB more are needed: 36 s at 10 MiB/min.
        assert_eq!(limited.retry_after, Duration::from_secs(36));
        clock.advance(Duration::from_secs(36));
        l.check_upload(2, None).expect("refilled");
    }

    #[test]
    fn byte_bucket_always_fits_one_largest_upload() {
        let config = RateConfig {
            upload_mib_per_account: Rate::every(1, Duration::from_secs(60), 1),
            ..RateConfig::defaults()
        };
        let clock = FakeRelativeClock::default();
        let l = RateLimits::with_clock(&config, 8 * 1024 * 1024, clock);
        l.check_upload(1, Some(8 * 1024 * 1024))
            .expect("one maximal upload passes a 1 MiB/min limit");
        assert!(l.check_upload(1, Some(1024)).is_err());
    }

    #[test]
    fn off_limits_nothing() {
        let (l, _clock) = limits(RateConfig::off());
        let conn = l.conn_messages();
        for _ in 0..10_000 {
            l.check_http_login(peer(1), Some("alice")).expect("off");
            l.check_conn_login(Some(peer(1))).expect("off");
            l.check_message(&conn, 1).expect("off");
            l.check_upload(1, None).expect("off");
        }
        assert_eq!(l.tracked_keys(), 0);
    }

    #[test]
    fn conn_logins_per_address() {
        let config = RateConfig {
            conn_login_per_ip: Rate::every(1, Duration::from_secs(1), 2),
            ..RateConfig::defaults()
        };
        let (l, clock) = limits(config);
        l.check_conn_login(Some(peer(1))).expect("1");
        l.check_conn_login(Some(peer(1))).expect("2");
        let limited = l.check_conn_login(Some(peer(1))).expect_err("3");
        assert_eq!(
            limited.what,
            "too many long-connection logins from this address"
        );
        l.check_conn_login(None)
            .expect("unknown peers are not limited");
        clock.advance(Duration::from_secs(1));
        l.check_conn_login(Some(peer(1))).expect("refilled");
    }

    #[test]
    fn sweep_forgets_full_buckets() {
        let (l, clock) = limits(RateConfig::defaults());
        for i in 0..50 {
            l.check_http_login(peer(i), Some(&format!("user{i}")))
                .expect("first attempt");
        }
        assert_eq!(l.tracked_keys(), 100);
        l.sweep();
        assert_eq!(l.tracked_keys(), 100, "recent keys stay");
        clock.advance(Duration::from_secs(3600));
        l.sweep();
        assert_eq!(l.tracked_keys(), 0);
    }
}
