//! `HEAD/PUT/GET /api/v1/media/{sha256}`: content-addressed image upload and download
//! (docs/MEDIA.md). The storage work is in [`crate::media`].

use std::sync::Arc;

use axum::{
    body::Body,
    extract::{Path, State},
    http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::Serialize;
use tokio_util::io::ReaderStream;

use super::{auth::AuthUser, ApiError};
use crate::{
    media::{Sha256Hex, UploadError},
    store::media::MediaRecord,
    AppState,
};

/// `Upload-Offset`: where a resumed upload continues, or how much of it the server holds.
pub const UPLOAD_OFFSET: HeaderName = HeaderName::from_static("upload-offset");

/// Stored media never changes (its name is its hash): cache for a year, privately (it is
/// behind a token).
const MEDIA_CACHE_CONTROL: &str = "private, max-age=31536000, immutable";

/// Bytes read from disk per body chunk when serving a file.
const READ_CHUNK: usize = 64 * 1024;

/// What a stored upload answers.
#[derive(Debug, Serialize)]
pub struct MediaStored {
    pub sha256: String,
    pub url: String,
    pub mime: String,
    pub size: u64,
}

impl MediaStored {
    fn new(sha: &Sha256Hex, mime: &str, size: u64) -> Self {
        Self {
            sha256: sha.to_string(),
            url: sha.url(),
            mime: mime.to_owned(),
            size,
        }
    }
}

fn parse_sha(raw: &str) -> Result<Sha256Hex, ApiError> {
    Sha256Hex::parse(raw).ok_or_else(|| {
        ApiError::invalid_request(format!("{raw:?} is not a sha256 (64 lowercase hex digits)"))
    })
}

fn io_error(e: std::io::Error) -> ApiError {
    tracing::error!(error = %e, "media storage error");
    ApiError::internal()
}

fn offset_header(offset: u64) -> [(HeaderName, HeaderValue); 1] {
    [(UPLOAD_OFFSET, HeaderValue::from(offset))]
}

/// The record of `sha` when its file is in place too (a row whose file an operator removed
/// counts as not stored, so it can be uploaded again).
async fn stored(state: &AppState, sha: &Sha256Hex) -> Result<Option<MediaRecord>, ApiError> {
    let Some(record) = state.store.media(sha.to_string()).await? else {
        return Ok(None);
    };
    let on_disk = state
        .uploads
        .dir()
        .stored_len(sha)
        .await
        .map_err(io_error)?;
    Ok(on_disk.map(|_| record))
}

/// `HEAD /api/v1/media/{sha256}`: 200 when stored; else 404 with this user's `Upload-Offset`.
pub async fn head(
    State(state): State<Arc<AppState>>,
    user: AuthUser,
    Path(sha): Path<String>,
) -> Result<Response, ApiError> {
    let sha = parse_sha(&sha)?;
    if let Some(record) = stored(&state, &sha).await? {
        return Ok((
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_str(&record.mime).map_err(|_| ApiError::internal())?,
                ),
                (header::CONTENT_LENGTH, HeaderValue::from(record.size)),
            ],
            StatusCode::OK,
        )
            .into_response());
    }
    let offset = state
        .uploads
        .dir()
        .partial_len(user.user_id, &sha)
        .await
        .map_err(io_error)?;
    Ok((
        offset_header(offset),
        ApiError::not_found("no media with this sha256"),
    )
        .into_response())
}

/// `PUT /api/v1/media/{sha256}`: stores the body (streamed, never held in memory), or
/// continues this user's partial upload at `Upload-Offset`.
///
/// Every answer except 201 comes before the body was read to its end, so it closes the
/// connection: a client must not send its next request after the unread rest of this one.
pub async fn put(
    State(state): State<Arc<AppState>>,
    user: Result<AuthUser, ApiError>,
    Path(sha): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let mut response = match receive(&state, user, &sha, &headers, body).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    };
    if response.status() != StatusCode::CREATED {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

async fn receive(
    state: &AppState,
    user: Result<AuthUser, ApiError>,
    sha: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let user = user?;
    let sha = parse_sha(sha)?;
    if let Some(record) = stored(state, &sha).await? {
        // 秒传: already here, the body is not read.
        let answer = MediaStored::new(&sha, &record.mime, record.size);
        return Ok((StatusCode::OK, Json(answer)).into_response());
    }
    let offset = match headers.get(&UPLOAD_OFFSET) {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .ok_or_else(|| {
                    ApiError::invalid_request("Upload-Offset must be a number of bytes")
                })?,
        ),
    };
    let max = state.uploads.max_bytes();
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| offset.unwrap_or(0).saturating_add(len) > max) {
        return Err(too_large(max));
    }
    // Charged before the body is read; a body of unknown length costs the largest upload.
    state
        .limits
        .check_upload(user.user_id, declared)
        .map_err(|l| ApiError::rate_limited(&l))?;
    let received = state
        .uploads
        .receive(user.user_id, &sha, offset, body.into_data_stream())
        .await;
    match received {
        Ok(done) => {
            state
                .store
                .insert_media(
                    done.sha.to_string(),
                    done.mime.into(),
                    done.size,
                    user.user_id,
                )
                .await?;
            tracing::debug!(sha = %done.sha, size = done.size, user = user.user_id, "media stored");
            let answer = MediaStored::new(&done.sha, done.mime, done.size);
            Ok((StatusCode::CREATED, Json(answer)).into_response())
        }
        Err(e) => Ok(upload_error(e)),
    }
}

fn too_large(max: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        format!("the file is larger than this server's limit of {max} bytes"),
    )
}

fn upload_error(e: UploadError) -> Response {
    match e {
        UploadError::TooLarge { limit } => too_large(limit).into_response(),
        UploadError::OffsetMismatch { actual } => (
            offset_header(actual),
            ApiError::new(StatusCode::CONFLICT, "offset_mismatch", e.to_string()),
        )
            .into_response(),
        UploadError::HashMismatch { .. } => {
            ApiError::new(StatusCode::BAD_REQUEST, "hash_mismatch", e.to_string()).into_response()
        }
        UploadError::Unsupported => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            e.to_string(),
        )
        .into_response(),
        // The sender is most likely gone; the answer is for a client that is still there.
        UploadError::Interrupted { kept, .. } => (
            offset_header(kept),
            ApiError::new(StatusCode::BAD_REQUEST, "upload_interrupted", e.to_string()),
        )
            .into_response(),
        UploadError::Superseded => {
            ApiError::new(StatusCode::CONFLICT, "upload_superseded", e.to_string()).into_response()
        }
        UploadError::Io(e) => io_error(e).into_response(),
    }
}

/// Whether `If-None-Match` names `etag` (or `*`).
pub(crate) fn matches_etag(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim())
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
}

/// `GET /api/v1/media/{sha256}`: the bytes, with immutable caching and an ETag.
pub async fn get(
    State(state): State<Arc<AppState>>,
    _user: AuthUser,
    Path(sha): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let sha = parse_sha(&sha)?;
    let not_found = || ApiError::not_found("no media with this sha256");
    let record = state
        .store
        .media(sha.to_string())
        .await?
        .ok_or_else(not_found)?;
    let etag = format!("\"{sha}\"");
    let cache = [
        (
            header::ETAG,
            HeaderValue::from_str(&etag).map_err(|_| ApiError::internal())?,
        ),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static(MEDIA_CACHE_CONTROL),
        ),
    ];
    if matches_etag(&headers, &etag) {
        return Ok((StatusCode::NOT_MODIFIED, cache).into_response());
    }
    let file = match tokio::fs::File::open(state.uploads.dir().stored_path(&sha)).await {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(not_found()),
        Err(e) => return Err(io_error(e)),
    };
    let len = file.metadata().await.map_err(io_error)?.len();
    let mime = HeaderValue::from_str(&record.mime).map_err(|_| ApiError::internal())?;
    Ok((
        cache,
        [
            (header::CONTENT_TYPE, mime),
            (header::CONTENT_LENGTH, HeaderValue::from(len)),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        Body::from_stream(ReaderStream::with_capacity(file, READ_CHUNK)),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_lists_and_weak_tags() {
        let etag = "\"abc\"";
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(
                header::IF_NONE_MATCH,
                HeaderValue::from_str(v).expect("value"),
            );
            h
        };
        assert!(matches_etag(&with("\"abc\""), etag));
        assert!(matches_etag(&with("\"x\", W/\"abc\""), etag));
        assert!(matches_etag(&with("*"), etag));
        assert!(!matches_etag(&with("\"abd\""), etag));
        assert!(!matches_etag(&with("abc"), etag));
        assert!(!matches_etag(&HeaderMap::new(), etag));
    }
}
