//! Engine and client tests against a tiny in-process fake server (HTTP + WS on one port,
//! TCP on another). End-to-end tests against the real server live in the workspace `tests/`.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use hongyan_protocol::{Envelope, FrameCodec, KickoutInfo, LoginInfo, LoginResponse, PacketType};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, mpsc};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_util::codec::Framed;

use super::*;
use crate::config::Timing;
use crate::model::MessageStatus;

#[derive(Default)]
struct FakeState {
    ws_headers: Vec<Vec<(String, String)>>,
    http_headers: Vec<Vec<(String, String)>>,
    logins: Vec<LoginInfo>,
    frames: Vec<Envelope>,
    sync_messages: Vec<Envelope>,
    no_ack: bool,
    silent: bool,
    login_code: i32,
    login_msg: Option<String>,
}

struct Fake {
    http: SocketAddr,
    tcp: SocketAddr,
    state: Arc<Mutex<FakeState>>,
    push: broadcast::Sender<Option<Envelope>>,
}

impl Fake {
    async fn start() -> Self {
        let state = Arc::new(Mutex::new(FakeState::default()));
        let (push, _) = broadcast::channel(64);
        let http = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let tcp = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let fake = Self {
            http: http.local_addr().expect("addr"),
            tcp: tcp.local_addr().expect("addr"),
            state: state.clone(),
            push: push.clone(),
        };
        let (s, p) = (state.clone(), push.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = http.accept().await {
                tokio::spawn(serve_http_or_ws(stream, s.clone(), p.clone()));
            }
        });
        tokio::spawn(async move {
            while let Ok((stream, _)) = tcp.accept().await {
                let framed = Framed::new(stream, FrameCodec::default());
                let (mut sink, mut stream) = framed.split::<bytes::Bytes>();
                let (in_tx, in_rx) = mpsc::unbounded_channel();
                let (out_tx, mut out_rx) = mpsc::unbounded_channel::<Envelope>();
                tokio::spawn(async move {
                    while let Some(Ok(body)) = stream.next().await {
                        if let Ok(env) = Envelope::decode(&body) {
                            let _ = in_tx.send(env);
                        }
                    }
                });
                tokio::spawn(async move {
                    while let Some(env) = out_rx.recv().await {
                        let body = bytes::Bytes::from(env.encode());
                        if sink.send(body).await.is_err() {
                            break;
                        }
                    }
                });
                tokio::spawn(session(in_rx, out_tx, state.clone(), push.subscribe()));
            }
        });
        fake
    }

    fn url(&self) -> String {
        format!("http://{}", self.http)
    }

    fn with<T>(&self, f: impl FnOnce(&mut FakeState) -> T) -> T {
        f(&mut self.state.lock().expect("lock"))
    }

    /// Sends a frame to every connected client (`None` = drop every connection).
    fn push(&self, env: Option<Envelope>) {
        let _ = self.push.send(env);
    }

    fn chats_with_fp(&self, fp: &str) -> usize {
        self.with(|s| {
            s.frames
                .iter()
                .filter(|e| e.packet_type == PacketType::CommonData && e.fp.as_deref() == Some(fp))
                .count()
        })
    }
}

/// The long-connection side, transport-neutral.
async fn session(
    mut inbound: mpsc::UnboundedReceiver<Envelope>,
    out: mpsc::UnboundedSender<Envelope>,
    state: Arc<Mutex<FakeState>>,
    mut push: broadcast::Receiver<Option<Envelope>>,
) {
    loop {
        tokio::select! {
            env = inbound.recv() => {
                let Some(env) = env else { return };
                let (no_ack, silent, code, msg) = {
                    let mut s = state.lock().expect("lock");
                    s.frames.push(env.clone());
                    (s.no_ack, s.silent, s.login_code, s.login_msg.clone())
                };
                match env.packet_type {
                    PacketType::Login => {
                        let info: LoginInfo = env.payload().expect("login payload");
                        state.lock().expect("lock").logins.push(info.clone());
                        let resp = LoginResponse {
                            code,
                            first_login_time: info.first_login_time,
                            seq: Some(0),
                            core_level: Some(261_125),
                            msg,
                        };
                        let _ = out.send(Envelope::login_response(info.login_user_id, &resp));
                        if code != 0 {
                            return;
                        }
                    }
                    PacketType::Keepalive if !silent => {
                        let _ = out.send(Envelope::keepalive_response(env.from));
                    }
                    PacketType::CommonData if !no_ack => {
                        let fp = env.fp.clone().unwrap_or_default();
                        let _ = out.send(Envelope::ack(env.to, env.from, fp));
                    }
                    PacketType::Logout => return,
                    _ => {}
                }
            }
            p = push.recv() => match p {
                Ok(Some(env)) => { let _ = out.send(env); }
                _ => return,
            }
        }
    }
}

#[allow(clippy::result_large_err)]
async fn serve_http_or_ws(
    stream: TcpStream,
    state: Arc<Mutex<FakeState>>,
    push: broadcast::Sender<Option<Envelope>>,
) {
    let mut peek = [0_u8; 16];
    let n = stream.peek(&mut peek).await.unwrap_or(0);
    if peek[..n].starts_with(b"GET /websocket") {
        let st = state.clone();
        let callback = move |req: &tokio_tungstenite::tungstenite::handshake::server::Request,
                             resp| {
            let headers = req
                .headers()
                .iter()
                .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
                .collect();
            st.lock().expect("lock").ws_headers.push(headers);
            Ok(resp)
        };
        let Ok(ws) = tokio_tungstenite::accept_hdr_async(stream, callback).await else {
            return;
        };
        let (mut sink, mut rx) = ws.split();
        let (in_tx, in_rx) = mpsc::unbounded_channel();
        let (out_tx, mut out_rx) = mpsc::unbounded_channel::<Envelope>();
        tokio::spawn(async move {
            while let Some(Ok(WsMessage::Text(t))) = rx.next().await {
                if let Ok(env) = Envelope::decode(t.as_bytes()) {
                    let _ = in_tx.send(env);
                }
            }
        });
        tokio::spawn(async move {
            while let Some(env) = out_rx.recv().await {
                if sink.send(WsMessage::text(env.encode())).await.is_err() {
                    break;
                }
            }
            let _ = sink.close().await;
        });
        session(in_rx, out_tx, state, push.subscribe()).await;
        return;
    }
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    if reader.read_line(&mut line).await.is_err() {
        return;
    }
    let target = line.split_whitespace().nth(1).unwrap_or("").to_owned();
    let mut headers = Vec::new();
    let mut len = 0;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).await.unwrap_or(0) == 0 || h == "\r\n" {
            break;
        }
        if let Some((k, v)) = h.trim_end().split_once(':') {
            let (k, v) = (k.trim().to_lowercase(), v.trim().to_owned());
            if k == "content-length" {
                len = v.parse().unwrap_or(0);
            }
            headers.push((k, v));
        }
    }
    let mut body = vec![0; len];
    let _ = reader.read_exact(&mut body).await;
    state.lock().expect("lock").http_headers.push(headers);
    let (status, json) = if target.starts_with("/api/v1/login") {
        (
            "200 OK",
            r#"{"user_id":"10001","token":"tok-1","expires_at":0}"#.to_owned(),
        )
    } else if target == "/api/v1/users/10002" {
        (
            "200 OK",
            r#"{"user_id":"10002","username":"bob","nickname":"Bob B"}"#.to_owned(),
        )
    } else if let Some(q) = target.strip_prefix("/api/v1/users?q=") {
        let users = if "bob".starts_with(q) {
            r#"[{"user_id":"10002","username":"bob","nickname":"Bob B"}]"#
        } else {
            "[]"
        };
        ("200 OK", format!(r#"{{"users":{users}}}"#))
    } else if target.starts_with("/api/v1/logout") {
        ("204 No Content", String::new())
    } else if let Some(q) = target.strip_prefix("/api/v1/sync?") {
        let after: i64 = q
            .split('&')
            .find_map(|kv| kv.strip_prefix("after="))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let msgs: Vec<serde_json::Value> = state
            .lock()
            .expect("lock")
            .sync_messages
            .iter()
            .filter(|e| e.seq.unwrap_or(0) > after)
            .map(|e| serde_json::from_str(&e.encode()).expect("json"))
            .collect();
        (
            "200 OK",
            serde_json::json!({ "messages": msgs, "more": false }).to_string(),
        )
    } else {
        (
            "404 Not Found",
            r#"{"error":{"code":"not_found","message":"no"}}"#.to_owned(),
        )
    };
    let resp = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{json}",
        json.len()
    );
    let _ = reader.get_mut().write_all(resp.as_bytes()).await;
}

fn fast_timing() -> Timing {
    Timing {
        heartbeat: Duration::from_millis(150),
        dead_link: Duration::from_millis(800),
        connect_timeout: Duration::from_secs(2),
        qos_check: Duration::from_millis(100),
        qos_min_age: Duration::from_millis(80),
        qos_max_retries: 2,
        backoff_min: Duration::from_millis(40),
        backoff_max: Duration::from_millis(150),
        http_timeout: Duration::from_secs(2),
    }
}

fn client(fake: &Fake, dir: &std::path::Path, transport: Transport) -> Client {
    client_with(fake, dir, transport, fast_timing())
}

fn client_with(fake: &Fake, dir: &std::path::Path, transport: Transport, timing: Timing) -> Client {
    let mut cfg = ClientConfig::new(fake.url(), dir);
    cfg.transport = transport;
    cfg.secrets = SecretBackend::File;
    cfg.timing = timing;
    cfg.app_version = "0.1.0".into();
    Client::new(cfg).expect("client")
}

async fn next_matching(
    rx: &mut broadcast::Receiver<Event>,
    mut f: impl FnMut(&Event) -> bool,
) -> Event {
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match rx.recv().await {
                Ok(e) if f(&e) => return e,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => panic!("event channel closed"),
            }
        }
    })
    .await
    .expect("timed out waiting for an event")
}

async fn eventually(mut f: impl FnMut() -> bool) {
    tokio::time::timeout(Duration::from_secs(5), async {
        while !f() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("condition never became true");
}

fn incoming(fp: &str, seq: i64, text: &str) -> Envelope {
    let mut e = Envelope::chat("10002", "10001", fp, 1, text);
    e.sm = hongyan_protocol::now_ms() + 1_000 + seq;
    e.seq = Some(seq);
    e
}

#[tokio::test]
async fn login_send_ack_receive_over_websocket() {
    let fake = Fake::start().await;
    let dir = tempfile::tempdir().expect("tmp");
    let c = client(&fake, dir.path(), Transport::WebSocket);
    let mut events = c.events();
    let account = c.login("alice", "pw").await.expect("login");
    assert_eq!(account.user_id, "10001");
    assert_eq!(c.user_id().as_deref(), Some("10001"));
    assert_eq!(c.connection_state(), ConnectionState::Connected);

    // Version facts on the upgrade, on HTTP, and in the login extra.
    let (ws, http, login) = fake.with(|s| {
        (
            s.ws_headers[0].clone(),
            s.http_headers[0].clone(),
            s.logins[0].clone(),
        )
    });
    for headers in [&ws, &http] {
        let get = |k: &str| headers.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        assert_eq!(get("core_level"), Some(crate::CORE_LEVEL.to_string()));
        assert_eq!(get("app_version").as_deref(), Some("0.1.0"));
        assert!(get("platform").is_some());
        let ua = get("user-agent").expect("UA");
        assert!(ua.ends_with(&c.version().user_agent_suffix()), "{ua}");
    }
    assert_eq!(
        (login.login_user_id.as_str(), login.login_token.as_str()),
        ("10001", "tok-1")
    );
    let extra: hongyan_protocol::LoginExtra =
        serde_json::from_str(login.extra.as_deref().expect("extra")).expect("extra json");
    assert_eq!(
        (extra.core_level, extra.app_version.as_str()),
        (crate::CORE_LEVEL, "0.1.0")
    );
    assert!(dir
        .path()
        .join("127.0.0.1_".to_owned() + &fake.http.port().to_string())
        .join("10001")
        .join("store.sqlite3")
        .exists());

    // Send: stored as Sending first, then ACKed → Sent.
    let m = c.send_text("10002", "hello").await.expect("send");
    assert_eq!(m.status, MessageStatus::Sending);
    let e = next_matching(
        &mut events,
        |e| matches!(e, Event::MessageStatusChanged { id, .. } if *id == m.id),
    )
    .await;
    assert_eq!(
        e,
        Event::MessageStatusChanged {
            id: m.id.clone(),
            status: MessageStatus::Sent
        }
    );
    assert_eq!(
        c.message(&m.id).await.expect("q").expect("m").status,
        MessageStatus::Sent
    );

    // Receive: stored, ACKed to "0" with the fp, announced once even if pushed twice.
    fake.push(Some(incoming("in-1", 1, "hi alice")));
    fake.push(Some(incoming("in-1", 1, "hi alice")));
    let e = next_matching(&mut events, |e| matches!(e, Event::MessageReceived(_))).await;
    let Event::MessageReceived(got) = e else {
        unreachable!()
    };
    assert_eq!(
        (got.id.as_str(), got.content.as_str(), got.seq),
        ("in-1", "hi alice", Some(1))
    );
    eventually(|| {
        fake.with(|s| {
            s.frames
                .iter()
                .filter(|f| {
                    f.packet_type == PacketType::Ack
                        && f.data_content.as_deref() == Some("in-1")
                        && f.to == "0"
                        && f.from == "10001"
                })
                .count()
                == 2
        })
    })
    .await;
    let convs = c.conversations().await.expect("convs");
    assert_eq!(convs.len(), 1);
    assert_eq!((convs[0].id.as_str(), convs[0].unread), ("10002", 1));
    assert_eq!(convs[0].last_text.as_deref(), Some("hi alice"));
    let hist = c.history("10002", None, 10).await.expect("history");
    assert_eq!(hist.len(), 2);
    c.mark_read("10002").await.expect("read");
    assert_eq!(c.conversations().await.expect("c")[0].unread, 0);
    assert_eq!(
        c.store()
            .await
            .expect("store")
            .sync_cursor()
            .expect("cursor"),
        1
    );

    c.logout().await.expect("logout");
    assert_eq!(c.user_id(), None);
    assert_eq!(c.connection_state(), ConnectionState::Offline);
    assert!(fake.with(|s| s.frames.iter().any(|f| f.packet_type == PacketType::Logout)));
    assert!(
        c.resume().await.expect("resume").is_none(),
        "logout forgets the token"
    );
}

#[tokio::test]
async fn qos_resends_then_fails_and_retry_recovers_over_tcp() {
    let fake = Fake::start().await;
    fake.with(|s| s.no_ack = true);
    let dir = tempfile::tempdir().expect("tmp");
    // A generous dead-link timer: this test counts sends on ONE connection, and a reconnect
    // on a loaded machine would legitimately send the message once more.
    let timing = Timing {
        dead_link: Duration::from_secs(10),
        ..fast_timing()
    };
    let c = client_with(
        &fake,
        dir.path(),
        Transport::Tcp {
            addr: fake.tcp.to_string(),
        },
        timing,
    );
    let mut events = c.events();
    c.login("alice", "pw").await.expect("login");
    let m = c.send_text("10002", "anyone?").await.expect("send");
    let e = next_matching(&mut events, |e| {
        matches!(e, Event::MessageStatusChanged { .. })
    })
    .await;
    assert_eq!(
        e,
        Event::MessageStatusChanged {
            id: m.id.clone(),
            status: MessageStatus::Failed {
                code: 0,
                reason: crate::qos::NO_ACK_REASON.into()
            }
        }
    );
    assert_eq!(
        fake.chats_with_fp(&m.id),
        3,
        "one send + max_retries resends, same fp"
    );

    fake.with(|s| s.no_ack = false);
    let again = c.retry(&m.id).await.expect("retry");
    assert_eq!(again.status, MessageStatus::Sending);
    next_matching(&mut events, |e| {
        matches!(
            e,
            Event::MessageStatusChanged {
                status: MessageStatus::Sent,
                ..
            }
        )
    })
    .await;
    assert!(matches!(c.retry(&m.id).await, Err(Error::NotRetryable)));
    c.shutdown().await;
}

#[tokio::test]
async fn server_errors_fail_or_keep_messages() {
    let fake = Fake::start().await;
    fake.with(|s| s.no_ack = true);
    let dir = tempfile::tempdir().expect("tmp");
    let c = client(&fake, dir.path(), Transport::WebSocket);
    let mut events = c.events();
    c.login("alice", "pw").await.expect("login");
    let m = c.send_text("10002", "x").await.expect("send");
    let err = hongyan_protocol::ErrorResponse::new(1101, "not friends", Some(m.id.clone()));
    fake.push(Some(Envelope::error("10001", &err)));
    let e = next_matching(&mut events, |e| {
        matches!(e, Event::MessageStatusChanged { .. })
    })
    .await;
    assert_eq!(
        e,
        Event::MessageStatusChanged {
            id: m.id.clone(),
            status: MessageStatus::Failed {
                code: 1101,
                reason: "not friends".into()
            }
        }
    );
    let big = "x".repeat(hongyan_protocol::MAX_BODY);
    assert!(matches!(
        c.send_text("10002", &big).await,
        Err(Error::MessageTooLarge)
    ));
    assert_eq!(
        c.history("10002", None, 10).await.expect("h").len(),
        1,
        "nothing stored for a refused send"
    );
    c.shutdown().await;
}

#[tokio::test]
async fn outbox_survives_a_restart_and_resume_resends_it() {
    let fake = Fake::start().await;
    fake.with(|s| s.no_ack = true);
    let dir = tempfile::tempdir().expect("tmp");
    let first = client(&fake, dir.path(), Transport::WebSocket);
    first.login("alice", "pw").await.expect("login");
    let m = first.send_text("10002", "survive").await.expect("send");
    eventually(|| fake.chats_with_fp(&m.id) >= 1).await;
    first.shutdown().await;
    drop(first);

    fake.with(|s| s.no_ack = false);
    let second = client(&fake, dir.path(), Transport::WebSocket);
    let mut events = second.events();
    let account = second.resume().await.expect("resume").expect("an account");
    assert_eq!(account.username, "alice");
    next_matching(&mut events, |e| matches!(e, Event::MessageStatusChanged { id, status: MessageStatus::Sent } if *id == m.id)).await;
    let (a, b) = fake.with(|s| (s.logins[0].first_login_time, s.logins[1].first_login_time));
    assert!(b >= a, "a new client run has its own firstLoginTime");
    second.shutdown().await;
}

#[tokio::test]
async fn reconnects_after_a_drop_with_the_same_first_login_time() {
    let fake = Fake::start().await;
    let dir = tempfile::tempdir().expect("tmp");
    let c = client(&fake, dir.path(), Transport::WebSocket);
    let mut events = c.events();
    c.login("alice", "pw").await.expect("login");
    fake.push(None);
    next_matching(&mut events, |e| {
        matches!(
            e,
            Event::ConnectionStateChanged(ConnectionState::Reconnecting { .. })
        )
    })
    .await;
    next_matching(&mut events, |e| {
        matches!(e, Event::ConnectionStateChanged(ConnectionState::Connected))
    })
    .await;
    let times: Vec<i64> = fake.with(|s| s.logins.iter().map(|l| l.first_login_time).collect());
    assert_eq!(times.len(), 2);
    assert_eq!(times[0], times[1]);

    // A silent server is a dead link: drop and reconnect.
    fake.with(|s| s.silent = true);
    next_matching(&mut events, |e| {
        matches!(
            e,
            Event::ConnectionStateChanged(ConnectionState::Reconnecting { .. })
        )
    })
    .await;
    fake.with(|s| s.silent = false);
    next_matching(&mut events, |e| {
        matches!(e, Event::ConnectionStateChanged(ConnectionState::Connected))
    })
    .await;
    c.shutdown().await;
    assert_eq!(c.connection_state(), ConnectionState::Offline);
}

#[tokio::test]
async fn kickout_stops_without_reconnecting() {
    let fake = Fake::start().await;
    let dir = tempfile::tempdir().expect("tmp");
    let c = client(&fake, dir.path(), Transport::WebSocket);
    let mut events = c.events();
    c.login("alice", "pw").await.expect("login");
    let info = KickoutInfo {
        code: 1,
        reason: "logged in elsewhere".into(),
    };
    fake.push(Some(Envelope::kickout("10001", &info)));
    let e = next_matching(&mut events, |e| matches!(e, Event::KickedOut { .. })).await;
    assert_eq!(
        e,
        Event::KickedOut {
            code: 1,
            reason: "logged in elsewhere".into()
        }
    );
    next_matching(&mut events, |e| {
        matches!(e, Event::ConnectionStateChanged(ConnectionState::Offline))
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(fake.with(|s| s.logins.len()), 1);
}

#[tokio::test]
async fn refused_logins_are_errors() {
    let fake = Fake::start().await;
    let dir = tempfile::tempdir().expect("tmp");
    let c = client(&fake, dir.path(), Transport::WebSocket);
    fake.with(|s| {
        s.login_code = 1027;
        s.login_msg = Some("please upgrade to 0.2".into());
    });
    match c.login("alice", "pw").await {
        Err(Error::ClientTooOld(msg)) => assert_eq!(msg, "please upgrade to 0.2"),
        other => panic!("{other:?}"),
    }
    assert_eq!(c.user_id(), None);
    fake.with(|s| s.login_code = 1025);
    let mut events = c.events();
    assert!(matches!(
        c.login("alice", "pw").await,
        Err(Error::TokenExpired)
    ));
    next_matching(&mut events, |e| *e == Event::AuthExpired).await;
    assert!(
        c.resume().await.expect("resume").is_none(),
        "a refused token is forgotten"
    );
    fake.with(|s| s.login_code = 1026);
    assert!(matches!(
        c.login("alice", "pw").await,
        Err(Error::AccountDisabled)
    ));
    assert!(matches!(
        c.send_text("1", "x").await,
        Err(Error::NotLoggedIn)
    ));
}

#[tokio::test]
async fn a_seq_gap_triggers_a_sync() {
    let fake = Fake::start().await;
    let dir = tempfile::tempdir().expect("tmp");
    let c = client(&fake, dir.path(), Transport::WebSocket);
    let mut events = c.events();
    c.login("alice", "pw").await.expect("login");
    next_matching(&mut events, |e| matches!(e, Event::SyncCompleted { .. })).await;
    fake.with(|s| {
        s.sync_messages = vec![
            incoming("s-1", 1, "one"),
            incoming("s-2", 2, "two"),
            incoming("s-3", 3, "three"),
        ];
    });
    fake.push(Some(incoming("s-3", 3, "three")));
    let e = next_matching(&mut events, |e| matches!(e, Event::SyncCompleted { .. })).await;
    assert_eq!(e, Event::SyncCompleted { count: 2 });
    let store = c.store().await.expect("store");
    assert_eq!(store.sync_cursor().expect("cursor"), 3);
    assert_eq!(c.history("10002", None, 10).await.expect("h").len(), 3);
    c.shutdown().await;
}

#[tokio::test]
async fn users_are_looked_up_with_the_session_token() {
    let fake = Fake::start().await;
    let dir = tempfile::tempdir().expect("tmp");
    let c = client(&fake, dir.path(), Transport::WebSocket);
    assert!(matches!(c.get_user("10002").await, Err(Error::NotLoggedIn)));
    assert!(matches!(c.search_users("b").await, Err(Error::NotLoggedIn)));
    c.login("alice", "pw").await.expect("login");
    let bob = c.get_user("10002").await.expect("bob");
    assert_eq!(
        bob,
        User {
            user_id: "10002".into(),
            username: "bob".into(),
            nickname: "Bob B".into()
        }
    );
    match c.get_user("10009").await {
        Err(Error::Server {
            status: 404, code, ..
        }) => assert_eq!(code, "not_found"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        c.get_user("../me").await,
        Err(Error::InvalidRequest(_))
    ));
    assert_eq!(c.search_users("bo").await.expect("search"), vec![bob]);
    assert!(c.search_users("zed").await.expect("search").is_empty());
    let auth = fake.with(|s| {
        s.http_headers
            .last()
            .and_then(|h| h.iter().find(|(k, _)| k == "authorization").cloned())
    });
    assert_eq!(auth.map(|(_, v)| v).as_deref(), Some("Bearer tok-1"));
    c.shutdown().await;
}

#[test]
fn prepared_images_are_cached_and_a_small_one_is_its_own_thumbnail() {
    use crate::media::sample;
    let dir = tempfile::tempdir().expect("tmp");
    let cache = MediaCache::new(dir.path());
    let small = sample::png(
        &image::DynamicImage::ImageRgba8(sample::transparent(200, 100)),
        None,
    );
    let p = prepare(&cache, &small, ImageQuality::Standard).expect("prepare");
    assert_eq!(
        (p.width, p.height, p.original_size),
        (200, 100, small.len() as u64)
    );
    assert_eq!(
        (p.thumb.sha256.as_str(), p.thumb.width, p.thumb.size),
        (p.sha256.as_str(), 200, p.size)
    );
    let cached = std::fs::read(cache.get(&p.sha256).expect("get").expect("cached")).expect("read");
    assert_eq!(crate::media::cache::sha256_hex(&cached), p.sha256);
    assert_eq!(cached.len() as u64, p.size);

    let big = sample::jpeg(&sample::photo(1600, 1200, 9), 90, None);
    let p = prepare(&cache, &big, ImageQuality::Standard).expect("prepare");
    assert_eq!((p.width, p.height), (1280, 960));
    assert_ne!(p.thumb.sha256, p.sha256);
    assert_eq!((p.thumb.width, p.thumb.height), (320, 240));
    for sha in [&p.sha256, &p.thumb.sha256] {
        assert!(cache.get(sha).expect("get").is_some(), "{sha} cached");
    }
    assert!(matches!(
        prepare(&cache, b"plain text", ImageQuality::Standard),
        Err(Error::Media(_))
    ));
}
