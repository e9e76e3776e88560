//! CPU time and memory of the processes a cluster benchmark runs (Linux `/proc`): on 2 shared
//! cores every process competes, so "where the time goes" is CPU seconds per process.

use std::{io, time::Duration};

pub use hongyan_tests::{daemon::children_of, server::rss_of};

/// User + system CPU time `pid` has used so far.
pub fn cpu_time(pid: u32) -> io::Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    cpu_from_stat(&stat, clock_ticks())
        .ok_or_else(|| io::Error::other(format!("unreadable /proc/{pid}/stat")))
}

/// CPU time of `pid` and its direct children (PostgreSQL: the postmaster and its backends,
/// which live for the whole run in the nodes' pools). A child that ended before the sample is
/// not counted: sample while the workload runs.
pub fn tree_cpu_time(pid: u32) -> io::Result<Duration> {
    let mut total = cpu_time(pid)?;
    for child in children_of(pid) {
        // A backend may end between listing and reading it.
        total += cpu_time(child).unwrap_or_default();
    }
    Ok(total)
}

/// Resident memory of `pid` and its direct children, in bytes.
pub fn tree_rss(pid: u32) -> io::Result<u64> {
    let mut total = rss_of(pid)?;
    for child in children_of(pid) {
        total += rss_of(child).unwrap_or_default();
    }
    Ok(total)
}

/// The first process whose command line has every one of `words` as an argument (how the
/// bench finds nats-server, whose harness does not expose its pid).
pub fn find_by_args(words: &[&str]) -> Option<u32> {
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
            let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
            words
                .iter()
                .all(|w| args.contains(&w.as_bytes()))
                .then_some(pid)
        })
        .min()
}

/// Clock ticks per second of `/proc/<pid>/stat`'s times.
fn clock_ticks() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    u64::try_from(ticks).ok().filter(|t| *t > 0).unwrap_or(100)
}

/// utime + stime (fields 14 and 15) of a `/proc/<pid>/stat` line.
fn cpu_from_stat(stat: &str, ticks_per_sec: u64) -> Option<Duration> {
    // After "pid (comm) ": state is field 3, so utime/stime are the 12th/13th from here.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let mut fields = rest.split(' ').skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_secs_f64(
        (utime + stime) as f64 / ticks_per_sec as f64,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_utime_and_stime_after_the_command_name() {
        // A command name with spaces and parentheses must not shift the fields.
        let stat = "42 (a (b) c) S 1 42 42 0 -1 4194304 100 0 0 0 250 50 0 0 20 0 1 0";
        assert_eq!(cpu_from_stat(stat, 100), Some(Duration::from_secs(3)));
        assert_eq!(cpu_from_stat("42 (x) S 1", 100), None);
    }

    #[test]
    fn own_process_is_found_and_measured() {
        let me = std::process::id();
        assert!(tree_rss(me).expect("rss") > 0);
        assert!(cpu_time(me).is_ok());
        let exe = std::env::args().next().expect("argv[0]");
        assert!(find_by_args(&[&exe]).is_some());
    }
}
