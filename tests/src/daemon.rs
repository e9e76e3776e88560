//! Process plumbing shared by [`crate::PgServer`] and [`crate::NatsServer`]: a free loopback
//! port, and a daemon child in its own process group that is stopped gracefully (signal, wait)
//! with SIGKILL of the group and of the leader's children as the fallback, so a test leaves no
//! processes behind. (PostgreSQL's workers call setsid(): the group alone does not reach them.)

use std::{
    io,
    net::{Ipv4Addr, TcpListener},
    os::unix::process::CommandExt,
    process::{Child, Command},
    thread,
    time::{Duration, Instant},
};

/// A port on 127.0.0.1 that was free a moment ago (the OS picks it; the daemon binds it next).
pub fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

/// A running daemon, leader of its own process group.
#[derive(Debug)]
pub struct Daemon {
    child: Child,
}

impl Daemon {
    /// Spawns `cmd` as the leader of a new process group (so Ctrl+C on the terminal reaches
    /// only our parent, and a group kill reaches every worker the daemon forked).
    pub fn spawn(name: &'static str, mut cmd: Command) -> io::Result<Self> {
        let child = cmd
            .process_group(0)
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("starting {name}: {e}")))?;
        Ok(Self { child })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `Some(status text)` when the process has exited already.
    pub fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            Ok(None) => None,
            Err(e) => Some(format!("unknown ({e})")),
        }
    }

    /// Sends `signal` (e.g. "INT", "TERM") to the leader and waits up to `grace` for it to
    /// exit; then SIGKILLs the whole group. Never panics (it runs from `Drop`).
    pub fn stop(&mut self, signal: &str, grace: Duration) {
        if self.exited().is_none() {
            send(signal, &self.pid().to_string());
            let deadline = Instant::now() + grace;
            while self.exited().is_none() && Instant::now() < deadline {
                thread::sleep(Duration::from_millis(20));
            }
        }
        // A leader that ignored the signal, and workers that outlived it.
        self.kill_children();
        send("KILL", &format!("-{}", self.pid()));
        if self.exited().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    /// SIGKILLs the whole group at once: a crash, no chance to clean up.
    pub fn kill(&mut self) {
        self.kill_children();
        send("KILL", &format!("-{}", self.pid()));
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Daemon {
    fn kill_children(&self) {
        for pid in children_of(self.pid()) {
            send("KILL", &pid.to_string());
        }
    }
}

/// The processes whose parent is `ppid` (from /proc; empty where there is no /proc).
pub fn children_of(ppid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            // After the parenthesised command: state, ppid, …
            let rest = &stat[stat.rfind(')')? + 2..];
            let parent: u32 = rest.split(' ').nth(1)?.parse().ok()?;
            (parent == ppid).then_some(pid)
        })
        .collect()
}

/// `kill -<signal> -- <target>` (a negative target is a process group); errors are ignored:
/// the target may be gone already.
fn send(signal: &str, target: &str) {
    let _ = Command::new("kill")
        .args([&format!("-{signal}"), "--", target])
        .stderr(std::process::Stdio::null())
        .status();
}
