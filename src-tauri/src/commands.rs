//! The typed commands of docs/IPC.md. Every one returns `Result<_, IpcError>`.

use std::sync::atomic::Ordering;

use hongyan_sdk::model::{Friend, FriendRequest, FriendRequests, Group, Member};
use hongyan_sdk::search::{Order, Query};
use hongyan_sdk::{
    Account, ConnectionState, Conversation, HistoryCursor, IndexStatus, Message, SearchPage, User,
};
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
    /// `supported` when this copy can update itself (installed from a package).
    pub updates: &'static str,
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
        updates: if crate::updater::supported() {
            "supported"
        } else {
            "unsupported"
        },
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
    let account = client
        .resume()
        .await
        .inspect_err(|e| crate::updater::offer_if_too_old(&app, e))?;
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
    let account = client
        .login(username.trim(), &password)
        .await
        .inspect_err(|e| crate::updater::offer_if_too_old(&app, e))?;
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
    let user = state
        .client()?
        .get_user(&user_id)
        .await
        .map_err(|e| not_found_as(e, format!("There is no user with the id {user_id}.")))?;
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

/// Longest group name the app sends (the server has the final word).
pub const MAX_GROUP_NAME: usize = 64;
/// Longest friend-request message.
pub const MAX_REQUEST_MESSAGE: usize = 200;

/// A user id argument: trimmed, not empty.
fn user_id_arg(id: &str) -> IpcResult<String> {
    let id = id.trim();
    if id.is_empty() {
        return Err(IpcError::invalid_request("A user id is needed."));
    }
    Ok(id.to_owned())
}

/// A group id argument: `g<digits>`.
fn group_id_arg(id: &str) -> IpcResult<String> {
    let id = id.trim();
    let digits = id.strip_prefix('g').unwrap_or("");
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(IpcError::invalid_request(format!(
            "“{id}” is not a group id (they look like g12)."
        )));
    }
    Ok(id.to_owned())
}

/// A group name argument: trimmed, 1 to [`MAX_GROUP_NAME`] characters.
fn group_name_arg(name: &str) -> IpcResult<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(IpcError::invalid_request("The group needs a name."));
    }
    if name.chars().count() > MAX_GROUP_NAME {
        return Err(IpcError::invalid_request(format!(
            "A group name may have at most {MAX_GROUP_NAME} characters."
        )));
    }
    Ok(name.to_owned())
}

/// Member ids: each trimmed and not empty, duplicates dropped, at least one.
fn member_ids_arg(members: &[String]) -> IpcResult<Vec<String>> {
    let mut out: Vec<String> = Vec::with_capacity(members.len());
    for m in members {
        let id = user_id_arg(m)?;
        if !out.contains(&id) {
            out.push(id);
        }
    }
    if out.is_empty() {
        return Err(IpcError::invalid_request("Choose at least one member."));
    }
    Ok(out)
}

/// Keeps profiles the server sent along (friends, requests, members) for names in
/// notifications and `get_user`.
fn remember_users<'a>(state: &AppState, users: impl IntoIterator<Item = &'a User>) {
    let mut cache = lock(&state.users);
    for u in users {
        cache.insert(u.user_id.clone(), u.clone());
    }
}

#[tauri::command]
pub async fn list_friends(state: State<'_, AppState>) -> IpcResult<Vec<Friend>> {
    let friends = state.client()?.friends().await?;
    remember_users(&state, friends.iter().map(|f| &f.user));
    Ok(friends)
}

#[tauri::command]
pub async fn friend_requests(state: State<'_, AppState>) -> IpcResult<FriendRequests> {
    let r = state.client()?.friend_requests().await?;
    remember_users(&state, r.incoming.iter().map(|x| &x.from));
    remember_users(&state, r.outgoing.iter().map(|x| &x.to));
    Ok(r)
}

#[tauri::command]
pub async fn send_friend_request(
    state: State<'_, AppState>,
    to_user_id: String,
    message: Option<String>,
) -> IpcResult<FriendRequest> {
    let to = user_id_arg(&to_user_id)?;
    let message = message.unwrap_or_default();
    let message = message.trim();
    if message.chars().count() > MAX_REQUEST_MESSAGE {
        return Err(IpcError::invalid_request(format!(
            "The message may have at most {MAX_REQUEST_MESSAGE} characters."
        )));
    }
    state
        .client()?
        .send_friend_request(&to, message)
        .await
        .map_err(|e| not_found_as(e, format!("There is no user with the id {to}.")))
}

#[tauri::command]
pub async fn respond_friend_request(
    state: State<'_, AppState>,
    id: i64,
    accept: bool,
) -> IpcResult<FriendRequest> {
    let client = state.client()?;
    let answer = if accept {
        client.accept_friend_request(id).await
    } else {
        client.decline_friend_request(id).await
    };
    answer.map_err(|e| not_found_as(e, "That friend request no longer exists.".into()))
}

#[tauri::command]
pub async fn remove_friend(state: State<'_, AppState>, user_id: String) -> IpcResult<()> {
    let id = user_id_arg(&user_id)?;
    Ok(state.client()?.remove_friend(&id).await?)
}

/// The last known online state (pushed for friends); `false` when unknown.
#[tauri::command]
pub fn get_presence(state: State<'_, AppState>, user_id: String) -> IpcResult<bool> {
    Ok(state.client()?.presence(user_id.trim()))
}

#[tauri::command]
pub async fn create_group(
    state: State<'_, AppState>,
    name: String,
    members: Vec<String>,
) -> IpcResult<Group> {
    let name = group_name_arg(&name)?;
    let members = member_ids_arg(&members)?;
    Ok(state.client()?.create_group(&name, &members).await?)
}

#[tauri::command]
pub async fn list_groups(state: State<'_, AppState>) -> IpcResult<Vec<Group>> {
    Ok(state.client()?.groups().await?)
}

#[tauri::command]
pub async fn get_group(state: State<'_, AppState>, group_id: String) -> IpcResult<Group> {
    let gid = group_id_arg(&group_id)?;
    state
        .client()?
        .group(&gid)
        .await
        .map_err(|e| not_found_as(e, not_a_member(&gid)))
}

#[tauri::command]
pub async fn rename_group(
    state: State<'_, AppState>,
    group_id: String,
    name: String,
) -> IpcResult<Group> {
    let gid = group_id_arg(&group_id)?;
    let name = group_name_arg(&name)?;
    state
        .client()?
        .rename_group(&gid, &name)
        .await
        .map_err(|e| not_found_as(e, not_a_member(&gid)))
}

#[tauri::command]
pub async fn group_members(state: State<'_, AppState>, group_id: String) -> IpcResult<Vec<Member>> {
    let gid = group_id_arg(&group_id)?;
    let members = state
        .client()?
        .group_members(&gid)
        .await
        .map_err(|e| not_found_as(e, not_a_member(&gid)))?;
    remember_users(&state, members.iter().map(|m| &m.user));
    Ok(members)
}

#[tauri::command]
pub async fn add_group_members(
    state: State<'_, AppState>,
    group_id: String,
    members: Vec<String>,
) -> IpcResult<Group> {
    let gid = group_id_arg(&group_id)?;
    let members = member_ids_arg(&members)?;
    state
        .client()?
        .add_group_members(&gid, &members)
        .await
        .map_err(|e| not_found_as(e, not_a_member(&gid)))
}

#[tauri::command]
pub async fn remove_group_member(
    state: State<'_, AppState>,
    group_id: String,
    user_id: String,
) -> IpcResult<()> {
    let gid = group_id_arg(&group_id)?;
    let id = user_id_arg(&user_id)?;
    Ok(state.client()?.remove_group_member(&gid, &id).await?)
}

#[tauri::command]
pub async fn leave_group(state: State<'_, AppState>, group_id: String) -> IpcResult<()> {
    let gid = group_id_arg(&group_id)?;
    state
        .client()?
        .leave_group(&gid)
        .await
        .map_err(|e| not_found_as(e, not_a_member(&gid)))
}

/// Pulls changed notices into the `notices` conversation (new ones arrive as events).
#[tauri::command]
pub async fn refresh_notices(state: State<'_, AppState>) -> IpcResult<()> {
    state.client()?.refresh_notices().await?;
    Ok(())
}

/// "I am typing" to a 1:1 peer; the SDK throttles it and ignores groups and the notices.
#[tauri::command]
pub async fn send_typing(state: State<'_, AppState>, conversation_id: String) -> IpcResult<()> {
    Ok(state.client()?.send_typing(conversation_id.trim()).await?)
}

// --- full-text search (docs/SEARCH.md, issue 6) ---------------------------------------

/// Longest search text, in characters (the UI's field has the same bound).
pub const MAX_SEARCH_TEXT: usize = 200;
/// Largest page of search hits.
pub const MAX_SEARCH_PAGE: usize = hongyan_sdk::search::MAX_LIMIT;
/// Most messages on each side of `history_around`.
pub const MAX_AROUND: u32 = 200;

/// The `search` command's arguments, checked: text 1 to [`MAX_SEARCH_TEXT`] characters after
/// trimming, `limit` 1 to [`MAX_SEARCH_PAGE`], a date range that is not reversed; blank
/// filters count as absent.
#[allow(clippy::too_many_arguments)]
fn search_query_arg(
    text: &str,
    conversation_id: Option<String>,
    sender: Option<String>,
    from_ms: Option<i64>,
    to_ms: Option<i64>,
    order: Order,
    offset: usize,
    limit: usize,
) -> IpcResult<Query> {
    let text = text.trim();
    if text.is_empty() {
        return Err(IpcError::invalid_request("Type something to search for."));
    }
    if text.chars().count() > MAX_SEARCH_TEXT {
        return Err(IpcError::invalid_request(format!(
            "The search text is too long (at most {MAX_SEARCH_TEXT} characters)."
        )));
    }
    if !(1..=MAX_SEARCH_PAGE).contains(&limit) {
        return Err(IpcError::invalid_request(format!(
            "A page of results holds 1 to {MAX_SEARCH_PAGE} messages."
        )));
    }
    if let (Some(from), Some(to)) = (from_ms, to_ms) {
        if from > to {
            return Err(IpcError::invalid_request(
                "The date range ends before it starts.",
            ));
        }
    }
    let present = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    Ok(Query {
        text: text.to_owned(),
        conversation_id: present(conversation_id),
        sender: present(sender),
        from_ms,
        to_ms,
        order,
        offset,
        limit,
    })
}

/// Messages matching `text` (docs/SEARCH.md), one page; `order` is `newest` or `relevance`.
#[allow(clippy::too_many_arguments)]
#[tauri::command]
pub async fn search(
    state: State<'_, AppState>,
    text: String,
    conversation_id: Option<String>,
    sender: Option<String>,
    from_ms: Option<i64>,
    to_ms: Option<i64>,
    order: Order,
    offset: usize,
    limit: usize,
) -> IpcResult<SearchPage> {
    let query = search_query_arg(
        &text,
        conversation_id,
        sender,
        from_ms,
        to_ms,
        order,
        offset,
        limit,
    )?;
    Ok(state.client()?.search(query).await?)
}

/// A message with up to `limit` older and `limit` newer ones around it, newest first (to
/// open a conversation at a search hit, and to page newer from there).
#[tauri::command]
pub async fn history_around(
    state: State<'_, AppState>,
    conversation_id: String,
    message_id: String,
    limit: u32,
) -> IpcResult<Vec<Message>> {
    if !(1..=MAX_AROUND).contains(&limit) {
        return Err(IpcError::invalid_request(format!(
            "Ask for 1 to {MAX_AROUND} messages around a message."
        )));
    }
    let (conversation_id, message_id) = (conversation_id.trim(), message_id.trim());
    if conversation_id.is_empty() || message_id.is_empty() {
        return Err(IpcError::invalid_request(
            "A conversation and a message are needed.",
        ));
    }
    state
        .client()?
        .history_around(conversation_id, message_id, limit)
        .await
        .map_err(|e| {
            not_found_as(
                e,
                "That message is not in this conversation any more.".to_owned(),
            )
        })
}

/// Whether the search index is complete (`ready`, `rebuilding` with progress, or
/// `unavailable` when signed out).
#[tauri::command]
pub fn index_status(state: State<'_, AppState>) -> IpcResult<IndexStatus> {
    Ok(state.client()?.index_status())
}

fn not_a_member(gid: &str) -> String {
    format!("There is no group {gid}, or you are not a member of it.")
}

/// An SDK error as an `IpcError`, with a more specific sentence for `not_found`.
fn not_found_as(e: hongyan_sdk::Error, message: String) -> IpcError {
    let mut e = IpcError::from(e);
    if e.kind == "not_found" {
        e.message = message;
    }
    e
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_ids_look_like_g_and_digits() {
        assert_eq!(group_id_arg(" g12 ").expect("ok"), "g12");
        for bad in ["", "g", "12", "gx1", "g1 2", "notices"] {
            let e = group_id_arg(bad).expect_err(bad);
            assert_eq!(e.kind, "invalid_request", "{bad}");
        }
    }

    #[test]
    fn group_names_are_trimmed_and_bounded() {
        assert_eq!(group_name_arg("  Trip  ").expect("ok"), "Trip");
        assert_eq!(
            group_name_arg("   ").expect_err("blank").message,
            "The group needs a name."
        );
        let long = "雁".repeat(MAX_GROUP_NAME + 1);
        assert_eq!(
            group_name_arg(&long).expect_err("long").kind,
            "invalid_request"
        );
        assert!(group_name_arg(&"雁".repeat(MAX_GROUP_NAME)).is_ok());
    }

    #[test]
    fn member_lists_need_ids_without_duplicates() {
        let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            member_ids_arg(&ids(&[" 2", "3", "2 "])).expect("ok"),
            ids(&["2", "3"])
        );
        assert_eq!(
            member_ids_arg(&[]).expect_err("empty").kind,
            "invalid_request"
        );
        assert_eq!(
            member_ids_arg(&ids(&["2", " "])).expect_err("blank").kind,
            "invalid_request"
        );
    }

    fn query(text: &str, limit: usize) -> IpcResult<Query> {
        search_query_arg(text, None, None, None, None, Order::Newest, 0, limit)
    }

    #[test]
    fn search_text_is_trimmed_not_blank_and_bounded() {
        assert_eq!(query("  消息 ", 30).expect("ok").text, "消息");
        for bad in ["", "   "] {
            assert_eq!(query(bad, 30).expect_err(bad).kind, "invalid_request");
        }
        // Characters, not bytes: 200 CJK characters (600 bytes) are fine, 201 are not.
        assert!(query(&"雁".repeat(MAX_SEARCH_TEXT), 30).is_ok());
        let e = query(&"雁".repeat(MAX_SEARCH_TEXT + 1), 30).expect_err("long");
        assert_eq!(e.kind, "invalid_request");
        assert!(e.message.contains("too long"), "{}", e.message);
    }

    #[test]
    fn search_pages_are_bounded() {
        assert_eq!(query("a", 1).expect("ok").limit, 1);
        assert_eq!(
            query("a", MAX_SEARCH_PAGE).expect("ok").limit,
            MAX_SEARCH_PAGE
        );
        for bad in [0, MAX_SEARCH_PAGE + 1, usize::MAX] {
            assert_eq!(query("a", bad).expect_err("limit").kind, "invalid_request");
        }
    }

    #[test]
    fn search_filters_pass_through_and_blank_ones_are_absent() {
        let q = search_query_arg(
            "deliv",
            Some(" 4 ".into()),
            Some(" ".into()),
            Some(10),
            Some(20),
            Order::Relevance,
            30,
            30,
        )
        .expect("ok");
        assert_eq!(q.conversation_id.as_deref(), Some("4"));
        assert_eq!(q.sender, None);
        assert_eq!((q.from_ms, q.to_ms), (Some(10), Some(20)));
        assert_eq!((q.order, q.offset, q.limit), (Order::Relevance, 30, 30));
        let reversed = search_query_arg("a", None, None, Some(20), Some(10), Order::Newest, 0, 30);
        assert_eq!(reversed.expect_err("range").kind, "invalid_request");
    }

    #[test]
    fn search_arguments_deserialize_as_the_ui_sends_them() {
        // Tauri hands each argument to serde on its own: the order is a snake_case string.
        let o: Order = serde_json::from_value(serde_json::json!("relevance")).expect("order");
        assert_eq!(o, Order::Relevance);
        assert!(serde_json::from_value::<Order>(serde_json::json!("oldest")).is_err());
    }

    #[test]
    fn not_found_gets_a_specific_sentence_other_errors_stay() {
        let nf = hongyan_sdk::Error::Server {
            status: 404,
            code: "not_found".into(),
            message: "no".into(),
        };
        let e = not_found_as(nf, not_a_member("g4"));
        assert_eq!(e.kind, "not_found");
        assert_eq!(
            e.message,
            "There is no group g4, or you are not a member of it."
        );
        let e = not_found_as(hongyan_sdk::Error::Timeout, "x".into());
        assert_eq!(e.kind, "timeout");
    }
}
