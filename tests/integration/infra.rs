//! The harness's external servers for many nodes (issue 8): a real PostgreSQL and a real
//! nats-server on loopback, started and stopped by the test, leaving no process behind.

use std::{path::Path, time::Duration};

use futures_util::StreamExt;
use hongyan_tests::{daemon::children_of, NatsServer, PgServer, TestDatabase};
use tokio::{sync::mpsc, time::timeout};
use tokio_postgres::NoTls;

const WAIT: Duration = Duration::from_secs(10);

async fn pg_client(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("connect to {url}: {e}"));
    tokio::spawn(connection);
    client
}

#[tokio::test]
async fn postgres_starts_answers_queries_and_stops_without_leftovers() {
    let pg = PgServer::start().await;
    let url = pg.url();
    assert!(url.starts_with("postgres://hongyan@127.0.0.1:"), "{url}");

    let client = pg_client(&url).await;
    let one: i32 = client.query_one("SELECT 1", &[]).await.unwrap().get(0);
    assert_eq!(one, 1);

    // A second, separate database on the same server keeps its own tables.
    let other = pg.create_database("other_db").await.unwrap();
    let other_client = pg_client(&other).await;
    other_client
        .batch_execute("CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('鸿雁')")
        .await
        .unwrap();
    let v: String = other_client
        .query_one("SELECT v FROM t", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(v, "鸿雁");
    assert!(client.query("SELECT v FROM t", &[]).await.is_err());
    assert!(pg.create_database("bad name;").await.is_err());

    // The postmaster's workers and the postmaster itself all go on drop.
    let pid = pg.pid();
    assert!(!children_of(pid).is_empty(), "the postmaster's workers run");
    drop(pg);
    assert_eq!(children_of(pid), Vec::<u32>::new(), "no worker left");
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "postmaster gone"
    );
    assert!(client.query_one("SELECT 1", &[]).await.is_err());
}

#[tokio::test]
async fn postgres_servers_are_independent() {
    let (a, b) = tokio::join!(PgServer::start(), PgServer::start());
    assert_ne!(a.port(), b.port());
    pg_client(&a.url())
        .await
        .batch_execute("CREATE TABLE only_on_a (x INT)")
        .await
        .unwrap();
    let b_client = pg_client(&b.url()).await;
    assert!(b_client
        .batch_execute("SELECT * FROM only_on_a")
        .await
        .is_err());
}

/// Waits (bounded) for the first client event that matches `want`.
async fn wait_for_event(
    events: &mut mpsc::UnboundedReceiver<async_nats::Event>,
    want: fn(&async_nats::Event) -> bool,
) {
    let found = timeout(WAIT, async {
        while let Some(event) = events.recv().await {
            if want(&event) {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(found, Ok(true), "the client event arrives within {WAIT:?}");
}

#[tokio::test]
async fn nats_delivers_and_the_client_notices_it_going_down_and_back() {
    let mut nats = NatsServer::start().await;
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let client = async_nats::ConnectOptions::new()
        .event_callback(move |event| {
            let tx = events_tx.clone();
            async move {
                let _ = tx.send(event);
            }
        })
        .connect(nats.url())
        .await
        .unwrap_or_else(|e| panic!("connect to {}: {e}", nats.url()));
    let mut sub = client.subscribe("hongyan.user.42").await.unwrap();
    client.flush().await.unwrap();

    client
        .publish("hongyan.user.42", "first".into())
        .await
        .unwrap();
    let msg = timeout(WAIT, sub.next()).await.unwrap().unwrap();
    assert_eq!(&msg.payload[..], b"first");

    // NATS goes down: the client sees it.
    nats.kill();
    assert!(!nats.is_running());
    // (Events before it, like the first Connected, are skipped.)
    wait_for_event(&mut events, |e| {
        matches!(e, async_nats::Event::Disconnected)
    })
    .await;
    assert_eq!(
        client.connection_state(),
        async_nats::connection::State::Disconnected
    );

    // Back on the same URL: the client reconnects and its subscription works again.
    nats.restart().await.unwrap();
    wait_for_event(&mut events, |e| matches!(e, async_nats::Event::Connected)).await;
    client.flush().await.unwrap();
    client
        .publish("hongyan.user.42", "second".into())
        .await
        .unwrap();
    let msg = timeout(WAIT, sub.next()).await.unwrap().unwrap();
    assert_eq!(&msg.payload[..], b"second");
}

async fn database_exists(admin: &tokio_postgres::Client, name: &str) -> bool {
    admin
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
        .await
        .unwrap()
        .is_some()
}

/// The PostgreSQL pass's per-server databases: fresh and separate, gone with their owner; the
/// one of a chosen data dir found again on the next start there and kept.
#[tokio::test]
async fn test_databases_are_fresh_per_server_and_follow_their_data_dir() {
    let pg = PgServer::start().await;
    let server = pg.url();
    let admin = pg_client(&server).await;

    let (a, b) = tokio::join!(TestDatabase::create(&server), TestDatabase::create(&server));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_ne!(a.name(), b.name());
    let prefix = format!("postgres://hongyan@127.0.0.1:{}/", pg.port());
    assert_eq!(a.url(), format!("{prefix}{}", a.name()));
    pg_client(a.url())
        .await
        .batch_execute("CREATE TABLE only_in_a (x INT)")
        .await
        .unwrap();
    assert!(pg_client(b.url())
        .await
        .batch_execute("SELECT * FROM only_in_a")
        .await
        .is_err());
    // Dropped even while a session is open on it (a killed server's may linger).
    let lingering = pg_client(a.url()).await;
    let name = a.name().to_owned();
    drop(a);
    assert!(
        !database_exists(&admin, &name).await,
        "dropped with its owner"
    );
    assert!(lingering.query_one("SELECT 1", &[]).await.is_err());
    assert!(database_exists(&admin, b.name()).await);

    let dir = tempfile::tempdir().unwrap();
    let first = TestDatabase::for_data_dir(&server, dir.path())
        .await
        .unwrap();
    let again = TestDatabase::for_data_dir(&server, dir.path())
        .await
        .unwrap();
    assert_eq!(
        first, again,
        "a start on the same data dir finds its database"
    );
    let other_dir = tempfile::tempdir().unwrap();
    let other = TestDatabase::for_data_dir(&server, other_dir.path())
        .await
        .unwrap();
    assert_ne!(first, other);
    let kept = first.rsplit('/').next().unwrap().to_owned();
    assert!(
        database_exists(&admin, &kept).await,
        "kept like the data dir"
    );
}
