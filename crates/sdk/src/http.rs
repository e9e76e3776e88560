//! The HTTP API client (`/api/v1/...`). Every request carries the `platform`,
//! `app_version` and `core_level` headers and a User-Agent ending in the same facts.

use hongyan_protocol::{ClientVersion, Envelope};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION};
use reqwest::{Method, RequestBuilder, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use hongyan_protocol::api::{
    AddMembers, CreateGroup, FriendList, GroupList, MemberList, NoticesPage, RenameGroup,
    SendFriendRequest,
};

use crate::error::{Error, Result};
use crate::model::{
    Friend, FriendRequest, FriendRequests, Group, Member, RegisteredUser, StickerPack, User,
};

/// Largest page the server serves.
pub const MAX_SYNC_LIMIT: u32 = 500;

/// Answer to `POST /api/v1/login`.
#[derive(Clone, Deserialize)]
pub struct LoginAnswer {
    pub user_id: String,
    pub token: String,
    /// ms since the epoch.
    #[serde(default)]
    pub expires_at: i64,
}

impl std::fmt::Debug for LoginAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginAnswer")
            .field("user_id", &self.user_id)
            .field("token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Answer to `GET /api/v1/me`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub user_id: String,
    pub username: String,
    #[serde(default)]
    pub nickname: Option<String>,
}

/// One page of `GET /api/v1/sync`.
#[derive(Debug, Clone, Deserialize)]
pub struct SyncPage {
    /// Raw envelopes; see [`SyncPage::envelopes`].
    pub messages: Vec<serde_json::Value>,
    #[serde(default)]
    pub more: bool,
}

impl SyncPage {
    /// The envelopes that decode (a malformed one is logged and skipped, not fatal).
    pub fn envelopes(&self) -> Vec<Envelope> {
        self.messages
            .iter()
            .filter_map(|v| match serde_json::from_value::<Envelope>(v.clone()) {
                Ok(e) => Some(e),
                Err(e) => {
                    tracing::warn!(error = %e, "skipping a malformed envelope in a sync page");
                    None
                }
            })
            .collect()
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    code: String,
    #[serde(default)]
    message: String,
}

/// HTTP client bound to one server.
#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
    base: Url,
    /// The per-request timeout; for media transfers the longest wait without progress.
    timeout: std::time::Duration,
}

/// `Upload-Offset`: how much of an unfinished upload the server holds / where a PUT resumes.
pub const UPLOAD_OFFSET: &str = "upload-offset";

/// A media transfer has no overall deadline (files can be large and links slow); it is
/// stopped instead when it makes no progress for [`Http::stall_timeout`].
const TRANSFER_DEADLINE: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// What `HEAD /api/v1/media/{sha256}` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaHead {
    /// The server has the file: nothing to upload.
    Stored { size: u64 },
    /// Not stored; this user's unfinished upload holds `offset` bytes (0 if none).
    Missing { offset: u64 },
}

/// What a media `PUT` achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    /// Stored (now or before).
    Stored,
    /// 409 `offset_mismatch`: the server holds `actual` bytes; resume from there.
    OffsetMismatch { actual: u64 },
}

/// The default headers every request carries.
pub fn default_headers(version: &ClientVersion) -> Result<HeaderMap> {
    let mut headers = HeaderMap::new();
    for (name, value) in crate::version::headers(version) {
        let value = HeaderValue::from_str(&value)
            .map_err(|_| Error::Config(format!("invalid {name} header value")))?;
        headers.insert(HeaderName::from_static(name), value);
    }
    Ok(headers)
}

impl Http {
    pub fn new(base: Url, version: &ClientVersion, timeout: std::time::Duration) -> Result<Self> {
        let client = reqwest::Client::builder()
            .user_agent(crate::version::user_agent(version))
            .default_headers(default_headers(version)?)
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .map_err(|e| Error::Config(format!("HTTP client: {e}")))?;
        Ok(Self {
            client,
            base,
            timeout,
        })
    }

    /// How long a media transfer may go without moving a byte before it counts as broken.
    pub fn stall_timeout(&self) -> std::time::Duration {
        self.timeout
    }

    /// The server's base URL.
    pub fn base(&self) -> &Url {
        &self.base
    }

    fn request(&self, method: Method, path: &str, token: Option<&str>) -> Result<RequestBuilder> {
        let url = self
            .base
            .join(path)
            .map_err(|e| Error::Config(format!("bad URL path {path}: {e}")))?;
        let mut req = self.client.request(method, url);
        if let Some(token) = token {
            let mut value = HeaderValue::from_str(&format!("Bearer {token}"))
                .map_err(|_| Error::Protocol("token is not a valid header value".into()))?;
            value.set_sensitive(true);
            req = req.header(AUTHORIZATION, value);
        }
        Ok(req)
    }

    async fn send<T: DeserializeOwned>(req: RequestBuilder) -> Result<T> {
        let resp = check(req.send().await?).await?;
        Ok(resp.json().await?)
    }

    /// `POST /api/v1/register`.
    pub async fn register(
        &self,
        username: &str,
        password: &str,
        nickname: Option<&str>,
    ) -> Result<RegisteredUser> {
        #[derive(Serialize)]
        struct Body<'a> {
            username: &'a str,
            password: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            nickname: Option<&'a str>,
        }
        let req = self
            .request(Method::POST, "/api/v1/register", None)?
            .json(&Body {
                username,
                password,
                nickname,
            });
        Self::send(req).await
    }

    /// `POST /api/v1/login`.
    pub async fn login(&self, username: &str, password: &str) -> Result<LoginAnswer> {
        let req = self
            .request(Method::POST, "/api/v1/login", None)?
            .json(&serde_json::json!({ "username": username, "password": password }));
        Self::send(req).await
    }

    /// `POST /api/v1/logout`: revokes `token`.
    pub async fn logout(&self, token: &str) -> Result<()> {
        let req = self.request(Method::POST, "/api/v1/logout", Some(token))?;
        check(req.send().await?).await?;
        Ok(())
    }

    /// `GET /api/v1/me`.
    pub async fn me(&self, token: &str) -> Result<Me> {
        Self::send(self.request(Method::GET, "/api/v1/me", Some(token))?).await
    }

    /// `GET /api/v1/users/{id}`: one user's public profile (`Error::Server` with code
    /// `not_found` when there is no such user).
    pub async fn user(&self, token: &str, user_id: &str) -> Result<User> {
        let req = self.request(Method::GET, &user_path(user_id)?, Some(token))?;
        Self::send(req).await
    }

    /// `GET /api/v1/users?q=<prefix>`: users whose username starts with `query`.
    pub async fn search_users(&self, token: &str, query: &str) -> Result<Vec<User>> {
        #[derive(Deserialize)]
        struct Answer {
            users: Vec<User>,
        }
        let req = self
            .request(Method::GET, "/api/v1/users", Some(token))?
            .query(&[("q", query)]);
        Ok(Self::send::<Answer>(req).await?.users)
    }

    async fn send_empty(req: RequestBuilder) -> Result<()> {
        check(req.send().await?).await?;
        Ok(())
    }

    /// `GET /api/v1/friends`.
    pub async fn friends(&self, token: &str) -> Result<Vec<Friend>> {
        let req = self.request(Method::GET, "/api/v1/friends", Some(token))?;
        Ok(Self::send::<FriendList>(req).await?.friends)
    }

    /// `GET /api/v1/friends/requests`: pending requests to and from me.
    pub async fn friend_requests(&self, token: &str) -> Result<FriendRequests> {
        Self::send(self.request(Method::GET, "/api/v1/friends/requests", Some(token))?).await
    }

    /// `POST /api/v1/friends/requests`.
    pub async fn send_friend_request(
        &self,
        token: &str,
        to: &str,
        message: &str,
    ) -> Result<FriendRequest> {
        let body = SendFriendRequest {
            to: user_id_arg(to)?.to_owned(),
            message: (!message.is_empty()).then(|| message.to_owned()),
        };
        let req = self
            .request(Method::POST, "/api/v1/friends/requests", Some(token))?
            .json(&body);
        Self::send(req).await
    }

    /// `POST /api/v1/friends/requests/{id}/accept` (`accept`) or `…/decline`.
    pub async fn answer_friend_request(
        &self,
        token: &str,
        id: i64,
        accept: bool,
    ) -> Result<FriendRequest> {
        let verb = if accept { "accept" } else { "decline" };
        let path = format!("/api/v1/friends/requests/{id}/{verb}");
        Self::send(self.request(Method::POST, &path, Some(token))?).await
    }

    /// `DELETE /api/v1/friends/{user_id}`.
    pub async fn remove_friend(&self, token: &str, user_id: &str) -> Result<()> {
        let path = format!("/api/v1/friends/{}", user_id_arg(user_id)?);
        Self::send_empty(self.request(Method::DELETE, &path, Some(token))?).await
    }

    /// `POST /api/v1/groups`.
    pub async fn create_group(&self, token: &str, name: &str, members: &[String]) -> Result<Group> {
        let body = CreateGroup {
            name: name.to_owned(),
            members: user_ids_arg(members)?,
        };
        let req = self
            .request(Method::POST, "/api/v1/groups", Some(token))?
            .json(&body);
        Self::send(req).await
    }

    /// `GET /api/v1/groups`: my groups.
    pub async fn groups(&self, token: &str) -> Result<Vec<Group>> {
        let req = self.request(Method::GET, "/api/v1/groups", Some(token))?;
        Ok(Self::send::<GroupList>(req).await?.groups)
    }

    /// `GET /api/v1/groups/{gid}`.
    pub async fn group(&self, token: &str, group_id: &str) -> Result<Group> {
        let path = group_path(group_id)?;
        Self::send(self.request(Method::GET, &path, Some(token))?).await
    }

    /// `PATCH /api/v1/groups/{gid}`.
    pub async fn rename_group(&self, token: &str, group_id: &str, name: &str) -> Result<Group> {
        let req = self
            .request(Method::PATCH, &group_path(group_id)?, Some(token))?
            .json(&RenameGroup {
                name: name.to_owned(),
            });
        Self::send(req).await
    }

    /// `GET /api/v1/groups/{gid}/members`.
    pub async fn group_members(&self, token: &str, group_id: &str) -> Result<Vec<Member>> {
        let path = format!("{}/members", group_path(group_id)?);
        let req = self.request(Method::GET, &path, Some(token))?;
        Ok(Self::send::<MemberList>(req).await?.members)
    }

    /// `POST /api/v1/groups/{gid}/members`.
    pub async fn add_group_members(
        &self,
        token: &str,
        group_id: &str,
        members: &[String],
    ) -> Result<Group> {
        let path = format!("{}/members", group_path(group_id)?);
        let req = self
            .request(Method::POST, &path, Some(token))?
            .json(&AddMembers {
                members: user_ids_arg(members)?,
            });
        Self::send(req).await
    }

    /// `DELETE /api/v1/groups/{gid}/members/{user_id}` (removing oneself = leaving).
    pub async fn remove_group_member(
        &self,
        token: &str,
        group_id: &str,
        user_id: &str,
    ) -> Result<()> {
        let path = format!(
            "{}/members/{}",
            group_path(group_id)?,
            user_id_arg(user_id)?
        );
        Self::send_empty(self.request(Method::DELETE, &path, Some(token))?).await
    }

    /// `GET /api/v1/broadcasts?after=<cursor>`: notices that changed for me after `cursor`.
    pub async fn notices(&self, token: &str, after: i64) -> Result<NoticesPage> {
        let req = self
            .request(Method::GET, "/api/v1/broadcasts", Some(token))?
            .query(&[("after", after.to_string())]);
        Self::send(req).await
    }

    /// `GET /api/v1/sync?after=<seq>&limit=<n>`.
    pub async fn sync(&self, token: &str, after: i64, limit: u32) -> Result<SyncPage> {
        let req = self
            .request(Method::GET, "/api/v1/sync", Some(token))?
            .query(&[
                ("after", after.to_string()),
                ("limit", limit.min(MAX_SYNC_LIMIT).to_string()),
            ]);
        Self::send(req).await
    }
}

/// Media and stickers (docs/MEDIA.md).
impl Http {
    /// `HEAD /api/v1/media/{sha256}`.
    pub async fn media_head(&self, token: &str, sha256: &str) -> Result<MediaHead> {
        let req = self.request(Method::HEAD, &media_path(sha256)?, Some(token))?;
        let resp = req.send().await?;
        match resp.status() {
            s if s.is_success() => Ok(MediaHead::Stored {
                size: resp.content_length().unwrap_or(0),
            }),
            StatusCode::NOT_FOUND => Ok(MediaHead::Missing {
                offset: header_u64(resp.headers(), UPLOAD_OFFSET).unwrap_or(0),
            }),
            status => Err(map_error(status, "")),
        }
    }

    /// `PUT /api/v1/media/{sha256}` of `len` bytes starting at byte `offset` of the file
    /// (`Upload-Offset` when resuming). No overall deadline: the caller watches progress.
    pub async fn media_put(
        &self,
        token: &str,
        sha256: &str,
        offset: u64,
        len: u64,
        body: reqwest::Body,
    ) -> Result<PutOutcome> {
        let mut req = self
            .request(Method::PUT, &media_path(sha256)?, Some(token))?
            .timeout(TRANSFER_DEADLINE)
            .header(reqwest::header::CONTENT_LENGTH, len)
            .header(
                reqwest::header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
        if offset > 0 {
            req = req.header(UPLOAD_OFFSET, offset);
        }
        let resp = req.body(body).send().await?;
        let status = resp.status();
        if status.is_success() {
            return Ok(PutOutcome::Stored);
        }
        if status == StatusCode::CONFLICT {
            if let Some(actual) = header_u64(resp.headers(), UPLOAD_OFFSET) {
                return Ok(PutOutcome::OffsetMismatch { actual });
            }
        }
        let text = resp.text().await.unwrap_or_default();
        Err(map_media_error(status, &text))
    }

    /// `GET /api/v1/media/{sha256}`: the answer, its body still to be streamed (no overall
    /// deadline: the caller watches progress). 404 is [`Error::MediaUnavailable`].
    pub async fn media_get(&self, token: &str, sha256: &str) -> Result<reqwest::Response> {
        let req = self
            .request(Method::GET, &media_path(sha256)?, Some(token))?
            .timeout(TRANSFER_DEADLINE);
        let resp = req.send().await?;
        if resp.status() == StatusCode::NOT_FOUND {
            return Err(Error::MediaUnavailable(sha256.to_owned()));
        }
        check(resp).await
    }

    /// `GET /api/v1/stickers`: the server's sticker packs.
    pub async fn sticker_packs(&self) -> Result<Vec<StickerPack>> {
        #[derive(Deserialize)]
        struct Answer {
            packs: Vec<StickerPack>,
        }
        let req = self.request(Method::GET, "/api/v1/stickers", None)?;
        Ok(Self::send::<Answer>(req).await?.packs)
    }

    /// `GET /api/v1/stickers/{pack}/{id}.png`: one sticker image.
    pub async fn sticker_image(&self, pack: &str, id: &str) -> Result<bytes::Bytes> {
        let path = crate::model::sticker_url(sticker_name_arg(pack)?, sticker_name_arg(id)?);
        let resp = check(self.request(Method::GET, &path, None)?.send().await?).await?;
        Ok(resp.bytes().await?)
    }
}

/// `/api/v1/media/<sha256>`; anything but 64 lowercase hex digits is refused.
fn media_path(sha256: &str) -> Result<String> {
    if !crate::media::cache::is_sha256(sha256) {
        return Err(Error::InvalidRequest(format!(
            "{sha256:?} is not a sha256 (64 lowercase hex digits)"
        )));
    }
    Ok(crate::model::media_url(sha256))
}

/// A sticker pack or sticker id: 1–64 of `A-Z a-z 0-9 _ -` (it becomes a path segment
/// here and a file name in the cache).
pub(crate) fn sticker_name_arg(name: &str) -> Result<&str> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !ok {
        return Err(Error::InvalidRequest(format!(
            "{name:?} is not a sticker pack or sticker id"
        )));
    }
    Ok(name)
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// Media upload answers that deserve their own error: 413 too large, 415 not an image,
/// 400 hash mismatch; the rest as [`map_error`].
fn map_media_error(status: StatusCode, body: &str) -> Error {
    let message = serde_json::from_str::<ErrorBody>(body)
        .map(|b| b.error.message)
        .unwrap_or_default();
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => Error::MediaTooLarge(message),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Error::UnsupportedMedia(message),
        StatusCode::BAD_REQUEST
            if serde_json::from_str::<ErrorBody>(body)
                .is_ok_and(|b| b.error.code == "hash_mismatch") =>
        {
            Error::HashMismatch
        }
        _ => map_error(status, body),
    }
}

/// The path of one user; ids are decimal numbers, anything else is refused before it can
/// change the path.
fn user_path(user_id: &str) -> Result<String> {
    Ok(format!("/api/v1/users/{}", user_id_arg(user_id)?))
}

/// A user id argument, trimmed; anything but 1–20 decimal digits is refused.
pub(crate) fn user_id_arg(user_id: &str) -> Result<&str> {
    let id = user_id.trim();
    if id.is_empty() || id.len() > 20 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::InvalidRequest(format!(
            "{user_id:?} is not a user id"
        )));
    }
    Ok(id)
}

fn user_ids_arg(ids: &[String]) -> Result<Vec<String>> {
    ids.iter()
        .map(|id| user_id_arg(id).map(str::to_owned))
        .collect()
}

/// `/api/v1/groups/g<digits>`; anything else is refused.
fn group_path(group_id: &str) -> Result<String> {
    let id = group_id.trim();
    if hongyan_protocol::api::parse_group_id(id).is_none() {
        return Err(Error::InvalidRequest(format!(
            "{group_id:?} is not a group id (g<digits>)"
        )));
    }
    Ok(format!("/api/v1/groups/{id}"))
}

/// Turns an error answer into an [`Error`].
async fn check(resp: reqwest::Response) -> Result<reqwest::Response> {
    let status = resp.status();
    if status.is_success() {
        return Ok(resp);
    }
    let text = resp.text().await.unwrap_or_default();
    Err(map_error(status, &text))
}

/// Maps a status and an error body (`{"error":{"code","message"}}`) to an [`Error`].
pub fn map_error(status: StatusCode, body: &str) -> Error {
    let (code, message) = match serde_json::from_str::<ErrorBody>(body) {
        Ok(b) => (b.error.code, b.error.message),
        Err(_) => (
            status
                .canonical_reason()
                .unwrap_or("error")
                .to_lowercase()
                .replace(' ', "_"),
            String::new(),
        ),
    };
    match (status, code.as_str()) {
        (_, "invalid_credentials") => Error::InvalidCredentials,
        (_, "username_taken") => Error::UsernameTaken,
        (_, "invalid_request") => Error::InvalidRequest(message),
        (_, "account_disabled") => Error::AccountDisabled,
        // HTTP's 1027: the server wants a newer core before it issues a token.
        (_, "client_too_old") | (StatusCode::UPGRADE_REQUIRED, _) => Error::ClientTooOld(message),
        (_, "unauthorized" | "token_expired") | (StatusCode::UNAUTHORIZED, _) => {
            Error::Unauthorized
        }
        _ => Error::Server {
            status: status.as_u16(),
            code,
            message,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(code: &str) -> String {
        format!(r#"{{"error":{{"code":"{code}","message":"m"}}}}"#)
    }

    #[test]
    fn error_bodies_map_to_ui_errors() {
        assert!(matches!(
            map_error(StatusCode::UNAUTHORIZED, &err("invalid_credentials")),
            Error::InvalidCredentials
        ));
        assert!(matches!(
            map_error(StatusCode::CONFLICT, &err("username_taken")),
            Error::UsernameTaken
        ));
        assert!(
            matches!(map_error(StatusCode::BAD_REQUEST, &err("invalid_request")), Error::InvalidRequest(m) if m == "m")
        );
        assert!(matches!(
            map_error(StatusCode::FORBIDDEN, &err("account_disabled")),
            Error::AccountDisabled
        ));
        assert!(matches!(
            map_error(StatusCode::UNAUTHORIZED, &err("unauthorized")),
            Error::Unauthorized
        ));
        assert!(
            matches!(map_error(StatusCode::UPGRADE_REQUIRED, &err("client_too_old")), Error::ClientTooOld(m) if m == "m")
        );
        assert!(matches!(
            map_error(StatusCode::UNAUTHORIZED, "not json"),
            Error::Unauthorized
        ));
        match map_error(StatusCode::INTERNAL_SERVER_ERROR, "<html>") {
            Error::Server { status, code, .. } => {
                assert_eq!((status, code.as_str()), (500, "internal_server_error"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_request_carries_version_headers() {
        let v = crate::version::client_version("0.1.0");
        let h = default_headers(&v).expect("headers");
        assert_eq!(
            h.get("platform").and_then(|v| v.to_str().ok()),
            Some(v.platform.as_str())
        );
        assert_eq!(
            h.get("app_version").and_then(|v| v.to_str().ok()),
            Some("0.1.0")
        );
        assert_eq!(
            h.get("core_level").and_then(|v| v.to_str().ok()),
            Some(crate::CORE_LEVEL.to_string().as_str())
        );
        let http = Http::new(
            Url::parse("http://127.0.0.1:1").expect("url"),
            &v,
            std::time::Duration::from_secs(1),
        )
        .expect("http");
        let req = http
            .request(Method::GET, "/api/v1/me", Some("secret"))
            .expect("req")
            .build()
            .expect("build");
        assert_eq!(req.url().as_str(), "http://127.0.0.1:1/api/v1/me");
        assert!(req
            .headers()
            .get(AUTHORIZATION)
            .is_some_and(|v| v.is_sensitive()));
    }

    #[test]
    fn user_requests_use_safe_paths_and_the_query() {
        let v = crate::version::client_version("0.1.0");
        let http = Http::new(
            Url::parse("http://127.0.0.1:1").expect("url"),
            &v,
            std::time::Duration::from_secs(1),
        )
        .expect("http");
        let path = user_path(" 10002 ").expect("id");
        assert_eq!(path, "/api/v1/users/10002");
        for bad in ["", "../me", "1/2", "10001?x=1", "abc"] {
            assert!(
                matches!(user_path(bad), Err(Error::InvalidRequest(_))),
                "{bad}"
            );
        }
        let req = http
            .request(Method::GET, "/api/v1/users", Some("t"))
            .expect("req")
            .query(&[("q", "al ice&x")])
            .build()
            .expect("build");
        assert_eq!(req.url().query(), Some("q=al+ice%26x"));
        assert_eq!(group_path(" g12 ").expect("gid"), "/api/v1/groups/g12");
        for bad in ["12", "g", "g1/members", "gx", "../g1"] {
            assert!(
                matches!(group_path(bad), Err(Error::InvalidRequest(_))),
                "{bad}"
            );
        }
        assert!(user_ids_arg(&["1".into(), "x".into()]).is_err());
        let answer: User =
            serde_json::from_str(r#"{"user_id":"1","username":"a","nickname":"A"}"#).expect("u");
        assert_eq!(answer.nickname, "A");
        assert!(matches!(
            map_error(StatusCode::NOT_FOUND, &err("not_found")),
            Error::Server { status: 404, code, .. } if code == "not_found"
        ));
    }

    #[test]
    fn media_answers_map_to_clear_errors_and_paths_are_safe() {
        let body =
            |code: &str, msg: &str| format!(r#"{{"error":{{"code":"{code}","message":"{msg}"}}}}"#);
        assert!(matches!(
            map_media_error(StatusCode::PAYLOAD_TOO_LARGE, &body("too_large", "over 1 KiB")),
            Error::MediaTooLarge(m) if m == "over 1 KiB"
        ));
        assert!(matches!(
            map_media_error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                &body("unsupported_media_type", "not an image")
            ),
            Error::UnsupportedMedia(m) if m == "not an image"
        ));
        assert!(matches!(
            map_media_error(StatusCode::BAD_REQUEST, &body("hash_mismatch", "x")),
            Error::HashMismatch
        ));
        assert!(matches!(
            map_media_error(StatusCode::BAD_REQUEST, &body("invalid_request", "bad")),
            Error::InvalidRequest(m) if m == "bad"
        ));
        assert!(map_media_error(StatusCode::BAD_GATEWAY, "").is_transient());
        assert!(Error::MediaTooLarge("x".into())
            .to_string()
            .contains("too large"));

        let sha = "0123456789abcdef".repeat(4);
        assert_eq!(
            media_path(&sha).expect("sha"),
            format!("/api/v1/media/{sha}")
        );
        for bad in [
            "",
            "../etc",
            &sha.to_uppercase(),
            &sha[..63],
            &format!("{sha}0"),
        ] {
            assert!(
                matches!(media_path(bad), Err(Error::InvalidRequest(_))),
                "{bad}"
            );
        }
        assert_eq!(sticker_name_arg("goose-1_b").expect("ok"), "goose-1_b");
        for bad in ["", "..", "a/b", "a.png", "a b", &"x".repeat(65)] {
            assert!(sticker_name_arg(bad).is_err(), "{bad}");
        }
        let mut h = HeaderMap::new();
        h.insert(UPLOAD_OFFSET, HeaderValue::from_static(" 4096"));
        assert_eq!(header_u64(&h, UPLOAD_OFFSET), Some(4096));
        h.insert(UPLOAD_OFFSET, HeaderValue::from_static("-1"));
        assert_eq!(header_u64(&h, UPLOAD_OFFSET), None);
    }

    #[test]
    fn login_answer_debug_hides_the_token() {
        let a: LoginAnswer =
            serde_json::from_str(r#"{"user_id":"1","token":"abc123","expires_at":5}"#)
                .expect("json");
        assert!(!format!("{a:?}").contains("abc123"));
    }
}
