//! What only the PostgreSQL backend has, against a real PostgreSQL (`hongyan_tests::PgServer`):
//! schema migrations (concurrent, repeated, a newer schema refused) and connection errors.
//! Everything the `Storage` trait promises (accounts, mailboxes, friends, groups, notices,
//! media, concurrency) is checked on both backends by the conformance suite,
//! `tests/store_conformance.rs`.

use hongyan_server::store::{
    postgres::{migrate, PostgresStore},
    StoreError,
};
use hongyan_tests::PgServer;

async fn user(store: &PostgresStore, name: &str) -> i64 {
    store
        .create_user(name.into(), name.into(), "hash".into())
        .await
        .expect("create")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_apply_once_even_when_nodes_connect_together() {
    let pg = PgServer::start().await;
    let url = pg.url();
    // Two nodes starting at once: the advisory lock makes one wait for the other.
    let (a, b) = tokio::join!(PostgresStore::connect(&url), PostgresStore::connect(&url));
    let (a, b) = (a.expect("first connect"), b.expect("second connect"));
    // A third, later connect finds the schema current and changes nothing.
    let c = PostgresStore::connect(&url).await.expect("reconnect");
    let id = user(&a, "alice").await;
    assert_eq!(
        b.user_by_id(id).await.expect("read").map(|u| u.id),
        Some(id)
    );
    assert!(c.user_exists(id).await.expect("exists"));

    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("raw connect");
    tokio::spawn(conn);
    let versions: Vec<i32> = client
        .query(
            "SELECT version FROM schema_migrations ORDER BY version",
            &[],
        )
        .await
        .expect("versions")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        versions,
        (1..=migrate::latest_version()).collect::<Vec<_>>()
    );

    // A database from a newer server is refused, not silently used.
    client
        .execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, 0)",
            &[&(migrate::latest_version() + 1)],
        )
        .await
        .expect("fake newer version");
    let err = PostgresStore::connect(&url)
        .await
        .expect_err("newer schema");
    assert!(err.to_string().contains("newer than this server"), "{err}");
}

/// A "database" that accepts connections and never answers (a hung server, a black-holed
/// proxy): connecting fails after `CONNECT_TIMEOUT` instead of hanging the node's start.
#[tokio::test]
async fn a_server_that_never_answers_is_an_error_not_a_hang() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!(
        "postgres://hongyan@{}/hongyan",
        listener.local_addr().expect("addr")
    );
    let started = std::time::Instant::now();
    let limit = hongyan_server::store::postgres::CONNECT_TIMEOUT * 3;
    let answer = tokio::time::timeout(limit, PostgresStore::connect(&url)).await;
    let err = answer
        .expect("connect gave up by itself")
        .expect_err("no answer");
    assert!(
        started.elapsed() >= hongyan_server::store::postgres::CONNECT_TIMEOUT,
        "{err:?}"
    );
    assert!(matches!(err, StoreError::PostgresSetup(_)), "{err:?}");
    drop(listener);
}

#[tokio::test]
async fn a_bad_url_or_unreachable_server_is_a_clear_error() {
    let err = PostgresStore::connect("not a url")
        .await
        .expect_err("bad url");
    assert!(matches!(err, StoreError::PostgresSetup(_)), "{err:?}");
    let pg = PgServer::start().await;
    let url = pg.url();
    drop(pg);
    let err = PostgresStore::connect(&url).await.expect_err("server gone");
    assert!(matches!(err, StoreError::Postgres(_)), "{err:?}");
}
