//! The harness's external servers for many nodes (issue 8): a real PostgreSQL and a real
//! nats-server on loopback, started and stopped by the test, leaving no process behind.

use std::{path::Path, time::Duration};

use futures_util::StreamExt;
use hongyan_tests::{daemon::children_of, NatsServer, PgServer};
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
