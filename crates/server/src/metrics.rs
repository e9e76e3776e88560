//! Prometheus metrics (`/metrics`): one registry per server, with typed handles that the
//! gateway, router and relay update on their hot paths.
//!
//! Labels are a few fixed words (transport, message kind, store operation), never user or
//! group ids, so the number of series stays small whatever the traffic.

use std::{
    future::Future,
    time::{Duration, Instant},
};

use prometheus_client::{
    encoding::{text::encode, EncodeLabelSet},
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

use hongyan_protocol::{envelope::is_group_id, kinds};

/// The transports a client can log in over (label `transport`).
pub const TRANSPORTS: [&str; 2] = ["ws", "tcp"];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TransportLabel {
    transport: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OpLabel {
    op: &'static str,
}

/// Latency buckets in seconds: 50 µs doubling up to ~3.3 s (17 buckets).
fn latency_buckets() -> impl Iterator<Item = f64> {
    prometheus_client::metrics::histogram::exponential_buckets(0.000_05, 2.0, 17)
}

fn latency_histogram() -> Histogram {
    Histogram::new(latency_buckets())
}

/// The class of a stored chat message (label `kind`): `c2c`, `group`, or `signal` (receipts
/// and other kinds from 90 up, which are stored but are not chat content).
pub fn message_kind(to: &str, typeu: i32) -> &'static str {
    if typeu >= kinds::RECEIPT {
        "signal"
    } else if is_group_id(to) {
        "group"
    } else {
        "c2c"
    }
}

/// The registry and its typed handles; lives in [`crate::AppState`].
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    connections: Family<TransportLabel, Gauge>,
    messages: Family<KindLabel, Counter>,
    delivery: Histogram,
    store: Family<OpLabel, Histogram>,
    bus_publish_failures: Counter,
    process: ProcessMetrics,
}

/// Cheap process basics, read from `/proc` at scrape time (Linux only; absent elsewhere).
#[derive(Debug, Default)]
struct ProcessMetrics {
    resident_bytes: Gauge,
    open_fds: Gauge,
    start_time_seconds: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let connections = Family::<TransportLabel, Gauge>::default();
        registry.register(
            "hongyan_connections",
            "Logged-in connections by transport",
            connections.clone(),
        );
        let messages = Family::<KindLabel, Counter>::default();
        registry.register(
            "hongyan_messages",
            "Chat messages stored (duplicates not counted) by kind",
            messages.clone(),
        );
        let delivery = latency_histogram();
        registry.register(
            "hongyan_delivery_seconds",
            "From a message being stored to its push onto the recipient's connection",
            delivery.clone(),
        );
        let store = Family::<OpLabel, Histogram>::new_with_constructor(latency_histogram);
        registry.register(
            "hongyan_store_seconds",
            "Latency of hot store calls by operation",
            store.clone(),
        );
        let bus_publish_failures = Counter::default();
        registry.register(
            "hongyan_bus_publish_failures",
            "Deliveries for users on other nodes that could not be published to NATS (sync delivers them)",
            bus_publish_failures.clone(),
        );
        let process = ProcessMetrics::default();
        let unix_now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        process.start_time_seconds.set(unix_now.as_secs() as i64);
        registry.register(
            "process_start_time_seconds",
            "Start time of the process since the Unix epoch in seconds",
            process.start_time_seconds.clone(),
        );
        if cfg!(target_os = "linux") {
            registry.register(
                "process_resident_memory_bytes",
                "Resident memory size in bytes",
                process.resident_bytes.clone(),
            );
            registry.register(
                "process_open_fds",
                "Number of open file descriptors",
                process.open_fds.clone(),
            );
        }
        for transport in TRANSPORTS {
            // Present at 0 from the start, so dashboards see the series before any login.
            connections
                .get_or_create(&TransportLabel { transport })
                .set(0);
        }
        Self {
            registry,
            connections,
            messages,
            delivery,
            store,
            bus_publish_failures,
            process,
        }
    }

    /// The counter of failed bus publishes, for the task that publishes (it outlives no
    /// registry: the counter is shared).
    pub fn bus_publish_failures(&self) -> Counter {
        self.bus_publish_failures.clone()
    }

    /// Counts one stored chat message of `kind` (see [`message_kind`]).
    pub fn message_stored(&self, kind: &'static str) {
        self.messages.get_or_create(&KindLabel { kind }).inc();
    }

    /// Records one push, `since` being when the message was stored (on this node).
    pub fn delivered(&self, since: Instant) {
        self.delivered_after(since.elapsed());
    }

    /// Records one push that came `took` after the message was stored (e.g. on another
    /// node, from a timestamp carried with the message).
    pub fn delivered_after(&self, took: Duration) {
        self.delivery.observe(took.as_secs_f64());
    }

    /// Records one store call of operation `op` that took `took`.
    pub fn store_call(&self, op: &'static str, took: Duration) {
        self.store
            .get_or_create(&OpLabel { op })
            .observe(took.as_secs_f64());
    }

    /// Awaits `call` and records its latency as store operation `op`.
    pub async fn time_store<T>(&self, op: &'static str, call: impl Future<Output = T>) -> T {
        let start = Instant::now();
        let out = call.await;
        self.store_call(op, start.elapsed());
        out
    }

    /// The Prometheus text exposition. `connections` gives the logged-in count per transport
    /// now (the session registry is the truth; a gauge kept by hooks could drift).
    pub fn encode(&self, connections: impl Fn(&str) -> usize) -> String {
        for transport in TRANSPORTS {
            let n = i64::try_from(connections(transport)).unwrap_or(i64::MAX);
            self.connections
                .get_or_create(&TransportLabel { transport })
                .set(n);
        }
        self.process.refresh();
        let mut out = String::new();
        if let Err(e) = encode(&mut out, &self.registry) {
            // Writing into a String cannot fail; keep whatever was written.
            tracing::warn!(error = %e, "encoding metrics failed");
        }
        out
    }
}

impl ProcessMetrics {
    fn refresh(&self) {
        if !cfg!(target_os = "linux") {
            return;
        }
        if let Some(kb) = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| vm_rss_kb(&s))
        {
            self.resident_bytes.set(kb.saturating_mul(1024));
        }
        if let Ok(dir) = std::fs::read_dir("/proc/self/fd") {
            self.open_fds.set(dir.count() as i64);
        }
    }
}

/// `VmRSS:   1234 kB` from `/proc/self/status`.
fn vm_rss_kb(status: &str) -> Option<i64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value of the series line starting with `series ` in `text`.
    fn value(text: &str, series: &str) -> Option<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
            .and_then(|v| v.parse().ok())
    }

    #[test]
    fn encodes_every_series_with_its_labels() {
        let m = Metrics::new();
        m.message_stored(message_kind("2", kinds::TEXT));
        m.message_stored(message_kind("g7", kinds::TEXT));
        m.message_stored(message_kind("g7", kinds::TEXT));
        m.message_stored(message_kind("2", kinds::RECEIPT));
        m.delivered(Instant::now());
        m.delivered_after(Duration::from_millis(3));
        m.store_call("store_chat", Duration::from_micros(300));
        m.bus_publish_failures().inc();
        let text = m.encode(|t| if t == "ws" { 3 } else { 1 });
        assert_eq!(
            value(&text, "hongyan_bus_publish_failures_total"),
            Some(1.0)
        );

        assert_eq!(
            value(&text, "hongyan_connections{transport=\"ws\"}"),
            Some(3.0)
        );
        assert_eq!(
            value(&text, "hongyan_connections{transport=\"tcp\"}"),
            Some(1.0)
        );
        assert_eq!(
            value(&text, "hongyan_messages_total{kind=\"c2c\"}"),
            Some(1.0)
        );
        assert_eq!(
            value(&text, "hongyan_messages_total{kind=\"group\"}"),
            Some(2.0)
        );
        assert_eq!(
            value(&text, "hongyan_messages_total{kind=\"signal\"}"),
            Some(1.0)
        );
        assert_eq!(value(&text, "hongyan_delivery_seconds_count"), Some(2.0));
        assert!(value(&text, "hongyan_delivery_seconds_sum").is_some_and(|v| v >= 0.003));
        assert_eq!(
            value(&text, "hongyan_store_seconds_count{op=\"store_chat\"}"),
            Some(1.0)
        );
        // 300 µs falls in the 400 µs bucket, not the 200 µs one.
        assert_eq!(
            value(
                &text,
                "hongyan_store_seconds_bucket{le=\"0.0002\",op=\"store_chat\"}"
            ),
            Some(0.0)
        );
        assert_eq!(
            value(
                &text,
                "hongyan_store_seconds_bucket{le=\"0.0004\",op=\"store_chat\"}"
            ),
            Some(1.0)
        );
        assert!(value(&text, "process_start_time_seconds").is_some_and(|v| v > 0.0));
        if cfg!(target_os = "linux") {
            assert!(value(&text, "process_resident_memory_bytes").is_some_and(|v| v > 0.0));
            assert!(value(&text, "process_open_fds").is_some_and(|v| v > 0.0));
        }
    }

    #[test]
    fn connections_follow_the_registry_at_each_scrape() {
        let m = Metrics::new();
        let before = m.encode(|_| 0);
        assert_eq!(
            value(&before, "hongyan_connections{transport=\"ws\"}"),
            Some(0.0)
        );
        let after = m.encode(|t| usize::from(t == "ws"));
        assert_eq!(
            value(&after, "hongyan_connections{transport=\"ws\"}"),
            Some(1.0)
        );
        let gone = m.encode(|_| 0);
        assert_eq!(
            value(&gone, "hongyan_connections{transport=\"ws\"}"),
            Some(0.0)
        );
    }

    #[tokio::test]
    async fn time_store_records_the_call() {
        let m = Metrics::new();
        let out = m.time_store("mailbox_after", async { 42 }).await;
        assert_eq!(out, 42);
        let text = m.encode(|_| 0);
        assert_eq!(
            value(&text, "hongyan_store_seconds_count{op=\"mailbox_after\"}"),
            Some(1.0)
        );
    }

    #[test]
    fn kinds_stay_few() {
        assert_eq!(message_kind("5", kinds::IMAGE), "c2c");
        assert_eq!(message_kind("g5", kinds::STICKER), "group");
        assert_eq!(message_kind("5", kinds::RECEIPT), "signal");
    }

    #[test]
    fn reads_rss_from_proc_status() {
        assert_eq!(vm_rss_kb("Name:\tx\nVmRSS:\t  2048 kB\n"), Some(2048));
        assert_eq!(vm_rss_kb("Name:\tx\n"), None);
    }
}
