//! The real desktop app, end to end: `hongyan` (built with the embedded UI) under Xvfb,
//! driven by tauri-driver + WebKitWebDriver, against a real `hongyan-server`.
//!
//! Run by `scripts/test-app.sh`, which builds everything and runs it with `--ignored` under
//! xvfb-run.
//! Without that variable the test says why it is skipped and passes; with it, the only
//! reason to skip is a missing `ui/dist/index.html` (the UI not built yet). Elements are
//! found only by the selectors in docs/IPC.md, "E2E selectors".
//!
//! It also prints the two app figures: cold start to a usable window (WebDriver session
//! request → the sign-in form is present; plus the app's own "first app_info" time) and
//! the idle RSS of the app's process tree (app + WebKit web/network processes).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hongyan_sdk::secrets::SecretBackend;
use hongyan_sdk::{Client, ClientConfig, Event};
use serde_json::{json, Value};

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
const PASSWORD: &str = "correct horse battery";
const WAIT: Duration = Duration::from_secs(30);

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Kills (and reaps) a child on drop, with everything it started: children are spawned as
/// process-group leaders (`in_own_group`), so WebKitWebDriver and the app go with tauri-driver.
struct Proc(Child);

/// Makes the command's process the leader of a new process group.
fn in_own_group(cmd: &mut Command) -> &mut Command {
    use std::os::unix::process::CommandExt as _;
    cmd.process_group(0)
}

impl Drop for Proc {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A minimal W3C WebDriver client (plain HTTP).
struct Driver {
    http: reqwest::Client,
    base: String,
    session: String,
}

impl Driver {
    async fn call(
        http: &reqwest::Client,
        method: reqwest::Method,
        url: &str,
        body: Option<Value>,
    ) -> Value {
        let mut req = http.request(method, url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap_or_else(|e| panic!("{url}: {e}"));
        let v: Value = resp.json().await.unwrap_or(Value::Null);
        v.get("value").cloned().unwrap_or(Value::Null)
    }

    async fn new_session(base: &str, app: &Path) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .expect("http");
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "wry",
            "tauri:options": {"application": app}
        }}});
        let v = Self::call(
            &http,
            reqwest::Method::POST,
            &format!("{base}/session"),
            Some(caps),
        )
        .await;
        let session = v["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {v}"))
            .to_owned();
        Self {
            http,
            base: base.to_owned(),
            session,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/session/{}{}", self.base, self.session, path)
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        Self::call(
            &self.http,
            reqwest::Method::POST,
            &self.url(path),
            Some(body),
        )
        .await
    }

    async fn get(&self, path: &str) -> Value {
        Self::call(&self.http, reqwest::Method::GET, &self.url(path), None).await
    }

    /// Saves a PNG of the app window under `<target>/e2e-app/<name>.png` (to look at; the
    /// README's app screenshot comes from here).
    async fn screenshot(&self, name: &str) {
        use base64::Engine as _;
        let v = self.get("/screenshot").await;
        // `get` already unwraps WebDriver's `{"value": …}`.
        let png = v
            .as_str()
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .expect("a base64 PNG from /screenshot");
        let dir = target_dir().join("e2e-app");
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        println!("screenshot: {}", path.display());
    }

    /// The elements matching a CSS selector (empty when none).
    async fn find_all(&self, css: &str) -> Vec<String> {
        let v = self
            .post("/elements", json!({"using": "css selector", "value": css}))
            .await;
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e[ELEMENT_KEY].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Records uncaught errors and console errors of the page (shown when a wait fails).
    async fn hook_errors(&self) {
        let script = "window.__e2eErrors = window.__e2eErrors || [];
            const push = (m) => window.__e2eErrors.push(String(m).slice(0, 500));
            window.addEventListener('error', (e) => push('error: ' + e.message + ' ' + (e.error && e.error.stack)));
            window.addEventListener('unhandledrejection', (e) => push('rejection: ' + JSON.stringify(e.reason)));
            const ce = console.error.bind(console);
            console.error = (...a) => { push('console.error: ' + a.map(String).join(' ')); ce(...a); };
            return true;";
        self.post("/execute/sync", json!({"script": script, "args": []}))
            .await;
    }

    /// Waits for the first element matching `css`.
    async fn wait_for(&self, css: &str) -> String {
        let start = Instant::now();
        loop {
            if let Some(e) = self.find_all(css).await.into_iter().next() {
                return e;
            }
            if start.elapsed() > WAIT {
                let page = self.get("/source").await;
                let page = page.as_str().unwrap_or("");
                let errors = self
                    .post(
                        "/execute/sync",
                        json!({"script": "return window.__e2eErrors || [];", "args": []}),
                    )
                    .await;
                let url = self.get("/url").await;
                let handles = self.get("/window/handles").await;
                panic!(
                    "no element {css} after {WAIT:?}; url {url}, windows {handles}; page errors: {errors}; page:\n{}",
                    &page[..page.len().min(4000)]
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn click(&self, css: &str) {
        let e = self.wait_for(css).await;
        self.post(&format!("/element/{e}/click"), json!({})).await;
    }

    async fn type_into(&self, css: &str, text: &str) {
        let e = self.wait_for(css).await;
        self.post(&format!("/element/{e}/clear"), json!({})).await;
        self.post(&format!("/element/{e}/value"), json!({ "text": text }))
            .await;
    }

    async fn text(&self, element: &str) -> String {
        self.get(&format!("/element/{element}/text"))
            .await
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    /// Waits until some element matching `css` shows `text`.
    async fn wait_for_text(&self, css: &str, text: &str) {
        let start = Instant::now();
        loop {
            for e in self.find_all(css).await {
                if self.text(&e).await.contains(text) {
                    return;
                }
            }
            assert!(
                start.elapsed() < WAIT,
                "no {css} showing {text:?} after {WAIT:?}"
            );
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    async fn quit(self) {
        let _ = self
            .http
            .delete(format!("{}/session/{}", self.base, self.session))
            .send()
            .await;
    }
}

// Selectors: docs/IPC.md "E2E selectors" (testid first, the current UI's fallback second).
const SIGNIN_FORM: &str = "[data-testid=signin-form]";
const USERNAME: &str =
    "[data-testid=signin-username], [data-testid=signin-form] input[name=username]";
const NICKNAME: &str =
    "[data-testid=signin-nickname], [data-testid=signin-form] input[name=nickname]";
const PASSWORD_FIELD: &str =
    "[data-testid=signin-password], [data-testid=signin-form] input[name=password]";
const CONFIRM: &str = "[data-testid=signin-confirm], [data-testid=signin-form] input[name=confirm]";
const SUBMIT: &str = "[data-testid=signin-submit], [data-testid=signin-form] button[type=submit]";
const TOGGLE: &str = "[data-testid=signin-mode-toggle], [data-testid=signin-form] button.link";
/// Present once signed in (the conversation list itself only renders when non-empty).
const MAIN_WINDOW: &str = "[data-testid=new-chat-button]";
const MESSAGE: &str = "[data-testid=message]";
const COMPOSER: &str = "[data-testid=composer-input], form.composer textarea";
const SEND: &str = "[data-testid=send-button], form.composer button[type=submit]";

fn conversation(id: &str) -> String {
    format!("[data-testid=conversation][data-id=\"{id}\"]")
}

/// RSS and PSS (KiB) of `pid` and all its descendants, and how many processes that is.
/// RSS counts shared pages (libraries) once per process; PSS splits them fairly.
fn tree_memory_kib(pid: u32) -> (u64, u64, usize) {
    let mut parent_of = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            let Ok(p) = e.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
                continue;
            };
            // pid (comm) state ppid ...; comm may contain spaces: split after the last ')'.
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|s| s.parse::<u32>().ok())
                .unwrap_or(0);
            parent_of.push((p, ppid));
        }
    }
    let mut tree = vec![pid];
    let mut i = 0;
    while i < tree.len() {
        let cur = tree[i];
        tree.extend(
            parent_of
                .iter()
                .filter(|(_, pp)| *pp == cur)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    let field = |file: &str, name: &str| -> u64 {
        tree.iter()
            .filter_map(|p| std::fs::read_to_string(format!("/proc/{p}/{file}")).ok())
            .filter_map(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix(name))
                    .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            })
            .sum()
    };
    for p in &tree {
        let comm = std::fs::read_to_string(format!("/proc/{p}/comm")).unwrap_or_default();
        let one = |file: &str, name: &str| {
            std::fs::read_to_string(format!("/proc/{p}/{file}"))
                .ok()
                .and_then(|s| {
                    s.lines()
                        .find_map(|l| l.strip_prefix(name))
                        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
                })
                .unwrap_or(0)
        };
        println!(
            "  {p} {}: RSS {:.1} MiB, PSS {:.1} MiB",
            comm.trim(),
            one("status", "VmRSS:") as f64 / 1024.0,
            one("smaps_rollup", "Pss:") as f64 / 1024.0
        );
    }
    (
        field("status", "VmRSS:"),
        field("smaps_rollup", "Pss:"),
        tree.len(),
    )
}

/// The pid of the running app binary `app` (started by WebKitWebDriver).
fn app_pid(app: &Path) -> Option<u32> {
    let want = std::fs::canonicalize(app).ok()?;
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid = e.file_name().to_string_lossy().parse::<u32>().ok()?;
        (std::fs::read_link(format!("/proc/{pid}/exe")).ok()? == want).then_some(pid)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb, tauri-driver and the built UI: run by scripts/test-app.sh"]
async fn app_register_login_chat_restart_history() {
    let index = workspace_root().join("ui/dist/index.html");
    let html = std::fs::read_to_string(&index)
        .unwrap_or_else(|_| panic!("{} is missing: npm run -w ui build", index.display()));
    assert!(
        !html.contains("UI not built (placeholder)"),
        "ui/dist holds only the placeholder page: npm run -w ui build"
    );
    let app = std::env::var_os("HONGYAN_APP_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("debug/hongyan"));
    assert!(
        app.exists(),
        "{} is missing: cargo build -p hongyan-app --features custom-protocol",
        app.display()
    );
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "no DISPLAY: run under xvfb-run -a"
    );

    let tmp = tempfile::tempdir().expect("tmp");
    // The real server, through the same harness as the integration tests.
    let server = hongyan_tests::TestServer::start().await;
    let server_url = server.url();

    // One isolated profile for the app, kept across its restart.
    let profile = tmp.path().join("profile");
    for d in ["config", "data", "cache", "hongyan"] {
        std::fs::create_dir_all(profile.join(d)).expect("profile dir");
    }
    let timing_file = tmp.path().join("timing.txt");
    let port = free_port();
    let native_port = free_port();
    let driver_bin = std::env::var_os("TAURI_DRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("tauri-driver"));
    let _driver = Proc(
        in_own_group(&mut Command::new(&driver_bin))
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            .env("XDG_CONFIG_HOME", profile.join("config"))
            .env("XDG_DATA_HOME", profile.join("data"))
            .env("XDG_CACHE_HOME", profile.join("cache"))
            .env("HONGYAN_DATA_DIR", profile.join("hongyan"))
            .env("HONGYAN_SERVER", &server_url)
            .env("HONGYAN_TIMING_FILE", &timing_file)
            // No session bus: the token goes to the 0600 file fallback inside the profile,
            // never into the developer's keyring; single-instance launches normally.
            .env(
                "DBUS_SESSION_BUS_ADDRESS",
                "unix:path=/nonexistent/hongyan-e2e",
            )
            .env("WEBKIT_DISABLE_DMABUF_RENDERER", "1")
            .env("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "{}: {e} (cargo install tauri-driver --locked)",
                    driver_bin.display()
                )
            }),
    );
    let base = format!("http://127.0.0.1:{port}");
    let probe = reqwest::Client::new();
    let start = Instant::now();
    while probe.get(format!("{base}/status")).send().await.is_err() {
        assert!(start.elapsed() < WAIT, "tauri-driver did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // --- First run: cold start, register + sign in through the UI.
    let t0 = Instant::now();
    let d = Driver::new_session(&base, &app).await;
    d.wait_for(SIGNIN_FORM).await;
    let cold_ms = t0.elapsed().as_millis();
    d.hook_errors().await;
    let ui_ready = std::fs::read_to_string(&timing_file).unwrap_or_default();
    println!(
        "app cold start: {cold_ms} ms from the WebDriver session request to the sign-in form; app log: {}",
        ui_ready.trim()
    );

    d.click(TOGGLE).await;
    d.wait_for(CONFIRM).await;
    d.type_into(USERNAME, "alice").await;
    if !d.find_all(NICKNAME).await.is_empty() {
        d.type_into(NICKNAME, "Alice 鸿").await;
    }
    d.type_into(PASSWORD_FIELD, PASSWORD).await;
    d.type_into(CONFIRM, PASSWORD).await;
    d.click(SUBMIT).await;
    // Back in sign-in mode once registered (the confirm field goes away).
    let start = Instant::now();
    while !d.find_all(CONFIRM).await.is_empty() {
        let err = d.find_all("[data-testid=signin-error]").await;
        if let Some(e) = err.first() {
            panic!("register failed: {}", d.text(e).await);
        }
        assert!(start.elapsed() < WAIT, "register did not finish");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    d.type_into(USERNAME, "alice").await;
    d.type_into(PASSWORD_FIELD, PASSWORD).await;
    d.click(SUBMIT).await;
    d.wait_for(MAIN_WINDOW).await;

    // --- Bob: registered over HTTP, online with an SDK client.
    let mut cfg = ClientConfig::new(&server_url, tmp.path().join("bob"));
    cfg.secrets = SecretBackend::Memory;
    let bob = Client::new(cfg).expect("bob client");
    bob.register("bob", PASSWORD, Some("Bob"))
        .await
        .expect("register bob");
    let bob_account = bob.login("bob", PASSWORD).await.expect("bob login");
    let alice = bob
        .search_users("alice")
        .await
        .expect("search")
        .into_iter()
        .find(|u| u.username == "alice")
        .expect("alice was registered through the app");
    assert_eq!(alice.nickname, "Alice 鸿");
    let mut bob_events = bob.events();

    let hello = "hello from bob, 你好鸿雁";
    bob.send_text(&alice.user_id, hello)
        .await
        .expect("bob sends");
    let row = conversation(&bob_account.user_id);
    d.click(&row).await;
    d.wait_for_text(MESSAGE, hello).await;

    // Alice answers from the composer; Bob gets it.
    let reply = "hi Bob, got it ✓";
    d.type_into(COMPOSER, reply).await;
    d.click(SEND).await;
    d.wait_for_text(MESSAGE, reply).await;
    let got = tokio::time::timeout(WAIT, async {
        loop {
            match bob_events.recv().await {
                Ok(Event::MessageReceived(m)) if m.content == reply => return m,
                Ok(_) => {}
                Err(e) => panic!("bob's events: {e}"),
            }
        }
    })
    .await
    .expect("bob receives alice's reply");
    assert_eq!(got.from, alice.user_id);
    d.screenshot("chat").await;

    // Idle RSS of the app's process tree.
    tokio::time::sleep(Duration::from_secs(3)).await;
    match app_pid(&app) {
        Some(pid) => {
            let (rss, pss, n) = tree_memory_kib(pid);
            println!(
                "app idle memory: RSS {:.1} MiB summed, PSS {:.1} MiB, over {n} processes (app + WebKit children), signed in, one chat open",
                rss as f64 / 1024.0,
                pss as f64 / 1024.0
            );
        }
        None => println!("app idle RSS: app process not found"),
    }
    d.quit().await;
    // The first instance must be gone before the second starts.
    let start = Instant::now();
    while app_pid(&app).is_some() && start.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // --- A message while the app is closed, then restart: resumed session, full history.
    let offline = "sent while you were away";
    bob.send_text(&alice.user_id, offline)
        .await
        .expect("bob sends");
    let t1 = Instant::now();
    let d = Driver::new_session(&base, &app).await;
    d.wait_for(MAIN_WINDOW).await;
    println!(
        "app restart: {} ms from the WebDriver session request to the signed-in main window (session resumed)",
        t1.elapsed().as_millis()
    );
    d.click(&row).await;
    d.wait_for_text(MESSAGE, hello).await;
    d.wait_for_text(MESSAGE, reply).await;
    d.wait_for_text(MESSAGE, offline).await;
    d.quit().await;
    bob.shutdown().await;
}
