//! A released .deb updates itself from the server (docs/UPDATES.md). Needs the packages that
//! `scripts/test-update.sh` builds (A = this tree, B = the next version and core level, and
//! a copy of B signed with another key) and root (dpkg). The app under test is the one dpkg
//! installed: `/usr/bin/hongyan`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use hongyan_tests::{server_bin, TestServer};
use serde_json::Value;

use crate::harness::*;

const INSTALLED: &str = "/usr/bin/hongyan";
const PACKAGE: &str = "hongyan";
const UPDATE_BANNER: &str = "[data-testid=update-banner]";
const UPDATE_INSTALL: &str = "[data-testid=update-install]";
const UPDATE_STATUS: &str = "[data-testid=update-status]";
const SIGNIN_UPDATE: &str = "[data-testid=signin-update]";
const SIGNIN_ERROR: &str = "[data-testid=signin-error]";
const SETTINGS: &str = "[data-testid=settings-button]";
const APP_VERSION: &str = "[data-testid=app-version]";
const CORE_LEVEL: &str = "[data-testid=core-level]";

/// What test-update.sh built.
struct Builds {
    dir: PathBuf,
    a: String,
    b: String,
    b_level: u32,
}

impl Builds {
    fn from_env() -> Self {
        let var = |k: &str| {
            std::env::var(k)
                .unwrap_or_else(|_| panic!("{k} is not set: run scripts/test-update.sh"))
        };
        Self {
            dir: PathBuf::from(var("HONGYAN_UPDATE_DIR")),
            a: var("HONGYAN_UPDATE_A"),
            b: var("HONGYAN_UPDATE_B"),
            b_level: var("HONGYAN_UPDATE_B_LEVEL").parse().expect("a core level"),
        }
    }

    /// The one .deb in `<dir>/<sub>`.
    fn deb(&self, sub: &str) -> PathBuf {
        let dir = self.dir.join(sub);
        std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "deb"))
            .unwrap_or_else(|| panic!("no .deb in {}", dir.display()))
    }
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The installed version of the app's package, if any.
fn installed_version() -> Option<String> {
    let out = Command::new("dpkg-query")
        .args(["-W", "-f=${Status} ${Version}", PACKAGE])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.strip_prefix("install ok installed ")
        .map(str::to_owned)
}

/// Removes the package when the test ends, however it ends.
struct Installed;

impl Installed {
    fn deb(deb: &Path) -> Self {
        run(Command::new("dpkg").arg("-i").arg(deb));
        Self
    }
}

impl Drop for Installed {
    fn drop(&mut self) {
        let _ = Command::new("dpkg").args(["-r", PACKAGE]).output();
    }
}

/// `hongyan-server admin release publish` on the server's data dir; the JSON it printed.
fn publish(server: &TestServer, deb: &Path, version: &str, pubkey: Option<&Path>) -> Value {
    let sig = PathBuf::from(format!("{}.sig", deb.display()));
    let mut cmd = Command::new(server_bin());
    cmd.args(["admin", "release", "publish", "--data-dir"])
        .arg(server.data_dir())
        .arg("--bundle")
        .arg(deb)
        .arg("--signature")
        .arg(&sig)
        .args([
            "--version",
            version,
            "--notes",
            "Faster search, fewer bugs.",
        ]);
    if let Some(key) = pubkey {
        cmd.arg("--pubkey").arg(key);
    }
    serde_json::from_str(&run(&mut cmd)).expect("publish prints JSON")
}

/// Pids of processes whose executable is the installed app (not one already replaced).
fn installed_app_pids() -> Vec<u32> {
    std::fs::read_dir("/proc")
        .map(|d| {
            d.flatten()
                .filter_map(|e| {
                    let pid = e.file_name().to_string_lossy().parse::<u32>().ok()?;
                    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok()?;
                    (exe == Path::new(INSTALLED)).then_some(pid)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Whether `pid` runs (a zombie waiting for its parent to reap it has exited).
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            // "pid (comm) S …": the state follows the last ')'.
            let after = &stat[stat.rfind(')')? + 1..];
            after.split_whitespace().next().map(|state| state != "Z")
        })
        .unwrap_or(false)
}

async fn wait_until(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < limit, "timed out waiting: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Records every state of the progress bar the page shows, for reading back later.
const WATCH_PROGRESS: &str = r#"
  window.__progress = [];
  const seen = () => {
    const p = document.querySelector('[data-testid=update-progress]');
    if (p) window.__progress.push([p.getAttribute('value'), p.getAttribute('max')]);
  };
  new MutationObserver(seen).observe(document.body,
    { subtree: true, childList: true, attributes: true });
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the packages and root: run by scripts/test-update.sh"]
async fn update_a_released_deb_updates_itself_to_the_next_version() {
    let builds = Builds::from_env();
    assert_eq!(
        run(Command::new("id").arg("-u")).trim(),
        "0",
        "installs packages: run scripts/test-update.sh as root"
    );
    let _installed = Installed::deb(&builds.deb("a"));
    assert_eq!(installed_version().as_deref(), Some(builds.a.as_str()));

    // The server wants B's core level: A is refused at login (1027).
    let level = builds.b_level.to_string();
    let server = TestServer::start_with(&["--min-core-level", &level]).await;
    server
        .create_user("ada", PASSWORD, false)
        .await
        .expect("create user");
    server
        .create_admin("root", PASSWORD)
        .await
        .expect("create admin");
    let bogus = format!("{}-rc.1", builds.b);
    publish(&server, &builds.deb("bogus"), &bogus, None);

    let env = AppEnv::start_with(None, PathBuf::from(INSTALLED), server).await;
    let d = env.session().await;
    d.wait_for(SIGNIN_FORM).await;

    // The check at start found the newest release: the copy signed with another key.
    let banner = d.wait_for(UPDATE_BANNER).await;
    assert_eq!(
        d.attribute(&banner, "data-version").await,
        Some(bogus.clone())
    );
    d.click(UPDATE_INSTALL).await;
    d.wait_for_text(UPDATE_STATUS, "Nothing was installed")
        .await;
    d.screenshot("update-refused").await;
    assert_eq!(
        installed_version().as_deref(),
        Some(builds.a.as_str()),
        "a bundle with a wrong signature must not be installed"
    );

    // The genuine B, checked against the build key before it is published.
    let key = builds.dir.join("updater.key.pub");
    let published = publish(&env.server, &builds.deb("b"), &builds.b, Some(&key));
    assert_eq!(published["version"], builds.b.as_str());

    // Signing in: refused with 1027, and the update is offered right there.
    d.type_into(USERNAME, "ada").await;
    d.type_into(PASSWORD_FIELD, PASSWORD).await;
    d.click(SUBMIT).await;
    d.wait_for(SIGNIN_ERROR).await;
    let offer = d.wait_for_text(SIGNIN_UPDATE, &builds.b).await;
    // The banner dropped the refused release's failure for the fresh offer.
    d.wait_for_text(UPDATE_STATUS, &format!("Hongyan {} is available", builds.b))
        .await;
    d.screenshot("update-offered-on-1027").await;
    let a_pids = installed_app_pids();
    assert_eq!(a_pids.len(), 1, "one app running: {a_pids:?}");
    d.script(WATCH_PROGRESS).await;
    d.post(&format!("/element/{offer}/click"), serde_json::json!({}))
        .await;

    // Downloaded with progress, verified, installed, restarted as B.
    d.wait_for_text(UPDATE_STATUS, "Install").await;
    let seen = d.script("return window.__progress;").await;
    let b_size = std::fs::metadata(builds.deb("b"))
        .expect("B")
        .len()
        .to_string();
    let steps: Vec<(Option<String>, Option<String>)> =
        serde_json::from_value(seen.clone()).unwrap_or_default();
    assert!(
        steps
            .iter()
            .any(|(value, max)| max.as_ref() == Some(&b_size) && value.as_deref() != Some("0")),
        "the progress bar counted up to the bundle's {b_size} bytes: {seen}"
    );
    let limit = Duration::from_secs(120);
    wait_until("dpkg installed B", limit, || {
        installed_version().as_deref() == Some(builds.b.as_str())
    })
    .await;
    wait_until("A restarted into B", limit, || {
        let now = installed_app_pids();
        !now.is_empty() && now.iter().all(|p| !a_pids.contains(p))
    })
    .await;
    wait_until("A exited after starting B", limit, || !running(a_pids[0])).await;
    let b_pids = installed_app_pids();
    let _ = Command::new("kill")
        .args(b_pids.iter().map(u32::to_string))
        .status();
    d.quit().await;
    wait_until("B stopped", limit, || installed_app_pids().is_empty()).await;

    // B: signs in where A was refused, About shows its version and core level.
    let d = env.session().await;
    d.type_into(USERNAME, "ada").await;
    d.type_into(PASSWORD_FIELD, PASSWORD).await;
    d.click(SUBMIT).await;
    d.wait_for(MAIN_WINDOW).await;
    // The server sees B's version and core level (long-connection login + headers).
    let (token, _) = env.http_login("root", PASSWORD).await;
    let start = Instant::now();
    let session = loop {
        let list: Value = reqwest::Client::new()
            .get(env.api("/admin/sessions"))
            .bearer_auth(&token)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .expect("admin sessions")
            .json()
            .await
            .expect("sessions JSON");
        let ada = list["sessions"]
            .as_array()
            .and_then(|all| all.iter().find(|s| s["username"] == "ada").cloned());
        if let Some(s) = ada {
            break s;
        }
        assert!(start.elapsed() < WAIT, "ada's session never showed: {list}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(session["app_version"], builds.b.as_str(), "{session}");
    assert_eq!(session["core_level"], builds.b_level, "{session}");
    d.click(SETTINGS).await;
    d.wait_for_text(APP_VERSION, &builds.b).await;
    d.wait_for_text(CORE_LEVEL, &level).await;
    d.screenshot("update-done-about").await;
    d.quit().await;
}
