//! Starts a throwaway PostgreSQL server with the test harness's [`PgServer`] (so root, ports
//! and cleanup are handled once), prints `HONGYAN_TEST_POSTGRES=<url>` on stdout and runs
//! until SIGINT, SIGTERM or the end of stdin, then stops it and removes its data.
//! `scripts/test.sh` uses it for the integration suite's PostgreSQL pass.

use std::io::Write;

use hongyan_tests::{database::TEST_POSTGRES_ENV, PgServer};
use tokio::{
    io::AsyncReadExt,
    signal::unix::{signal, SignalKind},
};

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let pg = match PgServer::try_start().await {
        Ok(pg) => pg,
        Err(e) => {
            eprintln!("hongyan-test-postgres: {e}");
            std::process::exit(1);
        }
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "{TEST_POSTGRES_ENV}={}", pg.url())?;
    out.flush()?;
    drop(out);

    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let stdin_closed = async {
        let mut stdin = tokio::io::stdin();
        let mut buf = [0u8; 64];
        while !matches!(stdin.read(&mut buf).await, Ok(0) | Err(_)) {}
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
        _ = stdin_closed => {}
    }
    drop(pg);
    Ok(())
}
