//! [`Client`]: the SDK's public async API.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use hongyan_protocol::api::{ReceiptKind, Typing};
use hongyan_protocol::{kinds, now_ms, ClientVersion, Envelope, PacketType, MAX_BODY};
use tokio::sync::{broadcast, mpsc, oneshot, watch};

use crate::config::{self, ClientConfig, Transport};
use crate::connection::Endpoint;
use crate::engine::{self, Command, EngineConfig, EngineHandle, Session};
use crate::error::{Error, Result};
use crate::events::{ConnectionState, Event};
use crate::http::Http;
use crate::media::cache::MediaCache;
use crate::media::stickers::StickerCache;
use crate::media::upload::Uploads;
use crate::media::{compress, CompressOptions, ImageQuality};
use crate::model::{
    Account, Conversation, Friend, FriendRequest, FriendRequests, Group, HistoryCursor, Member,
    Message, PreparedImage, PreparedThumb, RegisteredUser, StickerContent, StickerPack, User,
};
use crate::search::{self, IndexStatus, Query, SearchHandle, SearchPage, SearchService};
use crate::secrets::{self, LastAccount, SecretBackend, SecretKey, SecretStore};
use crate::store::UploadFile;
use crate::store::{self, Store};
use crate::throttle::Throttle;

/// Capacity of the event channel; a receiver that falls further behind gets `Lagged`.
pub const EVENT_CAPACITY: usize = 1024;

/// At most one typing signal per conversation in this interval.
pub const TYPING_INTERVAL: Duration = Duration::from_secs(3);

/// The Hongyan client. Cheap to clone; all clones share one account and engine.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    config: ClientConfig,
    host_port: String,
    endpoint: Endpoint,
    version: ClientVersion,
    http: Http,
    secrets: SecretStore,
    events: broadcast::Sender<Event>,
    state: Arc<watch::Sender<ConnectionState>>,
    first_login_time: Arc<Mutex<Option<i64>>>,
    account: RwLock<Option<Account>>,
    active: tokio::sync::Mutex<Option<Active>>,
    presence: Arc<Mutex<HashMap<String, bool>>>,
    typing: Mutex<Throttle>,
    /// The search index's state, kept current by the indexer of the active account.
    index_status: Arc<Mutex<IndexStatus>>,
}

struct Active {
    session: Arc<Session>,
    engine: EngineHandle,
    key: SecretKey,
    /// `None` when the index could not be opened (the account works without search).
    search: Option<SearchService>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(active) = self.active.get_mut().take() {
            active.session.uploads.abort_all();
            active.engine.task.abort();
        }
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("server", &self.inner.host_port)
            .field("user_id", &self.user_id())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Creates a client. Nothing connects until [`Client::login`] or [`Client::resume`].
    pub fn new(config: ClientConfig) -> Result<Self> {
        let server = config::parse_server_url(&config.server_url)?;
        let endpoint = match &config.transport {
            Transport::WebSocket => Endpoint::WebSocket(config::websocket_url(&server)?),
            Transport::Tcp { addr } => Endpoint::Tcp(addr.clone()),
        };
        let mut version = crate::version::client_version(&config.app_version);
        version.core_level = config.core_level;
        let http = Http::new(server.clone(), &version, config.timing.http_timeout)?;
        std::fs::create_dir_all(&config.data_dir)?;
        let secrets = SecretStore::new(config.secrets);
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        let (state, _) = watch::channel(ConnectionState::Offline);
        Ok(Self {
            inner: Arc::new(Inner {
                host_port: config::host_port(&server),
                config,
                endpoint,
                version,
                http,
                secrets,
                events,
                state: Arc::new(state),
                first_login_time: Arc::default(),
                account: RwLock::new(None),
                active: tokio::sync::Mutex::new(None),
                presence: Arc::default(),
                typing: Mutex::new(Throttle::new(TYPING_INTERVAL)),
                index_status: Arc::new(Mutex::new(IndexStatus::UNAVAILABLE)),
            }),
        })
    }

    /// A new receiver of [`Event`]s (sees events from now on).
    pub fn events(&self) -> broadcast::Receiver<Event> {
        self.inner.events.subscribe()
    }

    /// A watch on the connection state (always holds the current value).
    pub fn connection_state_watch(&self) -> watch::Receiver<ConnectionState> {
        self.inner.state.subscribe()
    }

    /// The current connection state.
    pub fn connection_state(&self) -> ConnectionState {
        self.inner.state.borrow().clone()
    }

    /// The logged-in user's id.
    pub fn user_id(&self) -> Option<String> {
        self.account().map(|a| a.user_id)
    }

    /// The logged-in account.
    pub fn account(&self) -> Option<Account> {
        self.inner
            .account
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The secret backend in use: `Keyring`, `File` or `Memory`. `None` until `Auto` has
    /// been resolved, which happens on the first login or resume.
    pub fn secret_backend(&self) -> Option<SecretBackend> {
        self.inner.secrets.backend()
    }

    /// The version facts this client sends (headers, User-Agent, login extra).
    pub fn version(&self) -> &ClientVersion {
        &self.inner.version
    }

    /// The HTTP API client (for calls the `Client` does not wrap yet).
    pub fn http(&self) -> &Http {
        &self.inner.http
    }

    /// The store of the logged-in account.
    pub async fn store(&self) -> Result<Store> {
        Ok(self.session().await?.0.store.clone())
    }

    /// `<data_dir>/<host_port>/<user_id>/`.
    pub fn account_dir(&self, user_id: &str) -> PathBuf {
        self.inner
            .config
            .data_dir
            .join(&self.inner.host_port)
            .join(user_id)
    }

    /// Registers a new account (does not log in).
    pub async fn register(
        &self,
        username: &str,
        password: &str,
        nickname: Option<&str>,
    ) -> Result<RegisteredUser> {
        self.inner.http.register(username, password, nickname).await
    }

    /// Logs in with a password: HTTP login, token into the secret store, open the local
    /// store, then log in on the long connection. Errors if any step fails, including a
    /// refused or unreachable long connection.
    pub async fn login(&self, username: &str, password: &str) -> Result<Account> {
        let mut active = self.inner.active.lock().await;
        if active.is_some() {
            return Err(Error::AlreadyLoggedIn);
        }
        let answer = self.inner.http.login(username, password).await?;
        let account = Account {
            user_id: answer.user_id,
            username: username.to_owned(),
            server: self.inner.host_port.clone(),
        };
        let key = self.secret_key(&account.user_id);
        let token = answer.token;
        {
            let (secrets, key, token) = (self.inner.secrets.clone(), key.clone(), token.clone());
            let data_dir = self.inner.config.data_dir.clone();
            let last = LastAccount {
                user_id: account.user_id.clone(),
                username: account.username.clone(),
                server: account.server.clone(),
            };
            tokio::task::spawn_blocking(move || {
                std::fs::create_dir_all(&key.dir)?;
                secrets.set(&key, &token)?;
                secrets::save_last_account(&data_dir, Some(&last))
            })
            .await??;
        }
        *active = Some(self.start(account.clone(), key, token, true).await?);
        Ok(account)
    }

    /// Logs in again as the last account with its stored token (no password). `Ok(None)`
    /// when there is no remembered account or token. If the server is unreachable this
    /// still succeeds and keeps reconnecting in the background; a refused token is an
    /// error (and the token is forgotten).
    pub async fn resume(&self) -> Result<Option<Account>> {
        let mut active = self.inner.active.lock().await;
        if active.is_some() {
            return Ok(self.account());
        }
        let data_dir = self.inner.config.data_dir.clone();
        let host_port = self.inner.host_port.clone();
        let Some(last) =
            tokio::task::spawn_blocking(move || secrets::load_last_account(&data_dir, &host_port))
                .await??
        else {
            return Ok(None);
        };
        let key = self.secret_key(&last.user_id);
        let token = {
            let (secrets, key) = (self.inner.secrets.clone(), key.clone());
            tokio::task::spawn_blocking(move || secrets.get(&key)).await??
        };
        let Some(token) = token else {
            return Ok(None);
        };
        let account = Account {
            user_id: last.user_id,
            username: last.username,
            server: last.server,
        };
        match self.start(account.clone(), key.clone(), token, false).await {
            Ok(a) => {
                *active = Some(a);
                Ok(Some(account))
            }
            Err(Error::TokenExpired) => {
                self.forget(key).await;
                Err(Error::TokenExpired)
            }
            Err(e) => Err(e),
        }
    }

    async fn start(
        &self,
        account: Account,
        key: SecretKey,
        token: String,
        fail_fast: bool,
    ) -> Result<Active> {
        let path = key.dir.join(store::FILE_NAME);
        let me = User {
            user_id: account.user_id.clone(),
            username: account.username.clone(),
            nickname: String::new(),
        };
        let store = tokio::task::spawn_blocking(move || {
            let store = Store::open(path)?;
            store.remember_user_if_unknown(&me)?;
            Ok::<_, Error>(store)
        })
        .await??;
        let search = self.open_search(&key, &store).await;
        let (commands, commands_rx) = mpsc::unbounded_channel();
        self.inner
            .presence
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        let session = Arc::new(Session {
            user_id: account.user_id.clone(),
            token,
            store,
            http: self.inner.http.clone(),
            events: self.inner.events.clone(),
            sync_lock: tokio::sync::Mutex::new(()),
            notices_lock: tokio::sync::Mutex::new(()),
            commands,
            presence: self.inner.presence.clone(),
            core_level: self.inner.version.core_level,
            media: MediaCache::new(&key.dir),
            stickers: StickerCache::new(&key.dir),
            uploads: Uploads::default(),
        });
        let cfg = EngineConfig {
            endpoint: self.inner.endpoint.clone(),
            version: self.inner.version.clone(),
            device: self.inner.config.device.clone(),
            timing: self.inner.config.timing.clone(),
            first_login_time: self.inner.first_login_time.clone(),
        };
        // Visible before the first login completes, so events can be matched to it.
        self.set_account(Some(account));
        let (first_tx, first_rx) = oneshot::channel();
        let engine = engine::spawn(
            session.clone(),
            cfg,
            self.inner.state.clone(),
            first_tx,
            fail_fast,
            commands_rx,
        );
        let outcome = first_rx.await.unwrap_or(Err(Error::Shutdown));
        match outcome {
            Ok(()) => Ok(Active {
                session,
                engine,
                key,
                search,
            }),
            Err(e) => {
                self.set_account(None);
                let _ = engine.task.await;
                self.close_search(search).await;
                if matches!(e, Error::TokenExpired) && fail_fast {
                    self.forget(key).await;
                }
                Err(e)
            }
        }
    }

    /// Opens the account's search index beside its store and starts indexing. A failure
    /// is logged and the account goes on without search.
    async fn open_search(&self, key: &SecretKey, store: &Store) -> Option<SearchService> {
        let dir = key.dir.join(search::DIR_NAME);
        let (store, events, status) = (
            store.clone(),
            self.inner.events.clone(),
            self.inner.index_status.clone(),
        );
        let opened =
            tokio::task::spawn_blocking(move || SearchService::open(&dir, store, events, status))
                .await
                .map_err(Error::from)
                .and_then(|r| r);
        match opened {
            Ok(service) => Some(service),
            Err(e) => {
                tracing::error!(error = %e, "could not open the search index; search is off");
                None
            }
        }
    }

    /// Stops the indexer after its last commit.
    async fn close_search(&self, search: Option<SearchService>) {
        if let Some(service) = search {
            if let Err(e) = tokio::task::spawn_blocking(move || service.close()).await {
                tracing::warn!(error = %e, "closing the search index failed");
            }
        }
        *self
            .inner
            .index_status
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = IndexStatus::UNAVAILABLE;
    }

    fn set_account(&self, account: Option<Account>) {
        *self
            .inner
            .account
            .write()
            .unwrap_or_else(|p| p.into_inner()) = account;
    }

    fn secret_key(&self, user_id: &str) -> SecretKey {
        SecretKey {
            name: format!("{}/{}", self.inner.host_port, user_id),
            dir: self.account_dir(user_id),
        }
    }

    /// Deletes the token and the last-account record (best effort).
    async fn forget(&self, key: SecretKey) {
        let secrets = self.inner.secrets.clone();
        let data_dir = self.inner.config.data_dir.clone();
        let r = tokio::task::spawn_blocking(move || {
            secrets.delete(&key)?;
            secrets::save_last_account(&data_dir, None)
        })
        .await;
        if let Ok(Err(e)) | Err(e) = r.map_err(Error::from) {
            tracing::warn!(error = %e, "could not forget the token");
        }
    }

    async fn session(&self) -> Result<(Arc<Session>, tokio::sync::mpsc::UnboundedSender<Command>)> {
        let active = self.inner.active.lock().await;
        let a = active.as_ref().ok_or(Error::NotLoggedIn)?;
        Ok((a.session.clone(), a.engine.commands.clone()))
    }

    /// Sends a text message. It is stored (messages + outbox, status Sending) before it
    /// goes on the wire, and this returns right away; watch
    /// [`Event::MessageStatusChanged`] for Sent / Failed.
    pub async fn send_text(&self, to: &str, text: &str) -> Result<Message> {
        self.send(to, kinds::TEXT, text).await
    }

    /// Sends `content` of kind `typeu` (see `hongyan_protocol::kinds`).
    pub async fn send(&self, to: &str, typeu: i32, content: &str) -> Result<Message> {
        if to.is_empty() || to == hongyan_protocol::SERVER_ID {
            return Err(Error::InvalidRequest("no recipient".into()));
        }
        let (session, commands) = self.session().await?;
        let now = now_ms();
        let message = Message::new_outgoing(&session.user_id, to, typeu, content, now);
        let envelope = message.to_envelope();
        if envelope.encode().len() > MAX_BODY {
            return Err(Error::MessageTooLarge);
        }
        let m = message.clone();
        let conversation = session
            .store
            .call(move |s| {
                s.insert_outgoing(&m, now)?;
                s.conversation(&m.conversation_id)
            })
            .await?;
        if let Some(c) = conversation {
            session.emit(Event::ConversationUpdated(c));
        }
        let _ = commands.send(Command::Send(envelope));
        Ok(message)
    }

    /// Sends a Failed own message again (same id). Returns it with status Sending. An image
    /// whose upload failed uploads again (resuming what the server kept) and is sent after.
    pub async fn retry(&self, message_id: &str) -> Result<Message> {
        let (session, commands) = self.session().await?;
        let id = message_id.to_owned();
        let restarted = session.store.call(move |s| s.restart_upload(&id)).await?;
        if let Some((m, upload)) = restarted {
            session.emit(Event::MessageStatusChanged {
                id: m.id.clone(),
                status: m.status.clone(),
            });
            // Offline: the next login starts it.
            if self.connection_state() == ConnectionState::Connected {
                Uploads::start(&session, upload);
            }
            return Ok(m);
        }
        let id = message_id.to_owned();
        let m = session
            .store
            .call(move |s| s.requeue(&id, now_ms()))
            .await?;
        session.emit(Event::MessageStatusChanged {
            id: m.id.clone(),
            status: m.status.clone(),
        });
        let _ = commands.send(Command::Send(m.to_envelope()));
        Ok(m)
    }

    /// Compresses an image the user picked (docs/MEDIA.md: upright, long edge 1280 px for
    /// `Standard`, 2560 for `Hd`, untouched but for metadata for `Original`; EXIF/GPS
    /// removed; a ≤ 320 px thumbnail) on a blocking thread, and writes the image and its
    /// thumbnail into the account's media cache. Errors: [`Error::Media`] (too large, too
    /// many pixels, not JPEG/PNG/GIF/WebP, unreadable).
    pub async fn prepare_image(
        &self,
        bytes: Vec<u8>,
        quality: ImageQuality,
    ) -> Result<PreparedImage> {
        let (session, _) = self.session().await?;
        let cache = session.media.clone();
        tokio::task::spawn_blocking(move || prepare(&cache, &bytes, quality)).await?
    }

    /// Sends an image prepared by [`Client::prepare_image`] to `to` (typeu 2, the
    /// docs/MEDIA.md content). The message is stored at once (status Sending) and returned;
    /// its thumbnail and image upload in the background ([`Event::UploadProgress`]; files
    /// the server has already are skipped, a broken upload resumes where it stopped), and
    /// only then does its envelope join the outbox. A failed upload turns it Failed
    /// {0, "upload failed: …"} and [`Client::retry`] uploads again; an upload cut short by
    /// quitting resumes after the next login. Errors: the image is not in this account's
    /// media cache (`Error::InvalidRequest`: prepare it first).
    pub async fn send_image(&self, to: &str, image: &PreparedImage) -> Result<Message> {
        let (session, _) = self.session().await?;
        let mut files = Vec::with_capacity(2);
        for (sha, size) in [
            (&image.thumb.sha256, image.thumb.size),
            (&image.sha256, image.size),
        ] {
            let Some(path) = session.media.get(sha)? else {
                return Err(Error::InvalidRequest(format!(
                    "image {sha} is not in the media cache; prepare it first"
                )));
            };
            // The image may have come back through the app: its size must be the file's.
            if tokio::fs::metadata(&path).await?.len() != size {
                return Err(Error::InvalidRequest(format!(
                    "image {sha} is not {size} bytes long; prepare it again"
                )));
            }
            if !files.iter().any(|f: &UploadFile| &f.sha256 == sha) {
                files.push(UploadFile {
                    sha256: sha.clone(),
                    size,
                });
            }
        }
        let content = serde_json::to_string(&image.content())
            .map_err(|e| Error::Protocol(format!("image content: {e}")))?;
        let (message, upload) = self
            .store_held(&session, to, kinds::IMAGE, &content, files)
            .await?;
        if self.connection_state() == ConnectionState::Connected {
            Uploads::start(&session, upload);
        }
        Ok(message)
    }

    /// Stores an own message whose `files` upload first (no outbox row yet).
    async fn store_held(
        &self,
        session: &Session,
        to: &str,
        typeu: i32,
        content: &str,
        files: Vec<UploadFile>,
    ) -> Result<(Message, crate::store::PendingUpload)> {
        if to.is_empty() || to == hongyan_protocol::SERVER_ID {
            return Err(Error::InvalidRequest("no recipient".into()));
        }
        let now = now_ms();
        let message = Message::new_outgoing(&session.user_id, to, typeu, content, now);
        if message.to_envelope().encode().len() > MAX_BODY {
            return Err(Error::MessageTooLarge);
        }
        let (m, f) = (message.clone(), files.clone());
        let conversation = session
            .store
            .call(move |s| {
                s.insert_outgoing_held(&m, &f, now)?;
                s.conversation(&m.conversation_id)
            })
            .await?;
        if let Some(c) = conversation {
            session.emit(Event::ConversationUpdated(c));
        }
        let upload = crate::store::PendingUpload {
            message_id: message.id.clone(),
            conversation_id: message.conversation_id.clone(),
            files,
            pending: true,
        };
        Ok((message, upload))
    }

    /// The local file of media `sha256` (an image or thumbnail of a message), from the
    /// account's media cache; downloaded (with this session's token, checked against the
    /// hash) when it is not there yet. Errors: [`Error::MediaUnavailable`] when the server
    /// does not have it; `Error::InvalidRequest` for a malformed hash.
    pub async fn media_path(&self, sha256: &str) -> Result<PathBuf> {
        let (session, _) = self.session().await?;
        session
            .media
            .fetch(&self.inner.http, &session.token, sha256)
            .await
    }

    /// The server's sticker packs (remembered; when the server cannot be reached, the
    /// last list seen).
    pub async fn sticker_packs(&self) -> Result<Vec<StickerPack>> {
        let (session, _) = self.session().await?;
        session.stickers.packs(&self.inner.http).await
    }

    /// The local PNG of sticker `id` of `pack` (downloaded once, then cached).
    pub async fn sticker_path(&self, pack: &str, id: &str) -> Result<PathBuf> {
        let (session, _) = self.session().await?;
        session.stickers.path(&self.inner.http, pack, id).await
    }

    /// Sends sticker `id` of `pack` (typeu 3 `{"pack","id","url","w","h"}` with the size
    /// the server lists). Clients too old for stickers get the server's text fallback.
    /// Errors: `Error::InvalidRequest` for a sticker the server does not list.
    pub async fn send_sticker(&self, to: &str, pack: &str, id: &str) -> Result<Message> {
        let (session, _) = self.session().await?;
        let sticker = session.stickers.find(&self.inner.http, pack, id).await?;
        let content = StickerContent {
            pack: pack.to_owned(),
            id: sticker.id,
            url: crate::model::sticker_url(pack, id),
            w: sticker.w,
            h: sticker.h,
        };
        let content = serde_json::to_string(&content)
            .map_err(|e| Error::Protocol(format!("sticker content: {e}")))?;
        self.send(to, kinds::STICKER, &content).await
    }

    /// Up to `limit` messages of a conversation older than `before`, newest first
    /// (keyset paging on `(sent_at, id)`; pass the last message's `cursor()` for more).
    pub async fn history(
        &self,
        conversation_id: &str,
        before: Option<HistoryCursor>,
        limit: usize,
    ) -> Result<Vec<Message>> {
        let (session, _) = self.session().await?;
        let id = conversation_id.to_owned();
        session
            .store
            .call(move |s| s.history(&id, before.as_ref(), limit))
            .await
    }

    /// The message `message_id` with up to `limit` newer and `limit` older messages of its
    /// conversation around it, newest first (to open a conversation at a search hit; page
    /// further with [`Client::history`] from the last one's `cursor()`). `limit` is capped
    /// at [`store::MAX_AROUND`]; an id not in that conversation is
    /// [`Error::MessageNotFound`].
    pub async fn history_around(
        &self,
        conversation_id: &str,
        message_id: &str,
        limit: u32,
    ) -> Result<Vec<Message>> {
        let (session, _) = self.session().await?;
        let (c, m) = (conversation_id.to_owned(), message_id.to_owned());
        session
            .store
            .call(move |s| s.history_around(&c, &m, limit))
            .await
    }

    /// One stored message.
    pub async fn message(&self, id: &str) -> Result<Option<Message>> {
        let (session, _) = self.session().await?;
        let id = id.to_owned();
        session.store.call(move |s| s.message(&id)).await
    }

    /// All conversations, most recently active first.
    pub async fn conversations(&self) -> Result<Vec<Conversation>> {
        let (session, _) = self.session().await?;
        session.store.call(|s| s.conversations()).await
    }

    /// Clears a conversation's unread count and, for a 1:1 conversation, sends the peer a
    /// `read` receipt for the messages that were unread (through the outbox, like chat).
    pub async fn mark_read(&self, conversation_id: &str) -> Result<()> {
        let (session, commands) = self.session().await?;
        let id = conversation_id.to_owned();
        let me = session.user_id.clone();
        let (conversation, receipts) = session
            .store
            .call(move |s| {
                let (c, newly_read) = s.mark_read_collect(&id)?;
                let receipts = crate::receipts::envelopes(&me, ReceiptKind::Read, &newly_read);
                s.queue_signals(&receipts, now_ms())?;
                Ok((c, receipts))
            })
            .await?;
        for env in receipts {
            let _ = commands.send(Command::Send(env));
        }
        if let Some(c) = conversation {
            session.emit(Event::ConversationUpdated(c));
        }
        Ok(())
    }

    /// One user's public profile (`GET /api/v1/users/{id}`). An unknown id is
    /// `Error::Server` with code `not_found`.
    pub async fn get_user(&self, user_id: &str) -> Result<User> {
        let (session, _) = self.session().await?;
        self.inner.http.user(&session.token, user_id).await
    }

    /// Users whose username starts with `query` (`GET /api/v1/users?q=`, at most 20).
    pub async fn search_users(&self, query: &str) -> Result<Vec<User>> {
        let (session, _) = self.session().await?;
        self.inner.http.search_users(&session.token, query).await
    }

    /// The friends list (`GET /api/v1/friends`; each carries `online`). Refreshes the local
    /// cache and the presence state; when the server cannot be reached, the cached list.
    pub async fn friends(&self) -> Result<Vec<Friend>> {
        let (session, _) = self.session().await?;
        match self.inner.http.friends(&session.token).await {
            Ok(list) => {
                for f in &list {
                    session.set_presence(&f.user.user_id, f.online, false);
                }
                let l = list.clone();
                session.store.call(move |s| s.replace_friends(&l)).await?;
                Ok(list)
            }
            Err(e) if e.is_transient() => session.store.call(|s| s.friends()).await,
            Err(e) => Err(e),
        }
    }

    /// Pending friend requests to and from this account (cached like [`Client::friends`]).
    pub async fn friend_requests(&self) -> Result<FriendRequests> {
        let (session, _) = self.session().await?;
        match self.inner.http.friend_requests(&session.token).await {
            Ok(r) => {
                let copy = r.clone();
                session
                    .store
                    .call(move |s| s.replace_friend_requests(&copy))
                    .await?;
                Ok(r)
            }
            Err(e) if e.is_transient() => session.store.call(|s| s.friend_requests()).await,
            Err(e) => Err(e),
        }
    }

    /// Asks `to_user_id` to be friends (`message` may be empty). If they had already asked
    /// this account, both become friends at once and the answer has status `accepted`.
    /// Errors: `Error::Server` 409 `already_friends`, 404 `not_found`; self is
    /// `Error::InvalidRequest`.
    pub async fn send_friend_request(
        &self,
        to_user_id: &str,
        message: &str,
    ) -> Result<FriendRequest> {
        let (session, _) = self.session().await?;
        let r = self
            .inner
            .http
            .send_friend_request(&session.token, to_user_id, message)
            .await?;
        self.after_request_change(&session, &r, false).await?;
        Ok(r)
    }

    /// Accepts a friend request sent to this account.
    pub async fn accept_friend_request(&self, id: i64) -> Result<FriendRequest> {
        self.answer_friend_request(id, true).await
    }

    /// Declines a friend request sent to this account.
    pub async fn decline_friend_request(&self, id: i64) -> Result<FriendRequest> {
        self.answer_friend_request(id, false).await
    }

    async fn answer_friend_request(&self, id: i64, accept: bool) -> Result<FriendRequest> {
        let (session, _) = self.session().await?;
        let r = self
            .inner
            .http
            .answer_friend_request(&session.token, id, accept)
            .await?;
        self.after_request_change(&session, &r, true).await?;
        Ok(r)
    }

    /// Updates the caches after this account changed request `r`.
    async fn after_request_change(
        &self,
        session: &Session,
        r: &FriendRequest,
        incoming: bool,
    ) -> Result<()> {
        let (me, req) = (session.user_id.clone(), r.clone());
        session
            .store
            .call(move |s| {
                match req.status {
                    hongyan_protocol::api::FriendRequestStatus::Pending => {
                        s.upsert_friend_request(&req, incoming)?
                    }
                    hongyan_protocol::api::FriendRequestStatus::Accepted => {
                        s.remove_friend_request(req.id)?;
                        let other = if req.from.user_id == me {
                            &req.to
                        } else {
                            &req.from
                        };
                        s.upsert_friend(&Friend {
                            user: other.clone(),
                            since: now_ms(),
                            online: false,
                        })?;
                    }
                    hongyan_protocol::api::FriendRequestStatus::Declined => {
                        s.remove_friend_request(req.id)?
                    }
                }
                Ok(())
            })
            .await
    }

    /// Ends the friendship with `user_id` (both sides lose it).
    pub async fn remove_friend(&self, user_id: &str) -> Result<()> {
        let (session, _) = self.session().await?;
        self.inner
            .http
            .remove_friend(&session.token, user_id)
            .await?;
        let id = user_id.trim().to_owned();
        session.store.call(move |s| s.remove_friend(&id)).await?;
        Ok(())
    }

    /// The last known online state of `user_id` (from [`Client::friends`] answers and
    /// presence signals); `false` when unknown.
    pub fn presence(&self, user_id: &str) -> bool {
        self.inner
            .presence
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(user_id)
            .copied()
            .unwrap_or(false)
    }

    /// Creates a group owned by this account with `members` (user ids; with the server's
    /// friends-only policy they must be friends). Chat in it with `send_text(group_id, …)`.
    pub async fn create_group(&self, name: &str, members: &[String]) -> Result<Group> {
        let (session, _) = self.session().await?;
        let g = self
            .inner
            .http
            .create_group(&session.token, name, members)
            .await?;
        self.cache_group(&session, &g).await?;
        Ok(g)
    }

    /// This account's groups (cached; the cache answers when the server cannot be reached).
    pub async fn groups(&self) -> Result<Vec<Group>> {
        let (session, _) = self.session().await?;
        match self.inner.http.groups(&session.token).await {
            Ok(list) => {
                let l = list.clone();
                session.store.call(move |s| s.replace_groups(&l)).await?;
                Ok(list)
            }
            Err(e) if e.is_transient() => session.store.call(|s| s.groups()).await,
            Err(e) => Err(e),
        }
    }

    /// One group (`g<id>`); `Error::Server` 404 `not_found` if this account is not in it.
    pub async fn group(&self, group_id: &str) -> Result<Group> {
        let (session, _) = self.session().await?;
        let g = self.inner.http.group(&session.token, group_id).await?;
        self.cache_group(&session, &g).await?;
        Ok(g)
    }

    /// Renames a group (any member may).
    pub async fn rename_group(&self, group_id: &str, name: &str) -> Result<Group> {
        let (session, _) = self.session().await?;
        let g = self
            .inner
            .http
            .rename_group(&session.token, group_id, name)
            .await?;
        self.cache_group(&session, &g).await?;
        Ok(g)
    }

    /// A group's members (owner first as the server orders them).
    pub async fn group_members(&self, group_id: &str) -> Result<Vec<Member>> {
        let (session, _) = self.session().await?;
        let members = self
            .inner
            .http
            .group_members(&session.token, group_id)
            .await?;
        let users: Vec<User> = members.iter().map(|m| m.user.clone()).collect();
        session
            .store
            .call(move |s| s.remember_users(users.iter()))
            .await?;
        Ok(members)
    }

    /// Invites `members` into a group (any member may).
    pub async fn add_group_members(&self, group_id: &str, members: &[String]) -> Result<Group> {
        let (session, _) = self.session().await?;
        let g = self
            .inner
            .http
            .add_group_members(&session.token, group_id, members)
            .await?;
        self.cache_group(&session, &g).await?;
        Ok(g)
    }

    /// Removes `user_id` from a group (the owner removes anyone; a member only itself).
    pub async fn remove_group_member(&self, group_id: &str, user_id: &str) -> Result<()> {
        let (session, _) = self.session().await?;
        self.inner
            .http
            .remove_group_member(&session.token, group_id, user_id)
            .await?;
        if user_id.trim() == session.user_id {
            let gid = group_id.trim().to_owned();
            session.store.call(move |s| s.remove_group(&gid)).await?;
        }
        Ok(())
    }

    /// Leaves a group (an owner hands ownership on; the last one out dissolves it).
    pub async fn leave_group(&self, group_id: &str) -> Result<()> {
        let me = self.user_id().ok_or(Error::NotLoggedIn)?;
        self.remove_group_member(group_id, &me).await
    }

    async fn cache_group(&self, session: &Session, g: &Group) -> Result<()> {
        let g = g.clone();
        session.store.call(move |s| s.upsert_group(&g)).await
    }

    /// Pulls notices now (`GET /api/v1/broadcasts`, the same as after login and on a
    /// notice notify). Returns the number of new notices stored in the conversation
    /// [`crate::model::NOTICES_CONVERSATION`].
    pub async fn refresh_notices(&self) -> Result<usize> {
        let (session, _) = self.session().await?;
        crate::notices::pull(&session).await
    }

    /// Tells the peer of a 1:1 conversation that this user is typing (typeu 92, not QoS,
    /// not stored). Throttled to one signal per conversation every
    /// [`TYPING_INTERVAL`]; a no-op for groups and the notices conversation, and while
    /// offline.
    pub async fn send_typing(&self, conversation_id: &str) -> Result<()> {
        let (session, commands) = self.session().await?;
        let to = conversation_id.trim();
        if crate::http::user_id_arg(to).is_err() || to == session.user_id {
            return Ok(());
        }
        let allowed = self
            .inner
            .typing
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .allow(to, Instant::now());
        if allowed {
            let _ = commands.send(Command::Send(typing_envelope(&session.user_id, to)));
        }
        Ok(())
    }

    /// Searches this account's messages (docs/SEARCH.md): hits newest first or by
    /// relevance, each resolved to the stored message with a snippet whose `hit` parts are
    /// the matches. Page with `query.offset = page.next_offset`. While the index is
    /// rebuilding ([`Client::index_status`]) this answers from what is indexed so far.
    /// `query.limit` is capped at [`search::MAX_LIMIT`] (0 = 20). Errors:
    /// [`Error::NotLoggedIn`]; [`Error::Search`] when the index could not be opened.
    pub async fn search(&self, query: Query) -> Result<SearchPage> {
        let handle = self.search_handle().await?;
        tokio::task::spawn_blocking(move || handle.search(query)).await?
    }

    /// Whether the search index is complete: `ready`, `rebuilding` (`done` of `total`
    /// messages indexed; [`Event::IndexProgress`] follows it) or `unavailable` (not logged
    /// in, or the index could not be opened).
    pub fn index_status(&self) -> IndexStatus {
        *self
            .inner
            .index_status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    async fn search_handle(&self) -> Result<SearchHandle> {
        let active = self.inner.active.lock().await;
        let a = active.as_ref().ok_or(Error::NotLoggedIn)?;
        a.search
            .as_ref()
            .map(SearchService::handle)
            .ok_or_else(|| Error::Search("the search index could not be opened".into()))
    }

    /// Runs an HTTP sync now and waits for it. Returns the number of new messages.
    pub async fn sync_now(&self) -> Result<usize> {
        let (session, _) = self.session().await?;
        crate::sync::run(&session).await
    }

    /// Tells the SDK the network is back (or the machine woke up): reconnect now instead
    /// of waiting out the backoff.
    pub async fn reconnect_now(&self) -> Result<()> {
        let (_, commands) = self.session().await?;
        let _ = commands.send(Command::Reconnect);
        Ok(())
    }

    /// Logs out: LOGOUT on the long connection, HTTP logout (revokes the token), deletes
    /// the token and forgets the last account. The local store is kept.
    pub async fn logout(&self) -> Result<()> {
        let active = self.inner.active.lock().await.take();
        let Some(active) = active else {
            return Err(Error::NotLoggedIn);
        };
        active.session.uploads.abort_all();
        stop_engine(active.engine, Command::Logout).await;
        // Again: a login of the stopping engine may have started some.
        active.session.uploads.abort_all();
        self.close_search(active.search).await;
        if let Err(e) = self.inner.http.logout(&active.session.token).await {
            tracing::warn!(error = %e, "HTTP logout failed; forgetting the token anyway");
        }
        self.forget(active.key).await;
        self.set_account(None);
        Ok(())
    }

    /// Stops the engine and closes the connection, keeping the token and the outbox: a
    /// later client on the same `data_dir` can [`Client::resume`] and resend.
    pub async fn shutdown(&self) {
        let active = self.inner.active.lock().await.take();
        if let Some(active) = active {
            active.session.uploads.abort_all();
            stop_engine(active.engine, Command::Shutdown).await;
            active.session.uploads.abort_all();
            self.close_search(active.search).await;
        }
        self.set_account(None);
    }
}

/// Compresses `bytes` and caches the image and its thumbnail (blocking).
fn prepare(cache: &MediaCache, bytes: &[u8], quality: ImageQuality) -> Result<PreparedImage> {
    let out = compress(bytes, &CompressOptions::for_quality(quality))?;
    let sha256 = cache.put(&out.bytes)?;
    let size = out.bytes.len() as u64;
    let thumb = match &out.thumb {
        Some(t) => PreparedThumb {
            sha256: cache.put(&t.bytes)?,
            width: t.width,
            height: t.height,
            size: t.bytes.len() as u64,
        },
        // Small enough to be its own thumbnail.
        None => PreparedThumb {
            sha256: sha256.clone(),
            width: out.width,
            height: out.height,
            size,
        },
    };
    Ok(PreparedImage {
        sha256,
        mime: out.mime.to_owned(),
        width: out.width,
        height: out.height,
        size,
        original_size: bytes.len() as u64,
        kept_original: out.kept_original,
        thumb,
    })
}

/// Typeu 92 `{"typing":true}` from `me` to `to`: no QoS, no fp.
fn typing_envelope(me: &str, to: &str) -> Envelope {
    let mut env = Envelope::new(PacketType::CommonData, me, to);
    env.typeu = kinds::TYPING;
    env.data_content = serde_json::to_string(&Typing { typing: true }).ok();
    env
}

async fn stop_engine(engine: EngineHandle, cmd: fn(oneshot::Sender<()>) -> Command) {
    let (tx, rx) = oneshot::channel();
    if engine.commands.send(cmd(tx)).is_ok() {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), rx).await;
    }
    let mut task = engine.task;
    if tokio::time::timeout(std::time::Duration::from_secs(5), &mut task)
        .await
        .is_err()
    {
        task.abort();
    }
}

#[cfg(test)]
mod tests;
