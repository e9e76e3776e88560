//! Reading a node's Prometheus `/metrics` (docs/DEPLOY.md, "Operations"): histograms are
//! scraped at the start and the end of a measured window and subtracted, so a run reports the
//! store and delivery latency of exactly the messages it measured.

use std::collections::BTreeMap;

use anyhow::{Context, Result};

/// One scrape: every sample by its series (`name{labels}` as exposed, labels sorted).
#[derive(Debug, Clone, Default)]
pub struct Scrape {
    samples: BTreeMap<String, f64>,
}

impl Scrape {
    /// GETs `<base_url>/metrics`.
    pub async fn fetch(http: &reqwest::Client, base_url: &str) -> Result<Self> {
        let text = http
            .get(format!("{base_url}/metrics"))
            .send()
            .await?
            .error_for_status()?
            .text()
            .await
            .context("reading /metrics")?;
        Ok(Self::parse(&text))
    }

    /// Parses the text format (comments and malformed lines skipped).
    pub fn parse(text: &str) -> Self {
        let samples = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter_map(|line| {
                let (series, value) = line.rsplit_once(' ')?;
                let value: f64 = value.parse().ok()?;
                Some((normalise(series)?, value))
            })
            .collect();
        Self { samples }
    }

    /// The sample of `series` (`name` or `name{a="x",b="y"}`, any label order).
    pub fn value(&self, series: &str) -> Option<f64> {
        self.samples.get(&normalise(series)?).copied()
    }

    /// Histogram `name` restricted to the labels in `labels` (e.g. `op="store_chat"`, or
    /// empty), as counts per upper bound.
    pub fn histogram(&self, name: &str, labels: &[&str]) -> Histogram {
        let bucket = format!("{name}_bucket{{");
        let mut buckets: Vec<(f64, f64)> = self
            .samples
            .iter()
            .filter_map(|(series, v)| {
                let inner = series.strip_prefix(&bucket)?.strip_suffix('}')?;
                let parts: Vec<&str> = inner.split(',').collect();
                if !labels.iter().all(|l| parts.contains(l)) {
                    return None;
                }
                let le = parts.iter().find_map(|p| p.strip_prefix("le=\""))?;
                let le = le.trim_end_matches('"');
                let le = if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().ok()?
                };
                Some((le, *v))
            })
            .collect();
        buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        let with = |suffix: &str| {
            let mut series = format!("{name}_{suffix}");
            if !labels.is_empty() {
                series = format!("{series}{{{}}}", labels.join(","));
            }
            self.value(&series).unwrap_or(0.0)
        };
        Histogram {
            buckets,
            sum: with("sum"),
            count: with("count"),
        }
    }
}

/// `name{b="2",a="1"}` → `name{a="1",b="2"}` (label values here never hold commas).
fn normalise(series: &str) -> Option<String> {
    let Some((name, rest)) = series.split_once('{') else {
        return Some(series.to_owned());
    };
    let mut labels: Vec<&str> = rest.strip_suffix('}')?.split(',').collect();
    labels.sort_unstable();
    Some(format!("{name}{{{}}}", labels.join(",")))
}

/// A cumulative Prometheus histogram (seconds).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Histogram {
    /// (upper bound, cumulative count), ascending, `+Inf` last.
    pub buckets: Vec<(f64, f64)>,
    pub sum: f64,
    pub count: f64,
}

impl Histogram {
    /// What was observed between `earlier` and `self` (same series).
    pub fn since(&self, earlier: &Histogram) -> Histogram {
        let before = |le: f64| {
            earlier
                .buckets
                .iter()
                .find(|(l, _)| *l == le)
                .map_or(0.0, |(_, c)| *c)
        };
        Histogram {
            buckets: self
                .buckets
                .iter()
                .map(|(le, c)| (*le, c - before(*le)))
                .collect(),
            sum: self.sum - earlier.sum,
            count: self.count - earlier.count,
        }
    }

    /// Adds another node's histogram (same buckets).
    pub fn merge(&mut self, other: &Histogram) {
        if self.buckets.is_empty() {
            self.buckets = other.buckets.clone();
        } else {
            for ((_, c), (_, o)) in self.buckets.iter_mut().zip(&other.buckets) {
                *c += o;
            }
        }
        self.sum += other.sum;
        self.count += other.count;
    }

    /// Mean in seconds (exact: sum / count); 0 when empty.
    pub fn mean(&self) -> f64 {
        if self.count > 0.0 {
            self.sum / self.count
        } else {
            0.0
        }
    }

    /// The `q` quantile in seconds, interpolated linearly inside its bucket as Prometheus'
    /// `histogram_quantile` does (so only as fine as the buckets: they double); 0 when empty.
    pub fn quantile(&self, q: f64) -> f64 {
        if self.count <= 0.0 {
            return 0.0;
        }
        let rank = q * self.count;
        let mut lower = (0.0, 0.0);
        for &(le, c) in &self.buckets {
            if c >= rank {
                if le.is_infinite() {
                    // Above the largest finite bound: that bound is all we know.
                    return lower.0;
                }
                let width = c - lower.1;
                let frac = if width > 0.0 {
                    (rank - lower.1) / width
                } else {
                    1.0
                };
                return lower.0 + (le - lower.0) * frac;
            }
            lower = (le, c);
        }
        lower.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"# HELP hongyan_store_seconds x
# TYPE hongyan_store_seconds histogram
hongyan_store_seconds_sum{op="store_chat"} 0.5
hongyan_store_seconds_count{op="store_chat"} 100
hongyan_store_seconds_bucket{le="0.001",op="store_chat"} 50
hongyan_store_seconds_bucket{le="0.002",op="store_chat"} 90
hongyan_store_seconds_bucket{le="+Inf",op="store_chat"} 100
hongyan_store_seconds_bucket{le="0.001",op="last_seq"} 7
hongyan_connections{transport="ws"} 12
"#;

    #[test]
    fn histograms_are_read_per_label_and_interpolated() {
        let s = Scrape::parse(TEXT);
        assert_eq!(s.value("hongyan_connections{transport=\"ws\"}"), Some(12.0));
        let h = s.histogram("hongyan_store_seconds", &["op=\"store_chat\""]);
        assert_eq!(h.count, 100.0);
        assert_eq!(h.buckets.len(), 3);
        assert!((h.mean() - 0.005).abs() < 1e-12);
        assert!((h.quantile(0.5) - 0.001).abs() < 1e-12);
        // 70th of 100: 20 of the 40 between 1 and 2 ms.
        assert!((h.quantile(0.7) - 0.0015).abs() < 1e-12);
        // In +Inf: the largest finite bound.
        assert!((h.quantile(0.99) - 0.002).abs() < 1e-12);
    }

    #[test]
    fn a_window_is_the_difference_of_two_scrapes_and_nodes_add_up() {
        let before = Scrape::parse(TEXT).histogram("hongyan_store_seconds", &["op=\"store_chat\""]);
        let after_text = TEXT
            .replace("} 100\n", "} 300\n")
            .replace("} 90\n", "} 250\n")
            .replace("} 0.5\n", "} 0.9\n");
        let after =
            Scrape::parse(&after_text).histogram("hongyan_store_seconds", &["op=\"store_chat\""]);
        let window = after.since(&before);
        assert_eq!(window.count, 200.0);
        assert_eq!(window.buckets[1], (0.002, 160.0));
        assert!((window.mean() - 0.002).abs() < 1e-12);
        let mut both = window.clone();
        both.merge(&window);
        assert_eq!(both.count, 400.0);
        assert_eq!(both.buckets[0], (0.001, 0.0));
        assert!(Histogram::default().quantile(0.5) == 0.0);
    }
}
