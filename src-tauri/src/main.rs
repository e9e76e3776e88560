// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    let started = std::time::Instant::now();
    let filter = tracing_subscriber::EnvFilter::try_from_env("HONGYAN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,hongyan_app=info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    hongyan_app::run(started);
}
