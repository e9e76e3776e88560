//! Which storage backend a [`crate::TestServer`] runs on, and the throwaway PostgreSQL
//! databases that back it when the integration suite runs on PostgreSQL.
//!
//! `HONGYAN_TEST_POSTGRES=postgres://…/db` (set by `scripts/test.sh` for its second pass) makes
//! every server that does not choose a backend get its own fresh database on that server,
//! dropped with the server; unset, servers use the embedded SQLite in their data dir.

use std::{
    io,
    path::Path,
    sync::atomic::{AtomicU64, Ordering},
    time::{SystemTime, UNIX_EPOCH},
};

use tokio_postgres::NoTls;

/// The file in a given data dir that names the database of the servers started on it.
pub const DATA_DIR_MARKER: &str = ".hongyan-test-postgres";

/// The environment variable naming the PostgreSQL server for the PostgreSQL pass.
pub const TEST_POSTGRES_ENV: &str = "HONGYAN_TEST_POSTGRES";

/// The PostgreSQL server URL of the PostgreSQL pass, when this run is one.
pub fn test_postgres() -> Option<String> {
    std::env::var(TEST_POSTGRES_ENV)
        .ok()
        .filter(|url| !url.trim().is_empty())
}

/// A server's storage, chosen with [`crate::ServerBuilder::sqlite`] /
/// [`crate::ServerBuilder::postgres`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Backend {
    /// A fresh database on `$HONGYAN_TEST_POSTGRES` when it is set, else SQLite.
    #[default]
    FromEnv,
    /// The embedded SQLite in the data dir.
    Sqlite,
    /// This PostgreSQL database, used as it is and kept (e.g. the one a cluster's nodes share).
    Postgres(String),
}

/// A database created for one test on an existing PostgreSQL server; dropped (its open
/// sessions ended) on drop.
#[derive(Debug)]
pub struct TestDatabase {
    /// Where `CREATE/DROP DATABASE` run: the URL the database was created from.
    admin_url: String,
    name: String,
    url: String,
    /// Left in place on drop (see [`Self::for_data_dir`]).
    kept: bool,
}

impl TestDatabase {
    /// Creates an empty database with a unique name on the server of `server_url` (any
    /// database URL on it whose user may create databases).
    pub async fn create(server_url: &str) -> io::Result<Self> {
        static COUNT: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "test_{}_{}_{nanos}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        );
        let client = connect(server_url).await?;
        client
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .await
            .map_err(|e| io::Error::other(format!("CREATE DATABASE {name}: {e}")))?;
        Ok(Self {
            admin_url: server_url.to_owned(),
            url: with_database(server_url, &name)?,
            name,
            kept: false,
        })
    }

    /// The database that belongs to the data dir `dir`, created on first use and named in
    /// `dir/`[`DATA_DIR_MARKER`], so a server started again on the same data dir (a restart
    /// from a test's point of view) finds its data. It outlives the server, like the data dir;
    /// the pass's throwaway PostgreSQL takes it along at the end.
    pub async fn for_data_dir(server_url: &str, dir: &Path) -> io::Result<String> {
        let marker = dir.join(DATA_DIR_MARKER);
        if let Ok(url) = std::fs::read_to_string(&marker) {
            return Ok(url.trim().to_owned());
        }
        std::fs::create_dir_all(dir)?;
        let mut db = Self::create(server_url).await?;
        std::fs::write(&marker, db.url())?;
        db.kept = true;
        Ok(db.url.clone())
    }

    /// The database's URL (for `--postgres`).
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if self.kept {
            return;
        }
        // Drop may run inside a runtime (a test) or outside one: use a thread of its own.
        let (url, name) = (self.admin_url.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(async {
                let client = connect(&url).await.map_err(|e| e.to_string())?;
                // WITH (FORCE): a killed server's sessions may not have ended yet.
                client
                    .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .await
                    .map_err(|e| e.to_string())
            })
        })
        .join();
        if let Ok(Err(e)) = dropped {
            eprintln!("dropping test database {}: {e}", self.name);
        }
    }
}

async fn connect(url: &str) -> io::Result<tokio_postgres::Client> {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .map_err(|e| io::Error::other(format!("connecting to {url}: {e}")))?;
    tokio::spawn(connection);
    Ok(client)
}

/// `url` with its database (the path) replaced by `name`, query kept.
fn with_database(url: &str, name: &str) -> io::Result<String> {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_start = base
        .find("://")
        .map(|i| i + 3)
        .ok_or_else(|| io::Error::other(format!("not a postgres:// URL: {url:?}")))?;
    let server = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    Ok(match query {
        Some(q) => format!("{server}/{name}?{q}"),
        None => format!("{server}/{name}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_database_of_a_url() {
        let at = |u: &str| with_database(u, "t1").expect("a URL");
        assert_eq!(
            at("postgres://hongyan@127.0.0.1:5432/hongyan"),
            "postgres://hongyan@127.0.0.1:5432/t1"
        );
        assert_eq!(at("postgres://h@db:1"), "postgres://h@db:1/t1");
        assert_eq!(
            at("postgresql://h:pw@db/x?sslmode=disable"),
            "postgresql://h:pw@db/t1?sslmode=disable"
        );
        assert!(with_database("hongyan", "t1").is_err());
    }
}
