//! A throwaway desktop session for the app tests: a private D-Bus session bus, a
//! StatusNotifierWatcher (Debian's `status-notifier-watcher`, where the app's tray icon —
//! libayatana-appindicator — registers), and a real notification daemon (Debian's `dunst`,
//! on the same Xvfb display). Each test gets its own, so nothing leaks between tests and the
//! developer's own session is never touched.
//!
//! The tray is read and driven the way a panel does it: the item's properties
//! (`org.kde.StatusNotifierItem`) and its menu (`com.canonical.dbusmenu`: `GetGroupProperties`
//! to read the items, `Event(id, "clicked")` to click one).

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use zbus::zvariant::{OwnedValue, Value};

use crate::harness::{in_own_group, Proc, WAIT};

const WATCHER: &str = "org.kde.StatusNotifierWatcher";
const NOTIFICATIONS: &str = "org.freedesktop.Notifications";

/// The test bus: a session bus listening in the test's temp dir, open to everyone on it,
/// with no service directories.
const BUS_CONFIG: &str = r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=@DIR@</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#;

/// One notification as the daemon showed it (recorded by a dunst rule's script).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub app: String,
    pub summary: String,
    pub body: String,
}

pub struct Desktop {
    /// The bus address (`DBUS_SESSION_BUS_ADDRESS` for the app).
    pub address: String,
    conn: zbus::Connection,
    dir: tempfile::TempDir,
    // Dropped last: the daemons first, then the bus.
    _daemons: Vec<Proc>,
    _bus: Proc,
}

impl Desktop {
    /// Starts the bus and the tray watcher, and with `notifications` the notification daemon.
    pub async fn start(notifications: bool) -> Self {
        let dir = tempfile::tempdir().expect("tmp");
        // A session bus that activates nothing: no keyring, portals or accessibility bus get
        // started behind the test's back (the token goes to the file fallback).
        let config = dir.path().join("bus.conf");
        std::fs::write(
            &config,
            BUS_CONFIG.replace("@DIR@", &dir.path().display().to_string()),
        )
        .expect("bus config");
        let mut bus = Proc(
            in_own_group(&mut Command::new("dbus-daemon"))
                .arg(format!("--config-file={}", config.display()))
                .args(["--nofork", "--nosyslog", "--print-address=1"])
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("dbus-daemon (apt-get install dbus-daemon)"),
        );
        let mut address = String::new();
        BufReader::new(bus.0.stdout.take().expect("bus stdout"))
            .read_line(&mut address)
            .expect("the bus address");
        let address = address.trim().to_owned();
        assert!(!address.is_empty(), "dbus-daemon printed no address");
        let conn = zbus::connection::Builder::address(address.as_str())
            .expect("bus address")
            .build()
            .await
            .expect("connect to the test bus");

        let spawn = |cmd: &mut Command, what: &str| {
            Proc(
                in_own_group(cmd)
                    .env("DBUS_SESSION_BUS_ADDRESS", &address)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap_or_else(|e| panic!("{what}: {e} (see scripts/test-app.sh)")),
            )
        };
        let mut daemons = vec![spawn(
            &mut Command::new("status-notifier-watcher"),
            "status-notifier-watcher",
        )];
        if notifications {
            let record = dir.path().join("record.sh");
            let shown = dir.path().join("shown.tsv");
            std::fs::write(
                &record,
                format!(
                    "#!/bin/sh\nprintf '%s\\t%s\\t%s\\n' \"$DUNST_APP_NAME\" \"$DUNST_SUMMARY\" \"$DUNST_BODY\" >> '{}'\n",
                    shown.display()
                ),
            )
            .expect("record script");
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&record, std::fs::Permissions::from_mode(0o755))
                .expect("chmod");
            let config = dir.path().join("dunstrc");
            // No timeout: the notification stays until the test clicks it.
            std::fs::write(
                &config,
                format!(
                    "[global]\n    font = Monospace 8\n\n[hongyan]\n    appname = \"*\"\n    timeout = 0\n    script = {}\n",
                    record.display()
                ),
            )
            .expect("dunstrc");
            daemons.push(spawn(
                Command::new("dunst").arg("-config").arg(&config),
                "dunst",
            ));
        }
        let desktop = Self {
            address,
            conn,
            dir,
            _daemons: daemons,
            _bus: bus,
        };
        desktop.wait_name(WATCHER).await;
        if notifications {
            desktop.wait_name(NOTIFICATIONS).await;
        }
        desktop
    }

    async fn wait_name(&self, name: &str) {
        let dbus = zbus::fdo::DBusProxy::new(&self.conn).await.expect("proxy");
        let start = Instant::now();
        loop {
            let bus_name = zbus::names::BusName::try_from(name).expect("bus name");
            if dbus.name_has_owner(bus_name).await.unwrap_or(false) {
                return;
            }
            assert!(start.elapsed() < WAIT, "nobody owns {name} on the test bus");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The notifications the daemon has shown so far, oldest first.
    pub fn shown(&self) -> Vec<Shown> {
        std::fs::read_to_string(self.dir.path().join("shown.tsv"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                let mut f = l.splitn(3, '\t');
                Some(Shown {
                    app: f.next()?.to_owned(),
                    summary: f.next()?.to_owned(),
                    body: f.next()?.to_owned(),
                })
            })
            .collect()
    }

    /// Waits for a shown notification whose body is `body`.
    pub async fn wait_shown(&self, body: &str) -> Shown {
        let start = Instant::now();
        loop {
            if let Some(n) = self.shown().into_iter().find(|n| n.body == body) {
                return n;
            }
            assert!(
                start.elapsed() < WAIT,
                "no notification with body {body:?}; shown: {:?}",
                self.shown()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Clicks the newest notification on screen: the daemon invokes its default action
    /// (`dunstctl action 0`, what a click does with `mouse_left_click = do_action`).
    pub fn click_notification(&self) {
        let status = Command::new("dunstctl")
            .args(["action", "0"])
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .status()
            .expect("dunstctl");
        assert!(status.success(), "dunstctl action failed: {status}");
    }

    /// Gives the app's window the keyboard focus (`xdotool windowfocus`: without a window
    /// manager, X focus is otherwise wherever the pointer happens to be).
    pub fn focus_app_window(&self) {
        let status = Command::new("xdotool")
            .args([
                "search",
                "--sync",
                "--onlyvisible",
                "--name",
                "^Hongyan$",
                "windowfocus",
                "--sync",
            ])
            .status()
            .expect("xdotool (apt-get install xdotool)");
        assert!(
            status.success(),
            "xdotool could not focus the window: {status}"
        );
    }

    /// The app's tray item, once it has registered with the watcher.
    pub async fn tray(&self) -> Tray {
        let start = Instant::now();
        loop {
            let entries: Vec<(String, String)> = self
                .conn
                .call_method(
                    Some(WATCHER),
                    "/StatusNotifierWatcher",
                    Some("org.freedesktop.DBus.Properties"),
                    "Get",
                    &(WATCHER, "RegisteredSNIEntries"),
                )
                .await
                .ok()
                .and_then(|reply| reply.body().deserialize::<OwnedValue>().ok())
                .and_then(|v| Vec::<(String, String)>::try_from(v).ok())
                .unwrap_or_default();
            if let Some((service, path)) = entries.into_iter().next() {
                return Tray {
                    conn: self.conn.clone(),
                    service,
                    path,
                };
            }
            assert!(start.elapsed() < WAIT, "no tray item registered");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// One item of the tray menu.
#[derive(Debug, Clone)]
pub struct MenuEntry {
    pub id: i32,
    pub label: String,
    pub enabled: bool,
}

/// The app's StatusNotifierItem, seen from the bus.
pub struct Tray {
    conn: zbus::Connection,
    service: String,
    path: String,
}

impl Tray {
    async fn property(&self, name: &str) -> OwnedValue {
        self.conn
            .call_method(
                Some(self.service.as_str()),
                self.path.as_str(),
                Some("org.freedesktop.DBus.Properties"),
                "Get",
                &("org.kde.StatusNotifierItem", name),
            )
            .await
            .unwrap_or_else(|e| panic!("tray property {name}: {e}"))
            .body()
            .deserialize::<OwnedValue>()
            .expect("a variant")
    }

    /// The label shown next to the icon (`XAyatanaLabel`).
    pub async fn label(&self) -> String {
        String::try_from(self.property("XAyatanaLabel").await).expect("a string")
    }

    async fn menu_path(&self) -> String {
        let v = self.property("Menu").await;
        match &*v {
            Value::ObjectPath(p) => p.to_string(),
            other => panic!("Menu is not an object path: {other:?}"),
        }
    }

    /// The menu's items with a label, in id order.
    pub async fn menu(&self) -> Vec<MenuEntry> {
        // dbusmenu has no "all items" call that every server honours; the app's menu is
        // small, so ask for the first ids.
        let ids: Vec<i32> = (0..64).collect();
        let no_names: Vec<String> = Vec::new();
        let reply = self
            .conn
            .call_method(
                Some(self.service.as_str()),
                self.menu_path().await.as_str(),
                Some("com.canonical.dbusmenu"),
                "GetGroupProperties",
                &(ids, no_names),
            )
            .await
            .expect("GetGroupProperties");
        let items: Vec<(i32, HashMap<String, OwnedValue>)> =
            reply.body().deserialize().expect("a(ia{sv})");
        let mut out: Vec<MenuEntry> = items
            .into_iter()
            .filter_map(|(id, props)| {
                let label = props
                    .get("label")
                    .and_then(|v| String::try_from(v.try_clone().ok()?).ok())?;
                let enabled = props
                    .get("enabled")
                    .and_then(|v| bool::try_from(v).ok())
                    .unwrap_or(true);
                Some(MenuEntry { id, label, enabled })
            })
            .collect();
        out.sort_by_key(|e| e.id);
        out
    }

    /// Waits until the menu has an item labelled `label`; returns it.
    pub async fn wait_item(&self, label: &str) -> MenuEntry {
        let start = Instant::now();
        loop {
            let menu = self.menu().await;
            if let Some(e) = menu.iter().find(|e| e.label == label) {
                return e.clone();
            }
            assert!(
                start.elapsed() < WAIT,
                "no tray menu item {label:?}; menu: {menu:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the label next to the icon is `want`.
    pub async fn wait_label(&self, want: &str) {
        let start = Instant::now();
        loop {
            let now = self.label().await;
            if now == want {
                return;
            }
            assert!(
                start.elapsed() < WAIT,
                "tray label {now:?}, expected {want:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Clicks the menu item labelled `label`, as a panel does.
    pub async fn click(&self, label: &str) {
        let item = self.wait_item(label).await;
        let timestamp = 0u32;
        self.conn
            .call_method(
                Some(self.service.as_str()),
                self.menu_path().await.as_str(),
                Some("com.canonical.dbusmenu"),
                "Event",
                &(item.id, "clicked", Value::from(0i32), timestamp),
            )
            .await
            .unwrap_or_else(|e| panic!("click {label:?}: {e}"));
    }
}
