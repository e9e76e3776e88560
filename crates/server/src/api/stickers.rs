//! `GET /api/v1/stickers` and `GET /api/v1/stickers/{pack}/{id}.png`: public sticker assets
//! (no token: they are the same for everyone).

use std::sync::Arc;

use axum::{
    extract::{Path, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::Serialize;

use super::{media::matches_etag, ApiError};
use crate::AppState;

/// Stickers may be replaced by an operator, so they are revalidated after a week (the ETag
/// makes that cheap).
const STICKER_CACHE_CONTROL: &str = "public, max-age=604800";

#[derive(Debug, Serialize)]
pub struct PackList {
    pub packs: Vec<PackView>,
}

#[derive(Debug, Serialize)]
pub struct PackView {
    pub id: String,
    pub name: String,
    pub stickers: Vec<StickerView>,
}

#[derive(Debug, Serialize)]
pub struct StickerView {
    pub id: String,
    pub name: String,
    pub url: String,
    pub w: u32,
    pub h: u32,
}

/// Where a sticker's PNG is served.
pub fn sticker_url(pack: &str, id: &str) -> String {
    format!("/api/v1/stickers/{pack}/{id}.png")
}

/// `GET /api/v1/stickers`
pub async fn list(State(state): State<Arc<AppState>>) -> Json<PackList> {
    let packs = state
        .stickers
        .packs()
        .iter()
        .map(|pack| PackView {
            id: pack.id.clone(),
            name: pack.name.clone(),
            stickers: pack
                .stickers
                .iter()
                .map(|s| StickerView {
                    id: s.id.clone(),
                    name: s.name.clone(),
                    url: sticker_url(&pack.id, &s.id),
                    w: s.width,
                    h: s.height,
                })
                .collect(),
        })
        .collect();
    Json(PackList { packs })
}

/// `GET /api/v1/stickers/{pack}/{id}.png`: served from memory; anything not in a loaded pack
/// (including any path trick) is 404.
pub async fn png(
    State(state): State<Arc<AppState>>,
    Path((pack, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let sticker = file
        .strip_suffix(".png")
        .and_then(|id| state.stickers.find(&pack, id))
        .ok_or_else(|| ApiError::not_found("no such sticker"))?;
    let etag = HeaderValue::from_str(&sticker.etag).map_err(|_| ApiError::internal())?;
    let cache = [
        (header::ETAG, etag),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static(STICKER_CACHE_CONTROL),
        ),
    ];
    if matches_etag(&headers, &sticker.etag) {
        return Ok((StatusCode::NOT_MODIFIED, cache).into_response());
    }
    Ok((
        cache,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("image/png")),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        sticker.png.clone(),
    )
        .into_response())
}
