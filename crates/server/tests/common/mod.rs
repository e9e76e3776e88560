//! Helpers for the integration tests: start the real binary (through `hongyan-tests`),
//! speak the raw protocol.
#![allow(dead_code)]

pub mod deployment;

use std::{net::SocketAddr, path::Path, process::ExitStatus, time::Duration};

use bytes::{BufMut, Bytes, BytesMut};
use futures_util::{SinkExt, StreamExt};
use hongyan_protocol::{Envelope, FrameCodec, LoginInfo, PacketType};
use hongyan_tests::ServerBuilder;
use serde_json::{json, Value};
use tokio::{io::AsyncWriteExt, net::TcpStream};
use tokio_tungstenite::{tungstenite::Message, MaybeTlsStream, WebSocketStream};
use tokio_util::codec::Framed;

/// How long any single wait in a test may take.
pub const WAIT: Duration = Duration::from_secs(5);
pub const PASSWORD: &str = "password123";

/// A running `hongyan-server` (the process itself is `hongyan_tests::TestServer`) with an
/// HTTP client and raw-protocol helpers.
pub struct TestServer {
    process: hongyan_tests::TestServer,
    pub http: SocketAddr,
    pub tcp: SocketAddr,
    http_client: reqwest::Client,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// Starts with `--friends-only false`, whatever the default: these tests are about the
    /// protocol and chat between strangers; the policy has its own tests
    /// ([`TestServer::start_friends_only`]).
    pub async fn start_with(extra: &[&str]) -> Self {
        Self::launch(builder().friends_only(false).args(extra)).await
    }

    /// Starts with `--friends-only true` (what the issue-5 tests run against).
    pub async fn start_friends_only() -> Self {
        Self::launch(builder().friends_only(true)).await
    }

    /// One node of a deployment (docs/DEPLOY.md): database `postgres` (shared by the nodes),
    /// `--nats nats`, `--node-name name`, `--friends-only false` like [`TestServer::start_with`].
    pub async fn start_node(postgres: &str, nats: &str, name: &str) -> Self {
        Self::launch(builder().postgres(postgres).friends_only(false).args([
            "--nats",
            nats,
            "--node-name",
            name,
        ]))
        .await
    }

    /// `/readyz`: the status and the reasons given (none when ready).
    pub async fn readyz(&self) -> (u16, Vec<String>) {
        let (status, body) = self.get("/readyz", None).await;
        let reasons = body["reasons"]
            .as_array()
            .map(|r| {
                r.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        (status, reasons)
    }

    /// The value of one series in `/metrics` (e.g. `hongyan_delivery_seconds_count`); 0 if
    /// absent.
    pub async fn metric(&self, series: &str) -> f64 {
        let text = self
            .http_client
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics body");
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    }

    /// The process handle (admin helpers of the shared harness).
    pub fn process(&self) -> &hongyan_tests::TestServer {
        &self.process
    }

    /// Any method with a bearer token, a JSON body and extra headers.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        let mut req = self.http_client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        status_json(req.send().await.expect("request")).await
    }

    /// POST with a bearer token.
    pub async fn post_as(&self, token: &str, path: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, Some(token), Some(body), &[])
            .await
    }

    /// DELETE with a bearer token.
    pub async fn delete_as(&self, token: &str, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::DELETE, path, Some(token), None, &[])
            .await
    }

    /// `/api/v1/sync` declaring `core_level` in the headers.
    pub async fn sync_at(&self, token: &str, after: i64, core_level: u32) -> Vec<Envelope> {
        let level = core_level.to_string();
        let (status, body) = self
            .call(
                reqwest::Method::GET,
                &format!("/api/v1/sync?after={after}&limit=500"),
                Some(token),
                None,
                &[
                    ("platform", "linux"),
                    ("app_version", "0.1.0"),
                    ("core_level", &level),
                ],
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .map(|m| serde_json::from_value(m.clone()).expect("envelope"))
            .collect()
    }

    /// Makes `a` and `b` friends through a request and its acceptance.
    pub async fn befriend(&self, a: (&str, &str), b: (&str, &str)) {
        let (st, req) = self
            .post_as(a.1, "/api/v1/friends/requests", json!({"to": b.0}))
            .await;
        assert_eq!(st, 201, "{req}");
        let id = req["id"].as_i64().expect("request id");
        let (st, body) = self
            .post_as(
                b.1,
                &format!("/api/v1/friends/requests/{id}/accept"),
                json!({}),
            )
            .await;
        assert_eq!(st, 200, "{body}");
    }

    /// Starts on `data_dir` (which outlives the server: restart tests reuse it), with
    /// `--friends-only false` like [`TestServer::start_with`].
    pub async fn start_in(data_dir: &Path, extra: &[&str]) -> Self {
        Self::launch(builder().data_dir(data_dir).friends_only(false).args(extra)).await
    }

    async fn launch(builder: ServerBuilder) -> Self {
        let process = builder.start().await;
        Self {
            http: process.http_addr(),
            tcp: process.tcp_addr(),
            process,
            http_client: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .expect("client"),
        }
    }

    pub fn data_dir(&self) -> &Path {
        self.process.data_dir()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.http)
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http_client
    }

    /// Sends SIGTERM and waits for the exit status.
    pub async fn terminate(&mut self) -> ExitStatus {
        self.process.terminate().await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let resp = self
            .http_client
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .expect("post");
        status_json(resp).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let mut req = self.http_client.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        status_json(req.send().await.expect("get")).await
    }

    /// Registers `name` and returns its user id.
    pub async fn register(&self, name: &str) -> String {
        let (status, body) = self
            .post(
                "/api/v1/register",
                json!({"username": name, "password": PASSWORD}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["user_id"].as_str().expect("user_id").to_owned()
    }

    /// Logs in over HTTP: (user id, token).
    pub async fn login(&self, name: &str) -> (String, String) {
        let (status, body) = self
            .post(
                "/api/v1/login",
                json!({"username": name, "password": PASSWORD}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        (
            body["user_id"].as_str().expect("user_id").to_owned(),
            body["token"].as_str().expect("token").to_owned(),
        )
    }

    /// Registers and logs in: (user id, token).
    pub async fn account(&self, name: &str) -> (String, String) {
        self.register(name).await;
        self.login(name).await
    }

    /// `/api/v1/sync` for a token.
    pub async fn sync(&self, token: &str, after: i64, limit: u32) -> (Vec<Envelope>, bool) {
        let (status, body) = self
            .get(
                &format!("/api/v1/sync?after={after}&limit={limit}"),
                Some(token),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let msgs = body["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .map(|m| serde_json::from_value(m.clone()).expect("envelope"))
            .collect();
        (msgs, body["more"].as_bool().expect("more"))
    }

    pub async fn ws(&self) -> Conn {
        let url = format!("ws://{}/websocket?client=test", self.http);
        let (ws, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(url))
            .await
            .expect("ws connect in time")
            .expect("ws connect");
        Conn::Ws(Box::new(ws))
    }

    pub async fn tcp(&self) -> Conn {
        let stream = TcpStream::connect(self.tcp).await.expect("tcp connect");
        Conn::Tcp(Framed::new(stream, FrameCodec::new(1 << 20)))
    }
}

/// This crate's own binary; server logs only with `HONGYAN_TEST_LOG` set.
fn builder() -> ServerBuilder {
    hongyan_tests::TestServer::builder()
        .bin(env!("CARGO_BIN_EXE_hongyan-server"))
        .quiet(std::env::var_os("HONGYAN_TEST_LOG").is_none())
}

async fn status_json(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, value)
}

/// A raw long connection.
pub enum Conn {
    Ws(Box<WebSocketStream<MaybeTlsStream<TcpStream>>>),
    Tcp(Framed<TcpStream, FrameCodec>),
}

impl Conn {
    /// Sends one raw frame body.
    pub async fn send_raw(&mut self, body: &str) {
        match self {
            Conn::Ws(ws) => ws
                .send(Message::Text(body.to_owned().into()))
                .await
                .expect("ws send"),
            Conn::Tcp(framed) => framed
                .send(Bytes::from(body.to_owned()))
                .await
                .expect("tcp send"),
        }
    }

    pub async fn send(&mut self, env: &Envelope) {
        self.send_raw(&env.encode()).await;
    }

    /// Writes a TCP length prefix announcing `len` bytes (and no body).
    pub async fn send_tcp_length(&mut self, len: u32) {
        let Conn::Tcp(framed) = self else {
            panic!("tcp only")
        };
        let mut b = BytesMut::new();
        b.put_u32(len);
        framed.get_mut().write_all(&b).await.expect("write");
    }

    /// Next envelope; `None` if the connection closed. Panics after [`WAIT`].
    pub async fn recv(&mut self) -> Option<Envelope> {
        self.recv_within(WAIT)
            .await
            .unwrap_or_else(|| panic!("no frame within {WAIT:?}"))
    }

    /// `None` on timeout, `Some(None)` on close, `Some(Some(env))` on a frame.
    pub async fn recv_within(&mut self, wait: Duration) -> Option<Option<Envelope>> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let next = match self {
                Conn::Ws(ws) => match tokio::time::timeout_at(deadline, ws.next()).await.ok()? {
                    Some(Ok(Message::Text(t))) => Some(Bytes::from(t.as_str().to_owned())),
                    Some(Ok(Message::Binary(b))) => Some(b),
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => None,
                    Some(Ok(_)) => continue,
                },
                Conn::Tcp(framed) => {
                    match tokio::time::timeout_at(deadline, framed.next())
                        .await
                        .ok()?
                    {
                        Some(Ok(b)) => Some(b),
                        Some(Err(_)) | None => None,
                    }
                }
            };
            return Some(
                next.map(|b| Envelope::decode_unbounded(&b).expect("server frame decodes")),
            );
        }
    }

    /// Asserts that the server closes the connection (after any frames it still sends).
    pub async fn expect_closed(&mut self) {
        for _ in 0..10 {
            match self.recv().await {
                None => return,
                Some(env) if env.packet_type == PacketType::Kickout => continue,
                Some(env) => panic!("expected close, got {env:?}"),
            }
        }
        panic!("connection not closed");
    }

    /// Asserts that nothing arrives for `wait`.
    pub async fn expect_silence(&mut self, wait: Duration) {
        if let Some(got) = self.recv_within(wait).await {
            panic!("expected silence, got {got:?}");
        }
    }

    /// Logs in with a Hongyan login frame; returns the login response payload.
    pub async fn login(
        &mut self,
        user_id: &str,
        token: &str,
        flt: i64,
    ) -> hongyan_protocol::LoginResponse {
        let info = LoginInfo {
            login_user_id: user_id.to_owned(),
            login_token: token.to_owned(),
            extra: Some(
                r#"{"platform":"linux","app_version":"0.1.0","core_level":261124,"device":"test"}"#
                    .into(),
            ),
            first_login_time: flt,
        };
        self.send(&Envelope::login(&info)).await;
        let resp = self.recv().await.expect("login response");
        assert_eq!(resp.packet_type, PacketType::LoginResp);
        resp.payload().expect("login payload")
    }

    /// Logs in declaring `core_level` in the login extra; asserts success.
    pub async fn login_at(&mut self, user_id: &str, token: &str, flt: i64, core_level: u32) {
        let extra = json!({"platform": "linux", "app_version": "0.1.0",
                           "core_level": core_level, "device": "test"});
        let info = LoginInfo {
            login_user_id: user_id.to_owned(),
            login_token: token.to_owned(),
            extra: Some(extra.to_string()),
            first_login_time: flt,
        };
        self.send(&Envelope::login(&info)).await;
        let resp = self.recv().await.expect("login response");
        let resp: hongyan_protocol::LoginResponse = resp.payload().expect("login payload");
        assert_eq!(resp.code, 0, "{resp:?}");
    }

    /// The next frame, which must be a type-2 push of `typeu`.
    pub async fn expect_kind(&mut self, typeu: i32) -> Envelope {
        let env = self.recv().await.expect("a frame");
        assert_eq!(
            (env.packet_type, env.typeu),
            (PacketType::CommonData, typeu),
            "{env:?}"
        );
        env
    }

    /// Next frame, asserting it is an error 52; returns (code, fp).
    pub async fn expect_error(&mut self) -> (i32, Option<String>) {
        let env = self.recv().await.expect("error frame");
        assert_eq!(env.packet_type, PacketType::Error, "{env:?}");
        let err: hongyan_protocol::ErrorResponse = env.payload().expect("error payload");
        assert!(!err.error_msg.is_empty());
        (err.error_code, err.fp)
    }
}

/// The login frame a stock MobileIMSDK v6 client writes (Gson: nulls omitted, no extra).
pub fn stock_login(user_id: &str, token: &str, flt: i64) -> String {
    let data =
        json!({"loginUserId": user_id, "loginToken": token, "firstLoginTime": flt}).to_string();
    json!({
        "bridge": false, "type": 0, "dataContent": data, "from": user_id, "to": "0",
        "QoS": false, "typeu": -1, "sm": -1
    })
    .to_string()
}
