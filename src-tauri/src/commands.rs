//! The typed commands of docs/IPC.md. Every one returns `Result<_, IpcError>`.

use std::sync::atomic::Ordering;

use hongyan_sdk::{Account, ConnectionState, Conversation, HistoryCursor, Message, User};
use serde::Serialize;
use tauri::{AppHandle, Emitter, State};

use crate::error::{IpcError, IpcResult};
use crate::events;
use crate::settings::{self, Settings};
use crate::state::{self, lock, AppState};

/// Largest history page the UI may ask for.
pub const MAX_HISTORY_PAGE: u32 = 200;

#[derive(Debug, Serialize)]
pub struct AppInfo {
    pub app_version: &'static str,
    pub core_level: u32,
    pub platform: &'static str,
}

/// The first `app_info` call is the UI saying it is up: logged with the time since start.
#[tauri::command]
pub fn app_info(state: State<'_, AppState>) -> AppInfo {
    if !state.ready_logged.swap(true, Ordering::SeqCst) {
        let ms = state.started.elapsed().as_millis();
        tracing::info!(ms, "ui ready (first app_info)");
        if let Ok(path) = std::env::var("HONGYAN_TIMING_FILE") {
            let _ = std::fs::write(path, format!("ui_ready_ms={ms}\n"));
        }
    }
    AppInfo {
        app_version: env!("CARGO_PKG_VERSION"),
        core_level: hongyan_sdk::CORE_LEVEL,
        platform: std::env::consts::OS,
    }
}

#[tauri::command]
pub fn get_settings(state: State<'_, AppState>) -> Settings {
    lock(&state.settings).clone()
}

/// Validates and saves; a changed `server_url` rebuilds the client (the old one is shut
/// down: a remembered login on the old server stays saved for when it comes back).
#[tauri::command]
pub async fn set_settings(
    app: AppHandle,
    state: State<'_, AppState>,
    settings: Settings,
) -> IpcResult<Settings> {
    let settings = settings.validated()?;
    let previous = lock(&state.settings).clone();
    settings::save(&state.config_dir, &settings)
        .map_err(|e| IpcError::internal(format!("Could not save the settings ({e}).")))?;
    *lock(&state.settings) = settings.clone();
    if previous.server_url != settings.server_url {
        crate::rebuild_client(&app, &state, &settings.server_url).await;
    }
    Ok(settings)
}

#[tauri::command]
pub async fn resume_session(
    app: AppHandle,
    state: State<'_, AppState>,
) -> IpcResult<Option<Account>> {
    let client = state.client()?;
    let account = client.resume().await?;
    if account.is_some() {
        crate::after_login(&app, &state, &client).await;
    }
    Ok(account)
}

#[tauri::command]
pub async fn register(
    state: State<'_, AppState>,
    username: String,
    password: String,
    nickname: Option<String>,
) -> IpcResult<User> {
    let nickname = nickname
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    let user = state
        .client()?
        .register(username.trim(), &password, nickname.as_deref())
        .await?;
    Ok(User {
        nickname: nickname.unwrap_or_else(|| user.username.clone()),
        user_id: user.user_id,
        username: user.username,
    })
}

#[tauri::command]
pub async fn login(
    app: AppHandle,
    state: State<'_, AppState>,
    username: String,
    password: String,
    remember: bool,
) -> IpcResult<Account> {
    let client = state.client()?;
    // After a kick-out, an expired token or a refused login the engine has stopped but the
    // SDK still holds the old session: close it so this login can start a new one.
    if client.account().is_some() && client.connection_state() == ConnectionState::Offline {
        client.shutdown().await;
    }
    let account = client.login(username.trim(), &password).await?;
    state.remember.store(remember, Ordering::SeqCst);
    if !remember {
        let url = lock(&state.settings).server_url.clone();
        if let Err(e) =
            state::forget_saved_login(&client, &url, &state.data_dir, &account.user_id).await
        {
            tracing::warn!(error = %e, "could not drop the saved sign-in");
        }
    }
    crate::after_login(&app, &state, &client).await;
    Ok(account)
}

#[tauri::command]
pub async fn logout(app: AppHandle, state: State<'_, AppState>) -> IpcResult<()> {
    let client = state.client()?;
    let result = client.logout().await;
    lock(&state.users).clear();
    lock(&state.unread).reset(&[]);
    *lock(&state.pending_open) = None;
    crate::publish_unread(&app, 0);
    match result {
        Ok(()) | Err(hongyan_sdk::Error::NotLoggedIn) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

#[tauri::command]
pub async fn list_conversations(state: State<'_, AppState>) -> IpcResult<Vec<Conversation>> {
    Ok(state.client()?.conversations().await?)
}

#[tauri::command]
pub async fn load_history(
    state: State<'_, AppState>,
    conversation_id: String,
    before: Option<HistoryCursor>,
    limit: u32,
) -> IpcResult<Vec<Message>> {
    let limit = limit.clamp(1, MAX_HISTORY_PAGE) as usize;
    Ok(state
        .client()?
        .history(&conversation_id, before, limit)
        .await?)
}

#[tauri::command]
pub async fn send_text(state: State<'_, AppState>, to: String, text: String) -> IpcResult<Message> {
    if text.trim().is_empty() {
        return Err(IpcError::invalid_request("There is nothing to send."));
    }
    Ok(state.client()?.send_text(to.trim(), &text).await?)
}

#[tauri::command]
pub async fn retry_message(state: State<'_, AppState>, id: String) -> IpcResult<Message> {
    Ok(state.client()?.retry(&id).await?)
}

#[tauri::command]
pub async fn mark_read(state: State<'_, AppState>, conversation_id: String) -> IpcResult<()> {
    Ok(state.client()?.mark_read(&conversation_id).await?)
}

#[tauri::command]
pub fn connection_state(state: State<'_, AppState>) -> IpcResult<ConnectionState> {
    Ok(state.client()?.connection_state())
}

/// Cached per login (profiles rarely change; a restart or re-login refreshes them).
#[tauri::command]
pub async fn get_user(state: State<'_, AppState>, user_id: String) -> IpcResult<User> {
    let user_id = user_id.trim().to_owned();
    if let Some(u) = lock(&state.users).get(&user_id) {
        return Ok(u.clone());
    }
    let user = state.client()?.get_user(&user_id).await.map_err(|e| {
        let mut e = IpcError::from(e);
        if e.kind == "not_found" {
            e.message = format!("There is no user with the id {user_id}.");
        }
        e
    })?;
    lock(&state.users).insert(user_id, user.clone());
    Ok(user)
}

#[tauri::command]
pub async fn search_users(state: State<'_, AppState>, query: String) -> IpcResult<Vec<User>> {
    let query = query.trim();
    if query.is_empty() {
        return Ok(Vec::new());
    }
    let users = state.client()?.search_users(query).await?;
    let mut cache = lock(&state.users);
    for u in &users {
        cache.insert(u.user_id.clone(), u.clone());
    }
    Ok(users)
}

/// Emits `name` to the UI, logging (not failing) when that is impossible.
pub fn emit(app: &AppHandle, name: &str, payload: serde_json::Value) {
    if let Err(e) = app.emit(name, payload) {
        tracing::warn!(error = %e, event = name, "could not emit");
    }
}

/// The `unread-total` event.
pub fn emit_unread(app: &AppHandle, total: u64) {
    emit(app, events::UNREAD_TOTAL, events::unread_total(total));
}
