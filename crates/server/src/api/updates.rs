//! `GET /api/v1/updates/{target}/{current_version}` and
//! `GET /api/v1/updates/{target}/{version}/download`: what the app's updater asks
//! (docs/UPDATES.md). No token: the bundle's signature, checked by the app with the key built
//! into it, is what proves a release, not the transport or the caller.

use std::{net::SocketAddr, path::PathBuf, sync::Arc};

use axum::{
    body::Body,
    extract::{Path, State},
    http::{header, uri::Authority, HeaderMap, HeaderValue, StatusCode, Uri},
    response::{IntoResponse, Response},
    Json,
};
use serde::Serialize;
use tokio_util::io::ReaderStream;

use super::ApiError;
use crate::{
    releases::{parse_version, validate_target, Release, ReleaseError, ReleasesDir},
    AppState,
};

/// Read size when streaming a bundle.
const CHUNK: usize = 64 * 1024;

/// The updater's dynamic manifest (Tauri's "server format").
#[derive(Debug, Serialize)]
pub struct Manifest {
    pub version: String,
    pub notes: Option<String>,
    pub pub_date: String,
    pub url: String,
    pub signature: String,
}

/// `GET /api/v1/updates/{target}/{current_version}`: 200 with the newest newer release,
/// 204 when there is none (unknown target included), 400 for a malformed target or version.
pub async fn check(
    State(state): State<Arc<AppState>>,
    Path((target, current)): Path<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    validate_target(&target).map_err(|e| ApiError::invalid_request(e.to_string()))?;
    let current = parse_version(&current).map_err(|e| ApiError::invalid_request(e.to_string()))?;
    let dir = ReleasesDir::at(state.config.releases_dir.clone());
    let t = target.clone();
    let newest = blocking(move || dir.newest_after(&t, &current))
        .await?
        .map_err(server_error)?;
    let Some(release) = newest else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    let url = format!(
        "{}/api/v1/updates/{target}/{}/download",
        base_url(&headers, &uri, state.config.http_addr),
        release.version
    );
    let manifest = Manifest {
        version: release.version,
        notes: release.notes,
        pub_date: release.pub_date,
        url,
        signature: release.signature,
    };
    // Always asked afresh: a release published a minute ago must be seen.
    Ok((
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"))],
        Json(manifest),
    )
        .into_response())
}

/// `GET /api/v1/updates/{target}/{version}/download`: the bundle, streamed from disk.
pub async fn download(
    State(state): State<Arc<AppState>>,
    Path((target, version)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::not_found("no such release");
    let (Ok(()), Ok(version)) = (validate_target(&target), parse_version(&version)) else {
        return Err(not_found());
    };
    let dir = ReleasesDir::at(state.config.releases_dir.clone());
    let found = blocking(
        move || -> Result<Option<(Release, PathBuf)>, ReleaseError> {
            Ok(dir.find(&target, &version)?.map(|release| {
                let path = dir.bundle_path(&target, &version, &release);
                (release, path)
            }))
        },
    )
    .await?;
    let (release, path) = match found {
        Ok(Some(found)) => found,
        Ok(None) => return Err(not_found()),
        Err(
            e @ (ReleaseError::BadRecord { .. }
            | ReleaseError::MisplacedRecord { .. }
            | ReleaseError::BadFileName(_)),
        ) => {
            tracing::warn!(error = %e, "not serving a broken release");
            return Err(not_found());
        }
        Err(e) => return Err(server_error(e)),
    };
    let file = match tokio::fs::File::open(&path).await {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            tracing::warn!(path = %path.display(), "a release's bundle is missing");
            return Err(not_found());
        }
        Err(e) => return Err(server_error(ReleaseError::Io { path, source: e })),
    };
    let len = file
        .metadata()
        .await
        .map_err(|source| {
            server_error(ReleaseError::Io {
                path: path.clone(),
                source,
            })
        })?
        .len();
    if len != release.size {
        tracing::warn!(path = %path.display(), len, recorded = release.size, "a bundle's size is not its recorded size");
    }
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", release.file))
        .map_err(|_| ApiError::internal())?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            ),
            (header::CONTENT_LENGTH, HeaderValue::from(len)),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        Body::from_stream(ReaderStream::with_capacity(file, CHUNK)),
    )
        .into_response())
}

/// `scheme://host` the client reached: the `Host` header (or the request's authority, as in
/// HTTP/2), else the listen address; `https` behind a proxy that says
/// `X-Forwarded-Proto: https`.
fn base_url(headers: &HeaderMap, uri: &Uri, listen: SocketAddr) -> String {
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"));
    let scheme = if https { "https" } else { "http" };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| is_plain_authority(h))
        .map(str::to_owned)
        .or_else(|| uri.authority().map(Authority::to_string))
        .unwrap_or_else(|| listen.to_string());
    format!("{scheme}://{host}")
}

/// `host[:port]` with nothing else (no user info, path or spaces).
fn is_plain_authority(h: &str) -> bool {
    !h.is_empty() && !h.contains('@') && h.parse::<Authority>().is_ok()
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        tracing::error!(error = %e, "releases task failed");
        ApiError::internal()
    })
}

fn server_error(e: ReleaseError) -> ApiError {
    tracing::error!(error = %e, "cannot read the releases dir");
    ApiError::internal()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn the_base_url_is_what_the_client_reached() {
        let listen: SocketAddr = "10.0.0.5:3000".parse().expect("addr");
        let path: Uri = "/api/v1/updates/x/0.1.0".parse().expect("uri");
        let cases = [
            (
                headers(&[("host", "chat.example.com")]),
                "http://chat.example.com",
            ),
            (
                headers(&[("host", "127.0.0.1:3100")]),
                "http://127.0.0.1:3100",
            ),
            (headers(&[("host", "[::1]:3100")]), "http://[::1]:3100"),
            (
                headers(&[("host", "chat.example.com"), ("x-forwarded-proto", "https")]),
                "https://chat.example.com",
            ),
            (
                headers(&[("host", "h"), ("x-forwarded-proto", "HTTPS, http")]),
                "https://h",
            ),
            (
                headers(&[("host", "h"), ("x-forwarded-proto", "http")]),
                "http://h",
            ),
            (headers(&[]), "http://10.0.0.5:3000"),
            (headers(&[("host", "evil@h")]), "http://10.0.0.5:3000"),
            (headers(&[("host", "h/x")]), "http://10.0.0.5:3000"),
        ];
        for (h, want) in cases {
            assert_eq!(base_url(&h, &path, listen), want, "{h:?}");
        }
        let absolute: Uri = "https://h2.example:8443/api/v1/updates/x/0.1.0"
            .parse()
            .expect("uri");
        assert_eq!(
            base_url(&headers(&[]), &absolute, listen),
            "http://h2.example:8443",
            "HTTP/2 carries the authority in the URI"
        );
    }
}
