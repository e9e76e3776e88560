//! A released package updates itself from the server (docs/UPDATES.md): the .deb (installed
//! with dpkg; needs root) and the AppImage (a file the user runs; no root). Both need the
//! packages that `scripts/test-update.sh` builds: A = this tree, B = the next version and
//! core level, and copies of B signed with another key.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use hongyan_tests::{server_bin, TestServer};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::harness::*;

const DEB_INSTALLS: &str = "/usr/bin/hongyan";
const DEB_PACKAGE: &str = "hongyan";
const UPDATE_BANNER: &str = "[data-testid=update-banner]";
const UPDATE_INSTALL: &str = "[data-testid=update-install]";
const UPDATE_STATUS: &str = "[data-testid=update-status]";
const SIGNIN_UPDATE: &str = "[data-testid=signin-update]";
const SIGNIN_ERROR: &str = "[data-testid=signin-error]";
const SETTINGS: &str = "[data-testid=settings-button]";
const APP_VERSION: &str = "[data-testid=app-version]";
const CORE_LEVEL: &str = "[data-testid=core-level]";
const LIMIT: Duration = Duration::from_secs(120);

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

    /// The one bundle ending in `ext` in `<dir>/<sub>` (`a`, `b` or `bogus`).
    fn bundle(&self, sub: &str, ext: &str) -> PathBuf {
        let dir = self.dir.join(sub);
        std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == ext))
            .unwrap_or_else(|| panic!("no .{ext} in {}", dir.display()))
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

fn sha256(path: &Path) -> Vec<u8> {
    Sha256::digest(std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .to_vec()
}

/// How the app was installed, and so how to tell which version is installed and running.
enum Package {
    /// Installed with dpkg (removed again when the test ends).
    Deb,
    /// An AppImage file the user runs, here run the way machines without FUSE run it.
    AppImage {
        file: PathBuf,
        _dir: tempfile::TempDir,
    },
}

impl Package {
    fn install_deb(builds: &Builds) -> Self {
        assert_eq!(
            run(Command::new("id").arg("-u")).trim(),
            "0",
            "installs packages: run scripts/test-update.sh as root"
        );
        run(Command::new("dpkg")
            .arg("-i")
            .arg(builds.bundle("a", "deb")));
        Self::Deb
    }

    fn copy_appimage(builds: &Builds) -> Self {
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("Hongyan.AppImage");
        std::fs::copy(builds.bundle("a", "AppImage"), &file).expect("copy A");
        Self::AppImage { file, _dir: dir }
    }

    fn ext(&self) -> &'static str {
        match self {
            Self::Deb => "deb",
            Self::AppImage { .. } => "AppImage",
        }
    }

    /// What the user starts.
    fn launcher(&self) -> PathBuf {
        match self {
            Self::Deb => PathBuf::from(DEB_INSTALLS),
            Self::AppImage { file, .. } => file.clone(),
        }
    }

    /// The app's environment: an AppImage extracts itself instead of mounting with FUSE.
    fn env(&self) -> &'static [(&'static str, &'static str)] {
        match self {
            Self::Deb => &[],
            Self::AppImage { .. } => &[("APPIMAGE_EXTRACT_AND_RUN", "1")],
        }
    }

    /// Whether build `sub` (`a` or `b`) is what is installed now.
    fn installed(&self, builds: &Builds, sub: &str) -> bool {
        match self {
            Self::Deb => {
                let want = if sub == "a" { &builds.a } else { &builds.b };
                installed_deb_version().as_deref() == Some(want.as_str())
            }
            Self::AppImage { file, .. } => {
                let want = builds.bundle(sub, "AppImage");
                // Sizes first: hashing twice 50 MB at every poll would be slow.
                let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).ok();
                size(file) == size(&want) && sha256(file) == sha256(&want)
            }
        }
    }

    /// Pids of the running app processes (the binary a .deb installs, or the one an
    /// AppImage extracted), not counting an executable already replaced or deleted.
    fn app_pids(&self) -> Vec<u32> {
        let is_app = |exe: &Path| match self {
            Self::Deb => exe == Path::new(DEB_INSTALLS),
            Self::AppImage { .. } => {
                exe.ends_with("usr/bin/hongyan")
                    && exe.to_string_lossy().contains("appimage_extracted")
            }
        };
        std::fs::read_dir("/proc")
            .map(|d| {
                d.flatten()
                    .filter_map(|e| {
                        let pid = e.file_name().to_string_lossy().parse::<u32>().ok()?;
                        let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok()?;
                        (is_app(&exe) && running(pid)).then_some(pid)
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for Package {
    fn drop(&mut self) {
        if let Self::Deb = self {
            let _ = Command::new("dpkg").args(["-r", DEB_PACKAGE]).output();
        }
    }
}

/// The installed version of the app's Debian package, if any.
fn installed_deb_version() -> Option<String> {
    let out = Command::new("dpkg-query")
        .args(["-W", "-f=${Status} ${Version}", DEB_PACKAGE])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.strip_prefix("install ok installed ")
        .map(str::to_owned)
}

/// `hongyan-server admin release publish` on the server's data dir; the JSON it printed.
fn publish(server: &TestServer, bundle: &Path, version: &str, pubkey: Option<&Path>) -> Value {
    let sig = PathBuf::from(format!("{}.sig", bundle.display()));
    let mut cmd = Command::new(server_bin());
    cmd.args(["admin", "release", "publish", "--data-dir"])
        .arg(server.data_dir())
        .arg("--bundle")
        .arg(bundle)
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

async fn wait_until(what: &str, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < LIMIT, "timed out waiting: {what}");
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

/// The whole story for one kind of package, A installed: a badly signed release is refused,
/// the server refuses A with 1027 and the app offers B right there, B is downloaded with
/// progress, installed and started; B then signs in and says who it is.
async fn a_updates_itself_to_b(package: Package, builds: &Builds) {
    assert!(package.installed(builds, "a"));
    let ext = package.ext();

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
    publish(&server, &builds.bundle("bogus", ext), &bogus, None);

    let env = AppEnv::start_with(None, package.launcher(), server, package.env()).await;
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
    d.screenshot(&format!("update-{ext}-refused")).await;
    assert!(
        package.installed(builds, "a"),
        "a bundle with a wrong signature must not be installed"
    );

    // The genuine B, checked against the build key before it is published.
    let b_bundle = builds.bundle("b", ext);
    let key = builds.dir.join("updater.key.pub");
    let published = publish(&env.server, &b_bundle, &builds.b, Some(&key));
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
    d.screenshot(&format!("update-{ext}-offered-on-1027")).await;
    let a_pids = package.app_pids();
    assert_eq!(a_pids.len(), 1, "one app running: {a_pids:?}");
    d.script(WATCH_PROGRESS).await;
    d.post(&format!("/element/{offer}/click"), serde_json::json!({}))
        .await;

    // Downloaded with progress, verified, installed, restarted as B.
    d.wait_for_text(UPDATE_STATUS, "Install").await;
    let seen = d.script("return window.__progress;").await;
    let b_size = std::fs::metadata(&b_bundle).expect("B").len().to_string();
    let steps: Vec<(Option<String>, Option<String>)> =
        serde_json::from_value(seen.clone()).unwrap_or_default();
    assert!(
        steps
            .iter()
            .any(|(value, max)| max.as_ref() == Some(&b_size) && value.as_deref() != Some("0")),
        "the progress bar counted up to the bundle's {b_size} bytes: {seen}"
    );
    wait_until("B installed", || package.installed(builds, "b")).await;
    wait_until("A restarted into B", || {
        let now = package.app_pids();
        !now.is_empty() && now.iter().all(|p| !a_pids.contains(p))
    })
    .await;
    wait_until("A exited after starting B", || !running(a_pids[0])).await;
    stop(&package.app_pids());
    d.quit().await;
    wait_until("B stopped", || package.app_pids().is_empty()).await;

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
    d.screenshot(&format!("update-{ext}-done-about")).await;
    d.quit().await;
    stop(&package.app_pids());
}

/// SIGTERM to the app processes (the session's end does not always stop them).
fn stop(pids: &[u32]) {
    if !pids.is_empty() {
        let _ = Command::new("kill")
            .args(pids.iter().map(u32::to_string))
            .status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the packages and root: run by scripts/test-update.sh"]
async fn update_a_released_deb_updates_itself_to_the_next_version() {
    let builds = Builds::from_env();
    a_updates_itself_to_b(Package::install_deb(&builds), &builds).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the packages: run by scripts/test-update.sh"]
async fn update_an_appimage_replaces_itself_with_the_next_version() {
    let builds = Builds::from_env();
    a_updates_itself_to_b(Package::copy_appimage(&builds), &builds).await;
}
