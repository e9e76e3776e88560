// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

/// JavaScriptCore option read by WebKitGTK's web process, which inherits our environment.
const JSC_JIT_ENV: &str = "JSC_useJIT";

fn main() {
    let started = std::time::Instant::now();
    // Before any thread exists (set_var is only sound then): the web process runs the UI's
    // JavaScript without a JIT unless the user says otherwise. −17 MiB idle PSS, same cold
    // start (docs/BENCHMARKS.md, "Desktop app"); the UI is small and event-driven, the case
    // WebKit's JIT-less mode (Lockdown Mode on Apple platforms) is made for.
    #[cfg(target_os = "linux")]
    if std::env::var_os(JSC_JIT_ENV).is_none() {
        std::env::set_var(JSC_JIT_ENV, "false");
    }
    let mut filter = tracing_subscriber::EnvFilter::try_from_env("HONGYAN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,hongyan_app=info"));
    for directive in hongyan_sdk::LOG_REDACTION_DIRECTIVES {
        filter = filter.add_directive(directive.parse().expect("a valid static directive"));
    }
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    hongyan_app::run(started);
}
