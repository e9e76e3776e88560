//! Accounts against the real server: register, login, wrong password, the token in the
//! secret store, resume without a password, logout.

use hongyan_sdk::{Client, ConnectionState, Error, SecretBackend};
use hongyan_tests::{TestClient, TestServer, Via};

#[tokio::test]
async fn register_then_login_connects() {
    let server = TestServer::start().await;
    let mut alice = TestClient::register(&server, "alice", Via::Ws).await;
    alice.wait_connected().await;
    assert_eq!(alice.client.connection_state(), ConnectionState::Connected);
    assert_eq!(
        alice.client.user_id().as_deref(),
        Some(alice.user_id.as_str())
    );
    assert!(
        alice.user_id.parse::<u64>().is_ok(),
        "user ids are decimal: {}",
        alice.user_id
    );
}

#[tokio::test]
async fn wrong_password_and_taken_username_are_clear_errors() {
    let server = TestServer::start().await;
    let alice = TestClient::register(&server, "alice", Via::Ws).await;
    let dir = tempfile::tempdir().expect("dir");
    let other = Client::new(TestClient::config(
        &server.url(),
        &server.tcp_addr().to_string(),
        Via::Ws,
        &dir,
    ))
    .expect("client");

    let err = other
        .login("alice", "not-the-password")
        .await
        .expect_err("wrong password");
    assert!(matches!(err, Error::InvalidCredentials), "{err:?}");
    let err = other
        .login("nobody", "whatever-pw")
        .await
        .expect_err("unknown user");
    assert!(matches!(err, Error::InvalidCredentials), "{err:?}");
    let err = other
        .register("ALICE", "another-password", None)
        .await
        .expect_err("taken");
    assert!(matches!(err, Error::UsernameTaken), "{err:?}");
    let err = other
        .register("x", "short", None)
        .await
        .expect_err("invalid");
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
    assert_eq!(other.user_id(), None);
    drop(alice);
}

#[tokio::test]
async fn session_resumes_from_the_secret_store_without_a_password() {
    let server = TestServer::start().await;
    let alice = TestClient::register(&server, "alice", Via::Ws).await;
    let backend = alice.client.secret_backend();
    if std::env::var("HONGYAN_KEYRING_TEST").as_deref() == Ok("1") {
        // Under `npm test` a real Secret Service (gnome-keyring) is running.
        assert_eq!(
            backend,
            Some(SecretBackend::Keyring),
            "token must live in the OS keyring"
        );
    }
    let user_id = alice.user_id.clone();
    let mut alice = alice.restart().await;
    alice.wait_connected().await;
    assert_eq!(alice.client.user_id(), Some(user_id));
}

#[tokio::test]
async fn logout_forgets_the_token() {
    let server = TestServer::start().await;
    let alice = TestClient::register(&server, "alice", Via::Tcp).await;
    alice.client.logout().await.expect("logout");
    assert_eq!(alice.client.user_id(), None);
    alice.client.shutdown().await;

    let again = Client::new(TestClient::config(
        &server.url(),
        &server.tcp_addr().to_string(),
        Via::Tcp,
        &alice.dir,
    ))
    .expect("client");
    assert!(
        again.resume().await.expect("resume").is_none(),
        "no session after logout"
    );
}
