//! Images and stickers (docs/MEDIA.md): the commands, and the `hymedia` URI scheme that
//! shows the SDK's cached files to the web view (the UI never loads a remote URL).

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use hongyan_sdk::media::ImageQuality;
use hongyan_sdk::model::{PreparedImage, StickerPack};
use hongyan_sdk::Message;
use percent_encoding::percent_decode_str;
use tauri::http::{header, Response, StatusCode};
use tauri::ipc::{InvokeBody, Request};
use tauri::{AppHandle, Manager, Runtime, State};
use tauri_plugin_dialog::DialogExt;

use crate::error::{IpcError, IpcResult};
use crate::state::AppState;

/// The custom URI scheme (`hymedia://localhost/…`, `http://hymedia.localhost/…` on Windows).
pub const SCHEME: &str = "hymedia";
/// The request header of `prepare_image` that carries the quality.
pub const QUALITY_HEADER: &str = "quality";

/// A 64-digit lowercase hex SHA-256, else `invalid_request`.
fn sha_arg(sha256: &str) -> IpcResult<String> {
    let sha = sha256.trim();
    if is_sha256(sha) {
        Ok(sha.to_owned())
    } else {
        Err(IpcError::invalid_request(
            "That is not an image id (64 hexadecimal digits).",
        ))
    }
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A sticker pack or sticker id: what the server's names look like (letters, digits, `_`, `-`).
fn is_sticker_name(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// `prepare_image`'s quality header: absent means standard.
fn quality_arg(header: Option<&str>) -> IpcResult<ImageQuality> {
    match header.map(str::trim) {
        None | Some("") => Ok(ImageQuality::Standard),
        Some(q) => q.parse().map_err(|_| {
            IpcError::invalid_request(format!(
                "The image quality “{q}” is unknown (standard, hd or original)."
            ))
        }),
    }
}

/// Compresses an image for sending. The body is the file's bytes (raw, not JSON), the
/// `quality` header `standard`, `hd` or `original`. The result is cached by the SDK;
/// `send_image` sends it.
#[tauri::command]
pub async fn prepare_image(
    state: State<'_, AppState>,
    request: Request<'_>,
) -> IpcResult<PreparedImage> {
    let InvokeBody::Raw(bytes) = request.body() else {
        return Err(IpcError::invalid_request(
            "prepare_image takes the file's bytes as the request body.",
        ));
    };
    if bytes.is_empty() {
        return Err(IpcError::invalid_request("The file is empty."));
    }
    let quality = quality_arg(
        request
            .headers()
            .get(QUALITY_HEADER)
            .and_then(|v| v.to_str().ok()),
    )?;
    let bytes = bytes.clone();
    Ok(state.client()?.prepare_image(bytes, quality).await?)
}

/// Sends a prepared image: stored at once (status sending), uploaded in the background
/// (`upload-progress`), sent when the upload is done.
#[tauri::command]
pub async fn send_image(
    state: State<'_, AppState>,
    to: String,
    image: PreparedImage,
) -> IpcResult<Message> {
    sha_arg(&image.sha256)?;
    sha_arg(&image.thumb.sha256)?;
    let to = to.trim();
    if to.is_empty() {
        return Err(IpcError::invalid_request("A recipient is needed."));
    }
    Ok(state.client()?.send_image(to, &image).await?)
}

#[tauri::command]
pub async fn sticker_packs(state: State<'_, AppState>) -> IpcResult<Vec<StickerPack>> {
    Ok(state.client()?.sticker_packs().await?)
}

#[tauri::command]
pub async fn send_sticker(
    state: State<'_, AppState>,
    to: String,
    pack: String,
    id: String,
) -> IpcResult<Message> {
    let to = to.trim();
    if to.is_empty() {
        return Err(IpcError::invalid_request("A recipient is needed."));
    }
    if !is_sticker_name(&pack) || !is_sticker_name(&id) {
        return Err(IpcError::invalid_request("There is no such sticker."));
    }
    Ok(state.client()?.send_sticker(to, &pack, &id).await?)
}

/// A file name from the UI's suggestion: its last component, no separators or control
/// characters, never empty.
fn safe_file_name(suggested: &str) -> String {
    let name: String = suggested
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, ':' | '*' | '?' | '"' | '<' | '>' | '|'))
        .collect();
    let name = name.trim().trim_start_matches('.').to_owned();
    if name.is_empty() {
        "image".to_owned()
    } else {
        name
    }
}

/// Copies a cached file to where the user chose; the copy is written next to the target
/// and renamed into place, so a failed copy never leaves half a file under the chosen name.
async fn copy_into_place(from: &Path, to: &Path) -> std::io::Result<()> {
    let mut partial = to.as_os_str().to_owned();
    partial.push(".part");
    let partial = PathBuf::from(partial);
    if let Err(e) = tokio::fs::copy(from, &partial).await {
        let _ = tokio::fs::remove_file(&partial).await;
        return Err(e);
    }
    tokio::fs::rename(&partial, to).await
}

/// "Save as…": a native save dialog (from Rust: the UI gets no file-system access), then a
/// copy of the cached image. The chosen path, or `None` when the dialog was cancelled.
#[tauri::command]
pub async fn save_media(
    app: AppHandle,
    state: State<'_, AppState>,
    sha256: String,
    suggested_name: String,
) -> IpcResult<Option<String>> {
    let sha = sha_arg(&sha256)?;
    let source = state.client()?.media_path(&sha).await?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog()
        .file()
        .set_file_name(safe_file_name(&suggested_name))
        .save_file(move |path| {
            let _ = tx.send(path);
        });
    let chosen = rx
        .await
        .map_err(|_| IpcError::internal("The save dialog closed unexpectedly."))?;
    let Some(chosen) = chosen else {
        return Ok(None);
    };
    let target = chosen
        .into_path()
        .map_err(|e| IpcError::internal(format!("That place cannot be saved to ({e}).")))?;
    copy_into_place(&source, &target).await.map_err(|e| {
        IpcError::internal(format!(
            "The image could not be saved to {} ({e}).",
            target.display()
        ))
    })?;
    Ok(Some(target.display().to_string()))
}

/// What a `hymedia` URL asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum MediaRequest {
    /// `media/<sha256>`: an image or thumbnail.
    Media(String),
    /// `sticker/<pack>/<id>`.
    Sticker { pack: String, id: String },
}

/// Parses a `hymedia` URL's path (percent-decoded: Tauri's `convertFileSrc` encodes it);
/// `None` for anything else.
pub fn parse_path(path: &str) -> Option<MediaRequest> {
    let decoded: Cow<'_, str> = percent_decode_str(path).decode_utf8().ok()?;
    let parts: Vec<&str> = decoded.trim_start_matches('/').split('/').collect();
    match parts.as_slice() {
        ["media", sha] if is_sha256(sha) => Some(MediaRequest::Media((*sha).to_owned())),
        ["sticker", pack, id] if is_sticker_name(pack) && is_sticker_name(id) => {
            Some(MediaRequest::Sticker {
                pack: (*pack).to_owned(),
                id: (*id).to_owned(),
            })
        }
        _ => None,
    }
}

/// The content type by the file's first bytes (the cache holds only what the server
/// accepts: JPEG, PNG, GIF, WebP).
pub fn content_type(bytes: &[u8]) -> &'static str {
    infer::get(bytes)
        .map(|t| t.mime_type())
        .filter(|m| matches!(*m, "image/jpeg" | "image/png" | "image/gif" | "image/webp"))
        .unwrap_or("application/octet-stream")
}

fn plain(status: StatusCode, text: &str) -> Response<Vec<u8>> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(text.as_bytes().to_vec())
        .unwrap_or_default()
}

/// A file's bytes as the answer: its sniffed type, never re-sniffed by the web view, and
/// cached for as long as its content address stays the same (forever).
fn file_response(bytes: Vec<u8>) -> Response<Vec<u8>> {
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, content_type(&bytes))
        .header(header::CONTENT_LENGTH, bytes.len())
        .header(
            header::CACHE_CONTROL,
            "private, max-age=31536000, immutable",
        )
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .body(bytes)
        .unwrap_or_default()
}

/// The status for an SDK error while fetching a file.
fn error_status(e: &hongyan_sdk::Error) -> StatusCode {
    match e {
        hongyan_sdk::Error::NotLoggedIn => StatusCode::UNAUTHORIZED,
        hongyan_sdk::Error::MediaUnavailable(_) | hongyan_sdk::Error::InvalidRequest(_) => {
            StatusCode::NOT_FOUND
        }
        hongyan_sdk::Error::Server { status: 404, .. } => StatusCode::NOT_FOUND,
        e if e.is_transient() => StatusCode::BAD_GATEWAY,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Answers one `hymedia` request from the SDK's cache (downloading what is missing).
pub async fn serve<R: Runtime>(app: &AppHandle<R>, path: &str) -> Response<Vec<u8>> {
    let Some(request) = parse_path(path) else {
        return plain(StatusCode::NOT_FOUND, "not found");
    };
    let client = match app.state::<AppState>().client() {
        Ok(c) => c,
        Err(_) => return plain(StatusCode::SERVICE_UNAVAILABLE, "no client"),
    };
    let file = match &request {
        MediaRequest::Media(sha) => client.media_path(sha).await,
        MediaRequest::Sticker { pack, id } => client.sticker_path(pack, id).await,
    };
    let file = match file {
        Ok(f) => f,
        Err(e) => {
            tracing::debug!(error = %e, ?request, "media not served");
            return plain(error_status(&e), "not available");
        }
    };
    match tokio::fs::read(&file).await {
        Ok(bytes) => file_response(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            plain(StatusCode::NOT_FOUND, "not found")
        }
        Err(e) => {
            tracing::warn!(error = %e, file = %file.display(), "cached media unreadable");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "unreadable")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn paths_name_media_or_stickers_and_nothing_else() {
        assert_eq!(
            parse_path(&format!("/media/{SHA}")),
            Some(MediaRequest::Media(SHA.into()))
        );
        // convertFileSrc's form: the whole path percent-encoded.
        assert_eq!(
            parse_path(&format!("/media%2F{SHA}")),
            Some(MediaRequest::Media(SHA.into()))
        );
        assert_eq!(
            parse_path("/sticker/goose/hello"),
            Some(MediaRequest::Sticker {
                pack: "goose".into(),
                id: "hello".into()
            })
        );
        for bad in [
            "/",
            "/media/",
            "/media/XYZ",
            &format!("/media/{}", SHA.to_uppercase()),
            &format!("/media/{SHA}/x"),
            "/sticker/goose",
            "/sticker/../etc/passwd",
            "/sticker/goose/..%2F..%2Fsecret",
            "/sticker/go ose/hello",
            "/files/a",
            "/media/%FF",
        ] {
            assert_eq!(parse_path(bad), None, "{bad}");
        }
    }

    #[test]
    fn content_types_come_from_the_bytes() {
        assert_eq!(content_type(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), "image/jpeg");
        assert_eq!(content_type(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), "image/png");
        assert_eq!(content_type(b"GIF89a\x01\0\x01\0"), "image/gif");
        assert_eq!(content_type(b"RIFF\x1a\0\0\0WEBPVP8 "), "image/webp");
        assert_eq!(content_type(b"<svg></svg>"), "application/octet-stream");
        assert_eq!(content_type(b""), "application/octet-stream");
    }

    #[test]
    fn a_file_answer_has_its_type_length_and_long_cache() {
        let r = file_response(b"GIF89a\x01\0\x01\0".to_vec());
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()[header::CONTENT_TYPE], "image/gif");
        assert_eq!(r.headers()[header::CONTENT_LENGTH], "10");
        assert_eq!(r.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert!(r.headers()[header::CACHE_CONTROL]
            .to_str()
            .unwrap_or("")
            .contains("immutable"));
    }

    #[test]
    fn unknown_media_is_404_network_trouble_502() {
        assert_eq!(
            error_status(&hongyan_sdk::Error::MediaUnavailable(SHA.into())),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            error_status(&hongyan_sdk::Error::NotLoggedIn),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            error_status(&hongyan_sdk::Error::Network("down".into())),
            StatusCode::BAD_GATEWAY
        );
        assert_eq!(
            error_status(&hongyan_sdk::Error::Shutdown),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[test]
    fn quality_header_defaults_to_standard_and_rejects_others() {
        assert_eq!(quality_arg(None).expect("none"), ImageQuality::Standard);
        assert_eq!(quality_arg(Some("hd")).expect("hd"), ImageQuality::Hd);
        assert_eq!(
            quality_arg(Some(" original ")).expect("original"),
            ImageQuality::Original
        );
        let e = quality_arg(Some("ultra")).expect_err("bad");
        assert_eq!(e.kind, "invalid_request");
        assert!(e.message.contains("ultra"), "{}", e.message);
    }

    #[test]
    fn image_ids_and_sticker_names_are_checked() {
        assert_eq!(sha_arg(&format!(" {SHA} ")).expect("ok"), SHA);
        assert_eq!(sha_arg("abc").expect_err("short").kind, "invalid_request");
        assert!(is_sticker_name("goose") && is_sticker_name("thumbs_up-2"));
        assert!(!is_sticker_name("") && !is_sticker_name("a/b") && !is_sticker_name(".."));
    }

    #[test]
    fn saved_file_names_are_plain_names() {
        assert_eq!(
            safe_file_name("hongyan-20260102-030405.jpg"),
            "hongyan-20260102-030405.jpg"
        );
        assert_eq!(safe_file_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_file_name("a\\b\\c.png"), "c.png");
        assert_eq!(safe_file_name("..."), "image");
        assert_eq!(safe_file_name("bad\u{0}:name?.png"), "badname.png");
        assert_eq!(safe_file_name(""), "image");
    }

    #[tokio::test]
    async fn a_copy_lands_whole_under_the_chosen_name() {
        let dir = tempfile::tempdir().expect("tmp");
        let from = dir.path().join("cached");
        std::fs::write(&from, b"\x89PNG bytes").expect("write");
        let to = dir.path().join("saved.png");
        copy_into_place(&from, &to).await.expect("copy");
        assert_eq!(std::fs::read(&to).expect("read"), b"\x89PNG bytes");
        assert!(!dir.path().join("saved.png.part").exists());
        let missing = copy_into_place(&dir.path().join("nope"), &dir.path().join("x.png")).await;
        assert!(missing.is_err());
        assert!(!dir.path().join("x.png").exists() && !dir.path().join("x.png.part").exists());
    }
}
