//! Hongyan desktop app: the Tauri 2 shell over `hongyan-sdk`.
//!
//! The SDK runs in-process on Tauri's async runtime. The UI calls the typed commands in
//! [`commands`] and listens to the events of [`events`] (the contract: docs/IPC.md). Tray,
//! desktop notifications, single instance and window state live here too.

pub mod commands;
pub mod error;
pub mod events;
pub mod media;
pub mod notify;
pub mod settings;
pub mod state;
pub mod tray;
pub mod updater;

use std::time::{Duration, Instant};

use hongyan_sdk::{Client, Event};
use tauri::{AppHandle, Manager, RunEvent, WindowEvent};
use tokio::sync::broadcast::error::RecvError;

use crate::commands::{emit, emit_unread};
use crate::state::{lock, AppState};

/// The main window's label.
pub const MAIN_WINDOW: &str = "main";

/// Shows, unminimizes and focuses the main window.
pub fn show_main(app: &AppHandle) {
    if let Some(w) = app.get_webview_window(MAIN_WINDOW) {
        let _ = w.show();
        let _ = w.unminimize();
        let _ = w.set_focus();
    }
}

/// Whether the user is looking at the main window.
pub fn main_focused(app: &AppHandle) -> bool {
    app.get_webview_window(MAIN_WINDOW).is_some_and(|w| {
        w.is_visible().unwrap_or(false)
            && !w.is_minimized().unwrap_or(false)
            && w.is_focused().unwrap_or(false)
    })
}

/// Emits `unread-total` and updates the tray.
pub fn publish_unread(app: &AppHandle, total: u64) {
    emit_unread(app, total);
    tray::set_unread(app, total);
}

/// After a login or resume: recompute the unread total from the store.
pub async fn after_login(app: &AppHandle, state: &AppState, client: &Client) {
    match client.conversations().await {
        Ok(list) => {
            let total = lock(&state.unread).reset(&list);
            publish_unread(app, total);
        }
        Err(e) => tracing::warn!(error = %e, "could not count unread messages"),
    }
}

/// Builds the client for `server_url` (shutting the old one down) with its event forwarder.
pub async fn rebuild_client(app: &AppHandle, state: &AppState, server_url: &str) {
    let handle = app.clone();
    let (built, old) = state.install_client(server_url, move |client| {
        tauri::async_runtime::spawn(forward_events(handle, client.clone()))
    });
    if let Err(e) = &built {
        tracing::warn!(error = %e, server_url, "no client for this server address");
    }
    if let Some(old) = old {
        old.shutdown().await;
    }
    publish_unread(app, 0);
    emit(
        app,
        events::CONNECTION_STATE,
        serde_json::json!({ "state": "offline" }),
    );
}

/// Forwards the client's events to the UI (and the tray and notifications) until aborted.
async fn forward_events(app: AppHandle, client: Client) {
    let mut rx = client.events();
    loop {
        let event = match rx.recv().await {
            Ok(e) => e,
            Err(RecvError::Closed) => return,
            Err(RecvError::Lagged(n)) => {
                // The store has the truth: resend every conversation and the total.
                tracing::warn!(
                    missed = n,
                    "the UI event stream lagged; resending conversations"
                );
                if let Ok(list) = client.conversations().await {
                    for c in &list {
                        if let Some((name, payload)) =
                            events::to_ipc(&Event::ConversationUpdated(c.clone()))
                        {
                            emit(&app, name, payload);
                        }
                    }
                    let total = lock(&app.state::<AppState>().unread).reset(&list);
                    publish_unread(&app, total);
                }
                continue;
            }
        };
        if let Some((name, payload)) = events::to_ipc(&event) {
            emit(&app, name, payload);
        }
        match &event {
            Event::ConversationUpdated(c) => {
                let total = lock(&app.state::<AppState>().unread).update(c);
                publish_unread(&app, total);
            }
            Event::MessageReceived(m) if !main_focused(&app) => {
                let state = app.state::<AppState>();
                *lock(&state.pending_open) = Some(m.conversation_id.clone());
                if lock(&state.settings).notifications {
                    let sender = lock(&state.users)
                        .get(&m.from)
                        .map(|u| u.nickname.clone())
                        .unwrap_or_else(|| m.from.clone());
                    notify::message(&app, &sender, m);
                }
            }
            Event::LoginRejected { code, .. }
                if *code == hongyan_sdk::codes::LOGIN_CLIENT_TOO_OLD =>
            {
                let app = app.clone();
                tauri::async_runtime::spawn(async move { updater::check_and_announce(&app).await });
            }
            Event::FriendRequestReceived(r)
                if !main_focused(&app) && lock(&app.state::<AppState>().settings).notifications =>
            {
                notify::friend_request(&app, r);
            }
            _ => {}
        }
    }
}

/// Starts the app (called by `main`). `started` is the process start, for the
/// cold-start figure logged when the UI first calls `app_info`.
pub fn run(started: Instant) {
    let app = tauri::Builder::default()
        // First: a second launch hands over to the running one and exits.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            show_main(app);
        }))
        .plugin(
            tauri_plugin_window_state::Builder::default()
                .with_state_flags(
                    tauri_plugin_window_state::StateFlags::all()
                        - tauri_plugin_window_state::StateFlags::VISIBLE,
                )
                .build(),
        )
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_dialog::init())
        // Updates from the configured server (docs/UPDATES.md; endpoints set per check).
        .plugin(tauri_plugin_updater::Builder::new().build())
        .manage(updater::PendingUpdate::default())
        // Cached images and stickers for <img> (docs/MEDIA.md): served from the SDK's cache.
        .register_asynchronous_uri_scheme_protocol(media::SCHEME, |ctx, request, responder| {
            let app = ctx.app_handle().clone();
            let path = request.uri().path().to_owned();
            tauri::async_runtime::spawn(async move {
                responder.respond(media::serve(&app, &path).await);
            });
        })
        .setup(move |app| {
            let handle = app.handle().clone();
            let config_dir = app.path().app_config_dir()?;
            let fallback = app.path().app_data_dir()?;
            let data_dir = state::data_dir(std::env::var(state::DATA_DIR_ENV).ok(), &fallback);
            let settings = settings::load(&config_dir, settings::env_server());
            tracing::info!(data_dir = %data_dir.display(), config_dir = %config_dir.display(),
                server = %settings.server_url, "starting");
            let server_url = settings.server_url.clone();
            app.manage(AppState::new(started, config_dir, data_dir, settings));
            if let Err(e) = tray::create(&handle) {
                tracing::warn!(error = %e, "no tray icon");
            }
            tauri::async_runtime::block_on(async {
                rebuild_client(&handle, &handle.state::<AppState>(), &server_url).await;
            });
            updater::spawn_periodic_checks(handle);
            Ok(())
        })
        .on_window_event(|window, event| {
            // With a tray icon, closing the window hides it; Quit is in the tray menu.
            if let WindowEvent::CloseRequested { api, .. } = event {
                if window.label() == MAIN_WINDOW
                    && window.app_handle().tray_by_id(tray::ID).is_some()
                {
                    api.prevent_close();
                    let _ = window.hide();
                }
            }
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::get_settings,
            commands::set_settings,
            commands::resume_session,
            commands::register,
            commands::login,
            commands::logout,
            commands::list_conversations,
            commands::load_history,
            commands::send_text,
            commands::retry_message,
            commands::mark_read,
            commands::connection_state,
            commands::get_user,
            commands::search_users,
            commands::list_friends,
            commands::friend_requests,
            commands::send_friend_request,
            commands::respond_friend_request,
            commands::remove_friend,
            commands::get_presence,
            commands::create_group,
            commands::list_groups,
            commands::get_group,
            commands::rename_group,
            commands::group_members,
            commands::add_group_members,
            commands::remove_group_member,
            commands::leave_group,
            commands::refresh_notices,
            commands::send_typing,
            commands::search,
            commands::history_around,
            commands::index_status,
            media::prepare_image,
            media::send_image,
            media::sticker_packs,
            media::send_sticker,
            media::save_media,
            updater::check_update,
            updater::install_update,
        ])
        .build(tauri::generate_context!())
        .expect("the Tauri app failed to build");

    app.run(|app, event| {
        if let RunEvent::Exit = event {
            // Close the connection cleanly; the token stays only if "remember me" was on
            // (otherwise it was never kept past the login).
            if let Ok(client) = app.state::<AppState>().client() {
                tauri::async_runtime::block_on(async {
                    let _ = tokio::time::timeout(Duration::from_secs(3), client.shutdown()).await;
                });
            }
        }
    });
}
