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
    "list_friends",
    "friend_requests",
    "send_friend_request",
    "respond_friend_request",
    "remove_friend",
    "get_presence",
    "create_group",
    "list_groups",
    "get_group",
    "rename_group",
    "group_members",
    "add_group_members",
    "remove_group_member",
    "leave_group",
    "refresh_notices",
    "send_typing",
    "search",
    "history_around",
    "index_status",
    "prepare_image",
    "send_image",
    "sticker_packs",
    "send_sticker",
    "save_media",
    "check_update",
    "install_update",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri build script");
}
