//! Secrets never leak (docs/RELIABILITY.md, "Secrets"): the real server at `RUST_LOG=trace`
//! and real SDK clients with every `tracing` event (and every `log` record of their
//! dependencies) captured at trace level register, log in, chat over WS and TCP, upload an
//! image and sync on a second device; then neither log holds a password, a token or a
//! message body. And the token is kept only in the secret store, never in the account's
//! files (SQLite store, WAL, config, media cache).

use std::{
    io::Write,
    path::Path,
    sync::{Arc, Mutex},
};

use hongyan_sdk::{
    config::host_port,
    media::{sample, ImageQuality},
    secrets::{SecretKey, SecretStore},
    SecretBackend,
};
use hongyan_tests::{acked, TestClient, TestServer, Via};

/// Message bodies nobody else would write, so a hit can only be a leak.
const BODY_TO_BOB: &str = "body-7c1e: the owl flies at midnight";
const BODY_TO_ALICE: &str = "body-93fa: 月落乌啼霜满天";

/// Everything the clients of this test process log, at trace level.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// Installs the process-wide subscriber (also bridging the `log` crate) writing here:
    /// everything at `trace`, with the caps the app and the CLI add to their filters.
    fn install() -> Self {
        let captured = Self::default();
        let writer = captured.clone();
        let mut filter = tracing_subscriber::EnvFilter::new("trace");
        for directive in hongyan_sdk::LOG_REDACTION_DIRECTIVES {
            filter = filter.add_directive(directive.parse().expect("directive"));
        }
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .try_init()
            .expect("the only subscriber in this test binary");
        captured
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }
}

/// The token `client` holds now, read from its secret store.
fn current_token(server: &TestServer, client: &TestClient) -> String {
    let backend = client.client.secret_backend().expect("resolved at login");
    let url = server.url().parse().expect("server url");
    let key = SecretKey {
        name: format!("{}/{}", host_port(&url), client.user_id),
        dir: client.client.account_dir(&client.user_id),
    };
    SecretStore::new(backend)
        .get(&key)
        .expect("secret store")
        .expect("a token after login")
}

/// The secret forms that must not appear: the text itself and its bytes as hex (how some
/// libraries print payloads).
fn forms(secret: &str) -> [String; 2] {
    let hex: String = secret.bytes().map(|b| format!("{b:02x}")).collect();
    [secret.to_owned(), hex]
}

fn assert_absent(log_name: &str, log: &str, what: &str, secret: &str) {
    for form in forms(secret) {
        if let Some(at) = log.find(&form) {
            let line = log[..at].rsplit('\n').next().unwrap_or_default();
            panic!("the {log_name} log holds a {what} ({form:?}), in a line starting {line:?}");
        }
    }
}

#[tokio::test]
async fn trace_logs_of_server_and_clients_hold_no_password_token_or_body() {
    let logs = tempfile::tempdir().expect("log dir");
    let server_log = logs.path().join("server.log");
    let server = TestServer::builder()
        .log_filter("trace")
        .log_file(&server_log)
        .start()
        .await;
    let client_log = Captured::install();

    let mut alice = TestClient::register(&server, "alice", Via::Ws).await;
    let mut bob = TestClient::register(&server, "bob", Via::Tcp).await;
    alice.wait_connected().await;
    bob.wait_connected().await;
    let mut tokens = vec![current_token(&server, &alice), current_token(&server, &bob)];
    alice.befriend(&bob).await;

    let to_bob = alice.send(&bob.user_id, BODY_TO_BOB).await;
    alice.wait_status(&to_bob.id, acked).await;
    bob.wait_conversation_len(&alice.user_id, 1).await;
    let to_alice = bob.send(&alice.user_id, BODY_TO_ALICE).await;
    bob.wait_status(&to_alice.id, acked).await;
    alice.wait_conversation_len(&bob.user_id, 2).await;

    let photo = sample::jpeg(&sample::photo(640, 480, 9), 90, None);
    let prepared = alice
        .client
        .prepare_image(photo, ImageQuality::Standard)
        .await
        .expect("prepare");
    let image = alice
        .client
        .send_image(&bob.user_id, &prepared)
        .await
        .expect("send_image");
    alice.wait_status(&image.id, acked).await;
    bob.wait_conversation_len(&alice.user_id, 3).await;

    // A second device of bob's fills its store by HTTP sync: the bodies travel once more.
    let bob2 = bob.another_device().await;
    bob2.wait_conversation_len(&alice.user_id, 3).await;
    tokens.push(current_token(&server, &bob2));

    for c in [&alice, &bob, &bob2] {
        c.client.shutdown().await;
    }
    drop(server);
    let server_text = std::fs::read_to_string(&server_log).expect("server log");
    let client_text = client_log.text();

    // The logs are real trace logs of this run (so an empty log cannot pass): the server's
    // logins and connections, the SDK's own events and its dependencies' (bridged from `log`).
    for (name, log) in [("server", &server_text), ("client", &client_text)] {
        assert!(log.contains("TRACE"), "the {name} log has trace lines");
    }
    assert!(server_text.contains("token issued") && server_text.contains(&bob.user_id));
    assert!(client_text.contains("hongyan_sdk::engine") && client_text.contains("tungstenite"));

    for (name, log) in [("server", &server_text), ("client", &client_text)] {
        for password in [&alice.password, &bob.password] {
            assert_absent(name, log, "password", password);
        }
        for token in &tokens {
            assert_absent(name, log, "token", token);
        }
        for body in [BODY_TO_BOB, BODY_TO_ALICE] {
            assert_absent(name, log, "message body", body);
        }
    }
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn the_token_is_only_in_the_secret_store_not_in_the_account_files() {
    let server = TestServer::builder().quiet(true).start().await;
    let alice = TestClient::register(&server, "alice", Via::Ws).await;
    let bob = TestClient::register(&server, "bob", Via::Ws).await;
    alice.befriend(&bob).await;
    let sent = alice.send(&bob.user_id, BODY_TO_BOB).await;
    let mut alice = alice;
    alice.wait_status(&sent.id, acked).await;
    let token = current_token(&server, &alice);
    let backend = alice.client.secret_backend().expect("resolved at login");
    if std::env::var("HONGYAN_KEYRING_TEST").as_deref() == Ok("1") {
        // Under `npm test` a real Secret Service (gnome-keyring) is running.
        assert_eq!(backend, SecretBackend::Keyring);
    }
    alice.client.shutdown().await;

    let files = files_under(alice.dir.path());
    assert!(
        files
            .iter()
            .any(|f| f.file_name().is_some_and(|n| n == "store.sqlite3")),
        "the account's SQLite store is among the files searched: {files:?}"
    );
    for file in &files {
        // Without a keyring the documented fallback is the 0600 `token` file; that file,
        // and only that one, holds the token then.
        if backend == SecretBackend::File
            && file
                .file_name()
                .is_some_and(|n| n == hongyan_sdk::secrets::TOKEN_FILE)
        {
            continue;
        }
        let bytes = std::fs::read(file).expect("read");
        assert!(
            !contains(&bytes, token.as_bytes()),
            "{} holds the token (backend {backend:?})",
            file.display()
        );
        assert!(
            !contains(&bytes, alice.password.as_bytes()),
            "{} holds the password",
            file.display()
        );
    }
    drop(bob);
}
