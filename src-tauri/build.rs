//! Generates the Tauri context and one permission per app command (`allow-<command>`), so
//! the capability in `capabilities/main.json` can list exactly the commands the UI may call.

const COMMANDS: &[&str] = &[
    "app_info",
    "get_settings",
    "set_settings",
    "resume_session",
    "register",
    "login",
    "logout",
    "list_conversations",
    "load_history",
    "send_text",
    "retry_message",
    "mark_read",
    "connection_state",
    "get_user",
    "search_users",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri build script");
}
