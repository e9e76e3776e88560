//! Every JSON body and query string the server's HTTP API deserializes, decoded exactly as
//! the server does (the `ApiJson` / `ApiQuery` extractors, whose rejections become the API's
//! error response), then checked by the same validation functions the handlers call. The
//! first byte picks the request type; the rest is the body (or the query string). Nothing may
//! panic; memory stays bounded (the router caps bodies at `BODY_LIMIT`).
#![no_main]

use std::sync::OnceLock;

use axum::{
    body::Body,
    extract::{FromRequest, FromRequestParts},
    http::{header::CONTENT_TYPE, Request},
    response::IntoResponse,
};
use hongyan_protocol::api::{
    AddMembers, Audience, CreateGroup, CreateNotice, RenameGroup, SendFriendRequest,
    FRIEND_MESSAGE_MAX,
};
use hongyan_server::{
    accounts,
    api::{
        auth::{parse_user_id, LoginRequest, RegisterRequest, UsersQuery},
        groups, notices,
        notices::NoticesQuery,
        sync::SyncQuery,
        ApiJson, ApiQuery, BODY_LIMIT,
    },
};
use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    if body.len() > BODY_LIMIT {
        return; // the router refuses it with 413 before any extractor runs
    }
    match pick % 10 {
        0 => {
            // POST /api/v1/register, as auth::register validates it.
            if let Some(req) = json::<RegisterRequest>(body) {
                let _ = accounts::validate_username(&req.username);
                let _ = accounts::validate_password(&req.password);
                let nickname = req
                    .nickname
                    .map(|n| n.trim().to_owned())
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| req.username.clone());
                let _ = accounts::validate_nickname(&nickname);
            }
        }
        1 => {
            let _ = json::<LoginRequest>(body);
        }
        2 => {
            // POST /api/v1/friends/requests, as friends::send_request validates it.
            if let Some(req) = json::<SendFriendRequest>(body) {
                let _ = parse_user_id(&req.to);
                let message = req.message.unwrap_or_default().trim().to_owned();
                let _ = message.chars().count() > FRIEND_MESSAGE_MAX;
            }
        }
        3 => {
            if let Some(req) = json::<CreateGroup>(body) {
                let _ = groups::group_name(&req.name);
                let _ = groups::user_ids(&req.members);
            }
        }
        4 => {
            if let Some(req) = json::<RenameGroup>(body) {
                let _ = groups::group_name(&req.name);
            }
        }
        5 => {
            if let Some(req) = json::<AddMembers>(body) {
                let _ = groups::user_ids(&req.members);
            }
        }
        6 => {
            // POST /api/v1/admin/broadcasts, as notices::create validates it.
            if let Some(req) = json::<CreateNotice>(body) {
                let _ = notices::text("title", &req.title, notices::TITLE_MAX);
                let _ = notices::text("body", &req.body, notices::BODY_MAX);
                if let Audience::Users(ids) = &req.audience {
                    let _ = ids.iter().map(|id| parse_user_id(id)).collect::<Vec<_>>();
                }
            }
        }
        7 => {
            if let Some(q) = query::<UsersQuery>(body) {
                let _ = q.q.trim().chars().count();
            }
        }
        8 => {
            let _ = query::<NoticesQuery>(body);
        }
        _ => {
            let _ = query::<SyncQuery>(body);
        }
    }
});

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
    })
}

/// The body through `ApiJson<T>`; a rejection is rendered as the server renders it.
fn json<T: DeserializeOwned>(body: &[u8]) -> Option<T> {
    let req = Request::post("/api/v1/fuzz")
        .header(CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_vec()))
        .expect("request");
    match runtime().block_on(ApiJson::<T>::from_request(req, &())) {
        Ok(ApiJson(value)) => Some(value),
        Err(rejection) => {
            let _ = rejection.into_response();
            None
        }
    }
}

/// The bytes as a query string through `ApiQuery<T>` (when they form a valid URI at all;
/// hyper refuses the rest before routing).
fn query<T: DeserializeOwned>(raw: &[u8]) -> Option<T> {
    let uri = format!("/api/v1/fuzz?{}", std::str::from_utf8(raw).ok()?);
    let req = Request::get(uri.as_str()).body(()).ok()?;
    let (mut parts, ()) = req.into_parts();
    match runtime().block_on(ApiQuery::<T>::from_request_parts(&mut parts, &())) {
        Ok(ApiQuery(value)) => Some(value),
        Err(rejection) => {
            let _ = rejection.into_response();
            None
        }
    }
}
