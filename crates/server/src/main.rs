//! `hongyan-server`: parses flags, sets up logging, runs the server until SIGTERM / Ctrl-C.

mod admin;

use std::io::Write;

use anyhow::Context;
use clap::Parser;
use hongyan_server::{config::Command, Cli, LogFormat, Server};
use tracing_subscriber::EnvFilter;

// glibc malloc keeps each argon2 call's 19 MiB in per-thread arenas (hundreds of MB after a
// burst of logins) and fragments under many connections; mimalloc returns freed memory.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn init_logging(format: LogFormat) {
    let mut filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    for directive in hongyan_protocol::LOG_REDACTION_DIRECTIVES {
        filter = filter.add_directive(directive.parse().expect("a valid static directive"));
    }
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut cli = Cli::parse();
    if let Some(Command::Admin(args)) = cli.command.take() {
        return admin::run(args).await;
    }
    init_logging(cli.log_format);
    let config = cli
        .into_config()
        .map_err(anyhow::Error::msg)
        .context("invalid configuration")?;
    tracing::info!(
        data_dir = %config.data_dir.display(),
        read_timeout = ?config.read_timeout,
        store = if config.postgres.is_some() { "postgres" } else { "sqlite" },
        nats = config.nats.is_some(),
        node = %config.node_name,
        "starting"
    );
    let server = Server::bind(config).await.context("cannot start")?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", server.listening_line())?;
        out.flush()?;
    }
    server.run(shutdown_signal()).await?;
    Ok(())
}
