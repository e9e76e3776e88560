//! What the app tests share: the app's environment (profile, server, tauri-driver), a
//! minimal WebDriver client, the E2E selectors (docs/IPC.md) and process helpers.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hongyan_sdk::secrets::SecretBackend;
use hongyan_sdk::{Account, Client, ClientConfig};
use serde_json::{json, Value};

pub const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
pub const PASSWORD: &str = "correct horse battery";
pub const WAIT: Duration = Duration::from_secs(30);

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Kills (and reaps) a child on drop, with everything it started: children are spawned as
/// process-group leaders (`in_own_group`), so WebKitWebDriver and the app go with tauri-driver.
pub struct Proc(pub Child);

/// Makes the command's process the leader of a new process group.
pub fn in_own_group(cmd: &mut Command) -> &mut Command {
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
pub struct Driver {
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

    pub async fn new_session(base: &str, app: &Path) -> Self {
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

    pub async fn post(&self, path: &str, body: Value) -> Value {
        Self::call(
            &self.http,
            reqwest::Method::POST,
            &self.url(path),
            Some(body),
        )
        .await
    }

    pub async fn get(&self, path: &str) -> Value {
        Self::call(&self.http, reqwest::Method::GET, &self.url(path), None).await
    }

    /// Saves a PNG of the app window under `<target>/e2e-app/<name>.png` (to look at; the
    /// README's app screenshot comes from here).
    /// WebKitWebDriver's screenshot never answers in some states of the page (seen: the main
    /// window with no chat open, a group chat); then the X display is captured instead
    /// (ImageMagick's `import`, cropped to the window).
    pub async fn screenshot(&self, name: &str) {
        let dir = target_dir().join("e2e-app");
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        let path = dir.join(format!("{name}.png"));
        match self.webdriver_png(Duration::from_secs(10)).await {
            Some(png) => std::fs::write(&path, png).expect("write screenshot"),
            None => {
                let (x, y, w, h) = self.window_rect().await;
                let status = Command::new("import")
                    .args(["-window", "root", "-crop", &format!("{w}x{h}+{x}+{y}")])
                    .arg(&path)
                    .status()
                    .expect("import (apt-get install imagemagick)");
                assert!(status.success(), "capturing the X display failed: {status}");
            }
        }
        println!("screenshot: {}", path.display());
    }

    /// WebDriver's PNG of the window, unless it takes longer than `limit`.
    async fn webdriver_png(&self, limit: Duration) -> Option<Vec<u8>> {
        use base64::Engine as _;
        let (http, url) = (self.http.clone(), self.url("/screenshot"));
        // Spawned: a request left hanging must not keep the test waiting.
        let shot = tokio::spawn(async move {
            let resp = http.get(url).send().await.ok()?;
            let v: Value = resp.json().await.ok()?;
            base64::engine::general_purpose::STANDARD
                .decode(v["value"].as_str()?)
                .ok()
        });
        tokio::time::timeout(limit, shot).await.ok()?.ok()?
    }

    /// Says why a wait failed (with the page's errors), saves `failed.png` and panics.
    async fn fail(&self, why: String) -> ! {
        eprintln!("{why}");
        let errors = self.script("return window.__e2eErrors || [];").await;
        eprintln!("page errors: {errors}");
        self.screenshot("failed").await;
        panic!("{why}");
    }

    /// The elements matching a CSS selector (empty when none).
    pub async fn find_all(&self, css: &str) -> Vec<String> {
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
    pub async fn hook_errors(&self) {
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
    pub async fn wait_for(&self, css: &str) -> String {
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
                self.fail(format!(
                    "no element {css} after {WAIT:?}; url {url}, windows {handles}; page errors: {errors}; page:\n{}",
                    &page[..page.len().min(4000)]
                ))
                .await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn click(&self, css: &str) {
        let e = self.wait_for(css).await;
        self.post(&format!("/element/{e}/click"), json!({})).await;
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let e = self.wait_for(css).await;
        self.post(&format!("/element/{e}/clear"), json!({})).await;
        self.post(&format!("/element/{e}/value"), json!({ "text": text }))
            .await;
    }

    /// The text an element shows (`innerText`: nothing for what CSS hides). Not WebDriver's
    /// "Get Element Text": WebKitWebDriver answers "" for some plainly visible elements
    /// (a group chat's title, a pending request's name) once the main window is shown.
    pub async fn text(&self, element: &str) -> String {
        self.post(
            "/execute/sync",
            json!({"script": "return arguments[0].innerText;",
                "args": [{ ELEMENT_KEY: element }]}),
        )
        .await
        .as_str()
        .unwrap_or("")
        .to_owned()
    }

    /// Waits until some element matching `css` shows `text`; returns that element.
    pub async fn wait_for_text(&self, css: &str, text: &str) -> String {
        let start = Instant::now();
        loop {
            let mut seen = Vec::new();
            for e in self.find_all(css).await {
                let now = self.text(&e).await;
                if now.contains(text) {
                    return e;
                }
                seen.push(now);
            }
            if start.elapsed() > WAIT {
                self.fail(format!(
                    "no {css} showing {text:?} after {WAIT:?}; shown: {seen:?}"
                ))
                .await;
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// Waits until no element matches `css` (something went away).
    pub async fn wait_gone(&self, css: &str) {
        let start = Instant::now();
        while !self.find_all(css).await.is_empty() {
            if start.elapsed() > WAIT {
                self.fail(format!("{css} is still shown after {WAIT:?}"))
                    .await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// An attribute of an element (`None` when it has none).
    pub async fn attribute(&self, element: &str, name: &str) -> Option<String> {
        self.get(&format!("/element/{element}/attribute/{name}"))
            .await
            .as_str()
            .map(str::to_owned)
    }

    /// The computed value of a CSS property of an element (e.g. `color`).
    pub async fn css_value(&self, element: &str, property: &str) -> String {
        self.get(&format!("/element/{element}/css/{property}"))
            .await
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    /// Presses Escape (closes the open dialog).
    pub async fn press_escape(&self) {
        let key = |kind: &str| json!({"type": kind, "value": "\u{E00C}"});
        self.post(
            "/actions",
            json!({"actions": [{"type": "key", "id": "keyboard",
                "actions": [key("keyDown"), key("keyUp")]}]}),
        )
        .await;
    }

    /// Runs `script` in the page (WebDriver "execute sync") and returns its value.
    pub async fn script(&self, script: &str) -> Value {
        self.post("/execute/sync", json!({"script": script, "args": []}))
            .await
    }

    /// `document.visibilityState` of the window: `"hidden"` while the window is hidden
    /// (unmapped), `"visible"` when shown.
    pub async fn visibility(&self) -> String {
        self.script("return document.visibilityState;")
            .await
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    /// Waits until the page's visibility is `want`.
    pub async fn wait_visibility(&self, want: &str) {
        let start = Instant::now();
        loop {
            let now = self.visibility().await;
            if now == want {
                return;
            }
            assert!(
                start.elapsed() < WAIT,
                "the window stayed {now:?}, expected {want:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The window's `(x, y, width, height)`.
    pub async fn window_rect(&self) -> (i64, i64, i64, i64) {
        let v = self.get("/window/rect").await;
        let n = |k: &str| {
            v[k].as_f64()
                .unwrap_or_else(|| panic!("no {k} in the window rect {v}")) as i64
        };
        (n("x"), n("y"), n("width"), n("height"))
    }

    /// Moves and resizes the window (WebDriver "set window rect").
    pub async fn set_window_rect(&self, (x, y, width, height): (i64, i64, i64, i64)) {
        self.post(
            "/window/rect",
            json!({"x": x, "y": y, "width": width, "height": height}),
        )
        .await;
    }

    /// Waits until the window's rect is `want`.
    pub async fn wait_window_rect(&self, want: (i64, i64, i64, i64)) {
        let start = Instant::now();
        loop {
            let now = self.window_rect().await;
            if now == want {
                return;
            }
            assert!(
                start.elapsed() < WAIT,
                "the window rect stayed {now:?}, expected {want:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn quit(self) {
        let _ = self
            .http
            .delete(format!("{}/session/{}", self.base, self.session))
            .send()
            .await;
    }
}

// Selectors: docs/IPC.md "E2E selectors" (testid first, the current UI's fallback second).
pub const SIGNIN_FORM: &str = "[data-testid=signin-form]";
pub const USERNAME: &str =
    "[data-testid=signin-username], [data-testid=signin-form] input[name=username]";
pub const NICKNAME: &str =
    "[data-testid=signin-nickname], [data-testid=signin-form] input[name=nickname]";
pub const PASSWORD_FIELD: &str =
    "[data-testid=signin-password], [data-testid=signin-form] input[name=password]";
pub const CONFIRM: &str =
    "[data-testid=signin-confirm], [data-testid=signin-form] input[name=confirm]";
pub const SUBMIT: &str =
    "[data-testid=signin-submit], [data-testid=signin-form] button[type=submit]";
pub const TOGGLE: &str = "[data-testid=signin-mode-toggle], [data-testid=signin-form] button.link";
/// Present once signed in (the conversation list itself only renders when non-empty).
pub const MAIN_WINDOW: &str = "[data-testid=new-chat-button]";
pub const MESSAGE: &str = "[data-testid=message]";
pub const COMPOSER: &str = "[data-testid=composer-input], form.composer textarea";
pub const SEND: &str = "[data-testid=send-button], form.composer button[type=submit]";

// Friends, groups, notices (issue 5).
pub const NAV_CONTACTS: &str = "[data-testid=nav-contacts]";
pub const REQUESTS_BADGE: &str = "[data-testid=requests-badge]";
pub const ADD_FRIEND_BUTTON: &str = "[data-testid=add-friend-button]";
pub const ADD_FRIEND_QUERY: &str = "[data-testid=add-friend-query]";
pub const ADD_FRIEND_MESSAGE: &str = "[data-testid=add-friend-message]";
pub const ADD_FRIEND_SEND: &str = "[data-testid=add-friend-send]";
pub const ADD_FRIEND_DONE: &str = "[data-testid=add-friend-done]";
pub const FRIEND_REQUEST: &str = "[data-testid=friend-request]";
pub const OUTGOING_REQUEST: &str = "[data-testid=outgoing-request]";
pub const NEW_CHAT_BUTTON: &str = MAIN_WINDOW;
pub const NEW_CHAT_QUERY: &str = "[data-testid=new-chat-query], [data-testid=new-chat] input";
pub const NEW_CHAT_OPEN_ID: &str = "[data-testid=new-chat-open-id], [data-testid=new-chat] .by-id";
pub const NEW_GROUP_BUTTON: &str = "[data-testid=new-group-button]";
pub const NEW_GROUP_NAME: &str = "[data-testid=new-group-name]";
pub const NEW_GROUP_CREATE: &str = "[data-testid=new-group-create]";
pub const CHAT_NAME: &str = "[data-testid=chat-name]";
pub const CHAT_STATUS: &str = "[data-testid=chat-status]";
pub const NOT_FRIEND_BANNER: &str = "[data-testid=not-friend-banner]";
pub const GROUP_INFO_BUTTON: &str = "[data-testid=group-info-button]";
pub const GROUP_RENAME: &str = "[data-testid=group-rename]";
pub const GROUP_NAME_INPUT: &str = "[data-testid=group-name-input]";
pub const GROUP_NAME_SAVE: &str = "[data-testid=group-name-save]";
pub const CONFIRM_OK: &str = "[data-testid=confirm-ok]";
pub const SYSTEM_LINE: &str = "[data-testid=system-line]";
pub const MESSAGE_SENDER: &str = "[data-testid=message-sender]";
pub const FAILED_REASON: &str = "[data-testid=failed-reason]";
pub const RETRY: &str = "[data-testid=retry-message]";
pub const NOTICE_CARD: &str = "[data-testid=notice-card]";
pub const NOTICE_TITLE: &str = "[data-testid=notice-title]";
pub const NOTICE_BODY: &str = "[data-testid=notice-body]";
/// The conversation id of the server's notices.
pub const NOTICES: &str = "notices";

/// A friend in the Contacts tab.
pub fn friend(id: &str) -> String {
    format!("[data-testid=friend][data-id=\"{id}\"]")
}

/// A search result's "Add" button in the add-friend dialog.
pub fn add_friend_pick(id: &str) -> String {
    format!("[data-testid=add-friend-user][data-id=\"{id}\"] [data-testid=add-friend-pick]")
}

/// A friend in the new-chat dialog.
pub fn new_chat_friend(id: &str) -> String {
    format!("[data-testid=new-chat-friend][data-id=\"{id}\"]")
}

/// The message `id` (its `data-id`).
pub fn message(id: &str) -> String {
    format!("{MESSAGE}[data-id=\"{id}\"]")
}

/// A friend in a picker (new group, invite).
pub fn pick_friend(id: &str) -> String {
    format!("[data-testid=pick-friend][data-id=\"{id}\"]")
}

/// A member in the group-info panel.
pub fn group_member(id: &str) -> String {
    format!("[data-testid=group-member][data-id=\"{id}\"]")
}

/// The status icon of the own message `id` while it has `status` (sent, delivered, read…).
pub fn message_status(id: &str, status: &str) -> String {
    format!("{} [data-status={status}]", message(id))
}

pub fn conversation(id: &str) -> String {
    format!("[data-testid=conversation][data-id=\"{id}\"]")
}

/// The conversation row of `id` while it is the open chat.
pub fn open_conversation(id: &str) -> String {
    format!("{}[aria-current=true]", conversation(id))
}

/// RSS and PSS (KiB) of `pid` and all its descendants, and how many processes that is.
/// RSS counts shared pages (libraries) once per process; PSS splits them fairly.
pub fn tree_memory_kib(pid: u32) -> (u64, u64, usize) {
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
            "  {p} {}: RSS {:.1} MiB, PSS {:.1} MiB (anonymous {:.1}, files {:.1}); biggest: {}",
            comm.trim(),
            one("status", "VmRSS:") as f64 / 1024.0,
            one("smaps_rollup", "Pss:") as f64 / 1024.0,
            one("smaps_rollup", "Pss_Anon:") as f64 / 1024.0,
            one("smaps_rollup", "Pss_File:") as f64 / 1024.0,
            biggest_mappings(*p, 6)
        );
    }
    (
        field("status", "VmRSS:"),
        field("smaps_rollup", "Pss:"),
        tree.len(),
    )
}

/// The `n` mappings of `pid` with the most PSS, summed by file (`[anon]` for the rest):
/// where a process's memory is.
fn biggest_mappings(pid: u32, n: usize) -> String {
    let Ok(smaps) = std::fs::read_to_string(format!("/proc/{pid}/smaps")) else {
        return String::new();
    };
    let mut by_name: std::collections::HashMap<String, u64> = Default::default();
    let mut name = String::new();
    for line in smaps.lines() {
        let mut fields = line.split_whitespace();
        let first = fields.next().unwrap_or("");
        if first.contains('-') && !first.ends_with(':') {
            // "start-end perms offset dev inode [path]"
            let path = fields.nth(4).unwrap_or("[anon]");
            name = path.rsplit('/').next().unwrap_or(path).to_owned();
        } else if first == "Pss:" {
            let kib = fields
                .next()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
            *by_name.entry(name.clone()).or_default() += kib;
        }
    }
    let mut all: Vec<_> = by_name.into_iter().collect();
    all.sort_by_key(|e| std::cmp::Reverse(e.1));
    all.iter()
        .take(n)
        .map(|(name, kib)| format!("{name} {:.1}", *kib as f64 / 1024.0))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The pid of the running app binary `app` (started by WebKitWebDriver).
pub fn app_pid(app: &Path) -> Option<u32> {
    let want = std::fs::canonicalize(app).ok()?;
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid = e.file_name().to_string_lossy().parse::<u32>().ok()?;
        (std::fs::read_link(format!("/proc/{pid}/exe")).ok()? == want).then_some(pid)
    })
}

/// `(x, y, width, height)` of a window.
pub type Rect = (i64, i64, i64, i64);

/// The app under test: a fresh profile, a real `hongyan-server`, and tauri-driver ready to
/// start the app (each WebDriver session launches the app binary with this environment).
pub struct AppEnv {
    pub tmp: tempfile::TempDir,
    /// The real server (kept alive for the test's duration).
    pub server: hongyan_tests::TestServer,
    pub server_url: String,
    /// The app binary.
    pub app: PathBuf,
    /// tauri-driver's address.
    pub base: String,
    pub timing_file: PathBuf,
    env: Vec<(&'static str, std::ffi::OsString)>,
    _driver: Proc,
}

/// The D-Bus address of "no session bus": the app (unless a test gives it a private bus) and
/// the SDK test clients find no keyring and keep tokens in 0600 files in their temp dirs.
const NO_BUS: &str = "unix:path=/nonexistent/hongyan-e2e";

/// Panics with a hint unless the embedded UI is built, the app binary exists and there is
/// an X display; returns the app binary.
fn preflight() -> PathBuf {
    prepare_display();
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
    app
}

/// Checks there is an X display and keeps this process off any session bus.
pub fn prepare_display() {
    // The SDK test clients (`TestClient`, keyring "auto") run in this process. With DISPLAY
    // set and no session bus, libdbus would autolaunch one over X11 and the keyring probe
    // would wait on a keyring daemon forever (seen: a login that never returned). The tests
    // run one at a time and nothing else reads the environment at this point.
    std::env::set_var("DBUS_SESSION_BUS_ADDRESS", NO_BUS);
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "no DISPLAY: run under xvfb-run -a"
    );
}

impl AppEnv {
    /// Starts the server and tauri-driver. `bus` is the D-Bus session the app sees; `None`
    /// gives it none (the token then goes to the 0600 file fallback inside the profile,
    /// never into the developer's keyring, and single-instance launches normally).
    pub async fn start(bus: Option<&str>) -> Self {
        let app = preflight();
        // The real server, through the same harness as the integration tests.
        Self::start_with(bus, app, hongyan_tests::TestServer::start().await, &[]).await
    }

    /// [`AppEnv::start`] for the app binary `app` against `server`, with `extra` in the
    /// app's environment.
    pub async fn start_with(
        bus: Option<&str>,
        app: PathBuf,
        server: hongyan_tests::TestServer,
        extra: &[(&'static str, &str)],
    ) -> Self {
        prepare_display();
        let tmp = tempfile::tempdir().expect("tmp");
        let server_url = server.url();

        // One isolated profile for the app, kept across its restarts.
        let profile = tmp.path().join("profile");
        for d in ["config", "data", "cache", "hongyan"] {
            std::fs::create_dir_all(profile.join(d)).expect("profile dir");
        }
        let timing_file = tmp.path().join("timing.txt");
        let mut env: Vec<(&'static str, std::ffi::OsString)> = vec![
            ("XDG_CONFIG_HOME", profile.join("config").into()),
            ("XDG_DATA_HOME", profile.join("data").into()),
            ("XDG_CACHE_HOME", profile.join("cache").into()),
            ("HONGYAN_DATA_DIR", profile.join("hongyan").into()),
            ("HONGYAN_SERVER", server_url.clone().into()),
            ("HONGYAN_TIMING_FILE", timing_file.clone().into()),
            ("DBUS_SESSION_BUS_ADDRESS", bus.unwrap_or(NO_BUS).into()),
            // No accessibility bus to look for.
            ("NO_AT_BRIDGE", "1".into()),
            ("WEBKIT_DISABLE_DMABUF_RENDERER", "1".into()),
            ("WEBKIT_DISABLE_COMPOSITING_MODE", "1".into()),
        ];
        env.extend(extra.iter().map(|(k, v)| (*k, (*v).into())));
        let port = free_port();
        let native_port = free_port();
        let driver_bin = std::env::var_os("TAURI_DRIVER")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("tauri-driver"));
        let driver = Proc(
            in_own_group(&mut Command::new(&driver_bin))
                .args([
                    "--port",
                    &port.to_string(),
                    "--native-port",
                    &native_port.to_string(),
                ])
                .envs(env.iter().map(|(k, v)| (k, v)))
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
        Self {
            tmp,
            server,
            server_url,
            app,
            base,
            timing_file,
            env,
            _driver: driver,
        }
    }

    /// Launches the app through a new WebDriver session.
    pub async fn session(&self) -> Driver {
        let d = Driver::new_session(&self.base, &self.app).await;
        d.hook_errors().await;
        d
    }

    /// The app binary with the app's environment, to launch it by hand (a second instance).
    pub fn app_command(&self) -> Command {
        let mut cmd = Command::new(&self.app);
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// The app's config dir (settings, the window-state file).
    pub fn config_dir(&self) -> PathBuf {
        self.tmp.path().join("profile/config/app.hongyan.desktop")
    }

    /// Waits until no process runs the app binary.
    pub async fn wait_app_gone(&self) {
        let start = Instant::now();
        while app_pid(&self.app).is_some() {
            assert!(start.elapsed() < WAIT, "the app did not exit");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The URL of the server's HTTP API path `path` (`/login` → `…/api/v1/login`).
    pub fn api(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.server_url)
    }

    /// Signs `user` in over HTTP; returns `(token, user id)`.
    pub async fn http_login(&self, user: &str, password: &str) -> (String, String) {
        let v: Value = reqwest::Client::new()
            .post(self.api("/login"))
            .json(&json!({"username": user, "password": password}))
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .unwrap_or_else(|e| panic!("{user} signs in over HTTP: {e}"))
            .json()
            .await
            .expect("login answer");
        (
            v["token"].as_str().expect("token").to_owned(),
            v["user_id"].as_str().expect("user_id").to_owned(),
        )
    }

    /// A user registered and online with a test SDK client (`hongyan_tests::TestClient`:
    /// its own data dir, fast timers, its events subscribed before login).
    pub async fn test_client(&self, username: &str) -> hongyan_tests::TestClient {
        hongyan_tests::TestClient::register(&self.server, username, hongyan_tests::Via::Ws).await
    }

    /// Makes the app's user `app_user` (password [`PASSWORD`]) and `client` friends: the
    /// client asks through its SDK, the app's user accepts over HTTP (setup, not the UI under
    /// test). Returns the app user's id.
    pub async fn befriend_app_user(
        &self,
        app_user: &str,
        client: &hongyan_tests::TestClient,
    ) -> String {
        let (token, app_id) = self.http_login(app_user, PASSWORD).await;
        let request = client
            .client
            .send_friend_request(&app_id, "")
            .await
            .expect("friend request");
        reqwest::Client::new()
            .post(self.api(&format!("/friends/requests/{}/accept", request.id)))
            .bearer_auth(&token)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .expect("accept over HTTP");
        app_id
    }

    /// A user registered over HTTP and online with an SDK client (its own data dir).
    pub async fn sdk_user(&self, username: &str, nickname: &str) -> (Client, Account) {
        let mut cfg = ClientConfig::new(&self.server_url, self.tmp.path().join(username));
        cfg.secrets = SecretBackend::Memory;
        let client = Client::new(cfg).expect("sdk client");
        client
            .register(username, PASSWORD, Some(nickname))
            .await
            .unwrap_or_else(|e| panic!("register {username}: {e}"));
        let account = client
            .login(username, PASSWORD)
            .await
            .unwrap_or_else(|e| panic!("{username} signs in: {e}"));
        (client, account)
    }

    /// Makes `a` and `b` (usernames, password [`PASSWORD`]) friends through the real HTTP
    /// API (docs/PROTOCOL.md, issue 5): `a` asks, `b` accepts. A server without the friends
    /// API (before issue 5) answers 404 to the request: then there is nothing to do.
    pub async fn befriend(&self, a: &str, b: &str) {
        let http = reqwest::Client::new();
        let api = |path: &str| self.api(path);
        let (token_a, _) = self.http_login(a, PASSWORD).await;
        let (token_b, id_b) = self.http_login(b, PASSWORD).await;
        let asked = http
            .post(api("/friends/requests"))
            .bearer_auth(&token_a)
            .json(&json!({ "to": id_b }))
            .send()
            .await
            .expect("friend request");
        if asked.status() == reqwest::StatusCode::NOT_FOUND
            || asked.status() == reqwest::StatusCode::METHOD_NOT_ALLOWED
        {
            println!("this server has no friends API yet: {a} and {b} chat as strangers");
            return;
        }
        let status = asked.status();
        let request: Value = asked.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "friend request: {status} {request}");
        if request["status"] == "accepted" {
            return;
        }
        let id = request["id"].as_u64().expect("request id");
        let accepted = http
            .post(api(&format!("/friends/requests/{id}/accept")))
            .bearer_auth(&token_b)
            .send()
            .await
            .expect("accept");
        assert!(
            accepted.status().is_success(),
            "accept: {}",
            accepted.status()
        );
    }
}

/// Registers `username` in the app's sign-in form, then signs in (remember me stays on);
/// returns once the main window is shown.
pub async fn register_and_sign_in(d: &Driver, username: &str, nickname: &str) {
    d.wait_for(SIGNIN_FORM).await;
    d.click(TOGGLE).await;
    d.wait_for(CONFIRM).await;
    d.type_into(USERNAME, username).await;
    if !d.find_all(NICKNAME).await.is_empty() {
        d.type_into(NICKNAME, nickname).await;
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
    d.type_into(USERNAME, username).await;
    d.type_into(PASSWORD_FIELD, PASSWORD).await;
    d.click(SUBMIT).await;
    d.wait_for(MAIN_WINDOW).await;
}
