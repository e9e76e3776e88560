//! Real SDK clients for the integration tests, with fast timers and their own data dirs.

use std::{path::Path, sync::Arc, time::Duration};

use hongyan_sdk::{
    model::FriendRequestStatus, Client, ClientConfig, ConnectionState, Event, Message,
    MessageStatus, SecretBackend, Timing, Transport,
};
use tempfile::TempDir;
use tokio::sync::broadcast::{self, error::RecvError};

use crate::TestServer;

/// How long a test waits for anything to happen before it fails.
pub const WAIT: Duration = Duration::from_secs(20);

/// Which long connection a test client uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Ws,
    Tcp,
}

/// Timers short enough for tests but with MobileIMSDK's shape.
pub fn fast_timing() -> Timing {
    Timing {
        heartbeat: Duration::from_millis(1000),
        dead_link: Duration::from_millis(3000),
        connect_timeout: Duration::from_secs(5),
        qos_check: Duration::from_millis(300),
        qos_min_age: Duration::from_millis(500),
        qos_max_retries: 2,
        backoff_min: Duration::from_millis(100),
        backoff_max: Duration::from_millis(800),
        http_timeout: Duration::from_secs(10),
    }
}

/// A logged-in SDK client and the event stream it was subscribed to before login.
pub struct TestClient {
    pub client: Client,
    pub events: broadcast::Receiver<Event>,
    pub user_id: String,
    pub username: String,
    pub password: String,
    pub dir: Arc<TempDir>,
    server_url: String,
    via: Via,
    tcp: String,
    core_level: u32,
}

impl TestClient {
    /// The config a test client uses against `server_url` (the server or a proxy in front).
    pub fn config(server_url: &str, tcp_addr: &str, via: Via, dir: &TempDir) -> ClientConfig {
        Self::config_at(server_url, tcp_addr, via, dir.path())
    }

    /// [`Self::config`] for a data dir given by path (a client in another process, e.g.
    /// `hongyan-sdk-peer`, on a test client's profile).
    pub fn config_at(server_url: &str, tcp_addr: &str, via: Via, dir: &Path) -> ClientConfig {
        let mut config = ClientConfig::new(server_url, dir);
        config.transport = match via {
            Via::Ws => Transport::WebSocket,
            Via::Tcp => Transport::Tcp {
                addr: tcp_addr.to_owned(),
            },
        };
        config.app_version = "0.1.0".into();
        config.device = "integration-test".into();
        config.secrets = SecretBackend::Auto;
        config.timing = fast_timing();
        config
    }

    /// Registers `username` and logs in over `via`.
    pub async fn register(server: &TestServer, username: &str, via: Via) -> Self {
        Self::register_at(&server.url(), &server.tcp_addr().to_string(), username, via).await
    }

    /// Registers `username` with an SDK that announces `core_level` (an older or newer
    /// client core than this build's).
    pub async fn register_with_core_level(
        server: &TestServer,
        username: &str,
        via: Via,
        core_level: u32,
    ) -> Self {
        Self::register_full(
            &server.url(),
            &server.tcp_addr().to_string(),
            username,
            via,
            fast_timing(),
            core_level,
        )
        .await
    }

    /// Registers and logs in through `server_url` (e.g. a [`crate::proxy::FaultProxy`]).
    pub async fn register_at(server_url: &str, tcp: &str, username: &str, via: Via) -> Self {
        Self::register_with_timing(server_url, tcp, username, via, fast_timing()).await
    }

    /// [`Self::register_at`] with other timers.
    pub async fn register_with_timing(
        server_url: &str,
        tcp: &str,
        username: &str,
        via: Via,
        timing: Timing,
    ) -> Self {
        let level = hongyan_sdk::CORE_LEVEL;
        Self::register_full(server_url, tcp, username, via, timing, level).await
    }

    async fn register_full(
        server_url: &str,
        tcp: &str,
        username: &str,
        via: Via,
        timing: Timing,
        core_level: u32,
    ) -> Self {
        let dir = Arc::new(tempfile::tempdir().expect("client dir"));
        let password = format!("{username}-secret-pw");
        let mut config = Self::config(server_url, tcp, via, &dir);
        config.timing = timing;
        config.core_level = core_level;
        let client = Client::new(config).expect("client");
        client
            .register(username, &password, None)
            .await
            .expect("register");
        let events = client.events();
        let account = client.login(username, &password).await.expect("login");
        Self {
            client,
            events,
            user_id: account.user_id.clone(),
            username: username.to_owned(),
            password,
            dir,
            server_url: server_url.to_owned(),
            via,
            tcp: tcp.to_owned(),
            core_level,
        }
    }

    /// Makes `self` and `other` friends through the real API, as two people would: `self`
    /// sends a request and `other` accepts it.
    pub async fn befriend(&self, other: &TestClient) {
        let request = self
            .client
            .send_friend_request(&other.user_id, &format!("hi, I am {}", self.username))
            .await
            .expect("send a friend request");
        let accepted = other
            .client
            .accept_friend_request(request.id)
            .await
            .expect("accept the friend request");
        assert_eq!(accepted.status, FriendRequestStatus::Accepted);
    }

    /// A second, independent client (own data dir, own firstLoginTime) for the same account.
    pub async fn another_device(&self) -> Self {
        let (url, tcp) = (self.server_url.clone(), self.tcp.clone());
        self.another_device_at(&url, &tcp).await
    }

    /// [`Self::another_device`] configured with another server URL (e.g. another node of a
    /// cluster): a fresh local store there, filled by sync.
    pub async fn another_device_at(&self, server_url: &str, tcp: &str) -> Self {
        let dir = Arc::new(tempfile::tempdir().expect("client dir"));
        let mut config = Self::config(server_url, tcp, self.via, &dir);
        config.core_level = self.core_level;
        let client = Client::new(config).expect("client");
        let events = client.events();
        client
            .login(&self.username, &self.password)
            .await
            .expect("login on another device");
        Self {
            client,
            events,
            user_id: self.user_id.clone(),
            username: self.username.clone(),
            password: self.password.clone(),
            dir,
            server_url: server_url.to_owned(),
            via: self.via,
            tcp: tcp.to_owned(),
            core_level: self.core_level,
        }
    }

    /// Shuts the client down (as when the app quits) and starts a new one on the same data
    /// dir that resumes the saved session without a password.
    pub async fn restart(self) -> Self {
        let level = self.core_level;
        self.restart_with_core_level(level).await
    }

    /// [`Self::restart`] with an app whose SDK announces `core_level` (an upgrade).
    pub async fn restart_with_core_level(self, core_level: u32) -> Self {
        self.restart_full(core_level, async {}).await
    }

    /// [`Self::restart`], running `between` after the old client stopped and before the new
    /// one resumes (e.g. to break a connection the old one left behind).
    pub async fn restart_after(self, between: impl std::future::Future<Output = ()>) -> Self {
        let level = self.core_level;
        self.restart_full(level, between).await
    }

    async fn restart_full(
        self,
        core_level: u32,
        between: impl std::future::Future<Output = ()>,
    ) -> Self {
        let Self {
            client,
            user_id,
            username,
            password,
            dir,
            server_url,
            via,
            tcp,
            ..
        } = self;
        client.shutdown().await;
        drop(client);
        between.await;
        let mut config = Self::config(&server_url, &tcp, via, &dir);
        config.core_level = core_level;
        let client = Client::new(config).expect("client");
        let events = client.events();
        let account = client
            .resume()
            .await
            .expect("resume")
            .expect("a saved session to resume");
        assert_eq!(account.user_id, user_id);
        Self {
            client,
            events,
            user_id,
            username,
            password,
            dir,
            server_url,
            via,
            tcp,
            core_level,
        }
    }

    /// Sends a text and returns the stored message (status `Sending`).
    pub async fn send(&self, to: &str, text: &str) -> Message {
        self.client.send_text(to, text).await.expect("send_text")
    }

    /// Waits for the next event that `pick` accepts.
    pub async fn wait_for<T>(&mut self, mut pick: impl FnMut(&Event) -> Option<T>) -> T {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let event = tokio::time::timeout_at(deadline, self.events.recv())
                .await
                .expect("timed out waiting for an event");
            match event {
                Ok(event) => {
                    if let Some(v) = pick(&event) {
                        return v;
                    }
                }
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => panic!("event stream closed"),
            }
        }
    }

    /// Waits until the client is connected and logged in.
    pub async fn wait_connected(&mut self) {
        if self.client.connection_state() == ConnectionState::Connected {
            return;
        }
        self.wait_for(|e| {
            matches!(e, Event::ConnectionStateChanged(ConnectionState::Connected)).then_some(())
        })
        .await
    }

    /// Waits until the message `id` reaches a status `accept` likes.
    pub async fn wait_status(&mut self, id: &str, accept: impl Fn(&MessageStatus) -> bool) {
        // It may already be there.
        if self.stored_status(id).await.as_ref().is_some_and(&accept) {
            return;
        }
        let deadline = tokio::time::Instant::now() + WAIT;
        while tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
            if self.stored_status(id).await.as_ref().is_some_and(&accept) {
                return;
            }
        }
        panic!(
            "message {id} never reached the expected status (now {:?})",
            self.stored_status(id).await
        );
    }

    async fn stored_status(&self, id: &str) -> Option<MessageStatus> {
        self.client
            .message(id)
            .await
            .expect("read message")
            .map(|m| m.status)
    }

    /// The whole conversation with `peer`, oldest first, paged the way the app pages it.
    pub async fn conversation(&self, peer: &str) -> Vec<Message> {
        let mut all = Vec::new();
        let mut before = None;
        loop {
            let page = self
                .client
                .history(peer, before.clone(), 17)
                .await
                .expect("history");
            let Some(last) = page.last() else { break };
            before = Some(last.cursor());
            all.extend(page);
        }
        all.reverse();
        all
    }

    /// Polls the store until the conversation with `peer` holds `n` messages.
    pub async fn wait_conversation_len(&self, peer: &str, n: usize) -> Vec<Message> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let conv = self.conversation(peer).await;
            if conv.len() >= n || tokio::time::Instant::now() > deadline {
                return conv;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Asserts that `messages` are exactly `expected` texts, in order, each once.
pub fn assert_texts(messages: &[Message], expected: &[String]) {
    let got: Vec<&str> = messages.iter().map(|m| m.content.as_str()).collect();
    let want: Vec<&str> = expected.iter().map(String::as_str).collect();
    assert_eq!(got, want, "conversation differs from what was sent");
    let mut ids: Vec<&str> = messages.iter().map(|m| m.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), messages.len(), "a message is duplicated");
}

/// Polls `check` (every 50 ms) until it is true; panics after [`WAIT`] naming `what`.
pub async fn wait_until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether an own message reached the server: Sent, or already Delivered / Read (the
/// recipient's receipts can overtake a test that looks for Sent).
pub fn acked(status: &MessageStatus) -> bool {
    matches!(
        status,
        MessageStatus::Sent | MessageStatus::Delivered | MessageStatus::Read
    )
}
