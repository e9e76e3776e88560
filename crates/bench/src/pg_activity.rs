//! What the nodes' PostgreSQL connections are doing during a run: `pg_stat_activity` sampled
//! every few milliseconds and averaged, so "the store is slow" splits into running SQL,
//! waiting for a row lock (two writers of one mailbox), and waiting for the node inside an
//! open transaction (round trips, a node not scheduled).

use std::{
    collections::BTreeMap,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

use anyhow::{Context, Result};
use tokio::task::JoinHandle;
use tokio_postgres::NoTls;

/// How often the sampler looks.
const EVERY: Duration = Duration::from_millis(20);

/// Average number of the nodes' connections in each state over the sampled window.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Activity {
    pub samples: u32,
    /// Executing a statement, not waiting on anything (CPU, or runnable but not scheduled).
    pub running: f64,
    /// Executing, but waiting for a heavyweight lock (a row another transaction holds).
    pub lock_wait: f64,
    /// Executing, waiting on something else (LWLock, IO, …).
    pub other_wait: f64,
    /// Inside a transaction, waiting for the node's next statement.
    pub idle_in_transaction: f64,
    /// Connected, no transaction (free in a node's pool).
    pub idle: f64,
}

impl Activity {
    /// Connections seen on average.
    pub fn total(&self) -> f64 {
        self.running + self.lock_wait + self.other_wait + self.idle_in_transaction + self.idle
    }

    fn add(&mut self, state: &str, wait_type: Option<&str>) {
        let slot = match (state, wait_type) {
            ("active", None) => &mut self.running,
            ("active", Some("Lock")) => &mut self.lock_wait,
            ("active", Some(_)) => &mut self.other_wait,
            ("idle in transaction", _) => &mut self.idle_in_transaction,
            _ => &mut self.idle,
        };
        *slot += 1.0;
    }

    /// Adds another group's averages (e.g. all nodes together).
    pub fn plus(mut self, other: &Activity) -> Self {
        self.samples = self.samples.max(other.samples);
        self.running += other.running;
        self.lock_wait += other.lock_wait;
        self.other_wait += other.other_wait;
        self.idle_in_transaction += other.idle_in_transaction;
        self.idle += other.idle;
        self
    }

    fn averaged(mut self, samples: u32) -> Self {
        self.samples = samples;
        let n = f64::from(samples.max(1));
        for v in [
            &mut self.running,
            &mut self.lock_wait,
            &mut self.other_wait,
            &mut self.idle_in_transaction,
            &mut self.idle,
        ] {
            *v /= n;
        }
        self
    }
}

/// Averages per `application_name` (the bench names each node's connections after the node).
pub type ByApplication = BTreeMap<String, Activity>;

/// A running sampler; [`Sampler::finish`] stops it and returns the averages.
pub struct Sampler {
    stop: Arc<AtomicBool>,
    task: JoinHandle<Result<ByApplication>>,
}

impl Sampler {
    /// Starts sampling the client backends of database `url` (its own connection excluded).
    pub async fn start(url: &str) -> Result<Self> {
        let (client, connection) = tokio_postgres::connect(url, NoTls)
            .await
            .context("connecting the activity sampler")?;
        tokio::spawn(connection);
        let stop = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn({
            let stop = stop.clone();
            async move {
                let query = client
                    .prepare(
                        "SELECT application_name, state, wait_event_type FROM pg_stat_activity
                         WHERE datname = current_database() AND pid <> pg_backend_pid()
                           AND backend_type = 'client backend'",
                    )
                    .await?;
                let mut acc = ByApplication::new();
                let mut samples = 0;
                let mut tick = tokio::time::interval(EVERY);
                while !stop.load(Ordering::Relaxed) {
                    tick.tick().await;
                    // pg_stat_activity is a snapshot per transaction: each query is its own.
                    for row in client.query(&query, &[]).await? {
                        let app: Option<String> = row.get(0);
                        let state: Option<String> = row.get(1);
                        let wait: Option<String> = row.get(2);
                        acc.entry(app.unwrap_or_default())
                            .or_default()
                            .add(state.as_deref().unwrap_or(""), wait.as_deref());
                    }
                    samples += 1;
                }
                Ok(acc
                    .into_iter()
                    .map(|(app, a)| (app, a.averaged(samples)))
                    .collect())
            }
        });
        Ok(Self { stop, task })
    }

    pub async fn finish(self) -> Result<ByApplication> {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_are_classified_and_averaged_per_sample() {
        let mut a = Activity::default();
        for _ in 0..2 {
            a.add("active", None);
            a.add("active", Some("Lock"));
            a.add("active", Some("LWLock"));
            a.add("idle in transaction", Some("Client"));
            a.add("idle", Some("Client"));
            a.add("idle", Some("Client"));
        }
        let a = a.averaged(2);
        assert_eq!((a.running, a.lock_wait, a.other_wait), (1.0, 1.0, 1.0));
        assert_eq!((a.idle_in_transaction, a.idle, a.total()), (1.0, 2.0, 6.0));
        let both = a.plus(&a);
        assert_eq!((both.samples, both.idle, both.total()), (2, 4.0, 12.0));
    }
}
