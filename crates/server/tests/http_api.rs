//! HTTP API against the real binary.

mod common;

use common::{TestServer, PASSWORD};
use serde_json::{json, Value};

fn code(body: &Value) -> &str {
    body["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("error shape: {body}"))
}

#[tokio::test]
async fn register_login_me_users_logout() {
    let s = TestServer::start().await;
    let (st, body) = s.get("/healthz", None).await;
    assert_eq!((st, body), (200, Value::String("ok".into())));

    let (st, body) = s
        .post(
            "/api/v1/register",
            json!({"username": "alice", "password": PASSWORD, "nickname": "Alice A"}),
        )
        .await;
    assert_eq!(st, 201, "{body}");
    assert_eq!(body["user_id"], "10001");
    assert_eq!(body["username"], "alice");

    let (st, body) = s
        .post(
            "/api/v1/register",
            json!({"username": "ALICE", "password": PASSWORD}),
        )
        .await;
    assert_eq!((st, code(&body)), (409, "username_taken"));
    for bad in [
        json!({"username": "al", "password": PASSWORD}),
        json!({"username": "al ice", "password": PASSWORD}),
        json!({"username": "alice2", "password": "short"}),
    ] {
        let (st, body) = s.post("/api/v1/register", bad).await;
        assert_eq!((st, code(&body)), (400, "invalid_request"));
        assert!(!body["error"]["message"].as_str().expect("msg").is_empty());
    }
    s.register("bob").await;

    let (st, body) = s
        .post(
            "/api/v1/login",
            json!({"username": "alice", "password": "wrongpassword"}),
        )
        .await;
    assert_eq!((st, code(&body)), (401, "invalid_credentials"));
    let (st2, body2) = s
        .post(
            "/api/v1/login",
            json!({"username": "nobody", "password": PASSWORD}),
        )
        .await;
    assert_eq!((st2, &body2), (st, &body), "same answer for unknown user");

    let (st, body) = s
        .post(
            "/api/v1/login",
            json!({"username": "alice", "password": PASSWORD}),
        )
        .await;
    assert_eq!(st, 200, "{body}");
    let token = body["token"].as_str().expect("token").to_owned();
    assert_eq!(token.len(), 64);
    assert!(body["expires_at"].as_i64().expect("expires_at") > hongyan_protocol::now_ms());

    let (st, me) = s.get("/api/v1/me", Some(&token)).await;
    assert_eq!(st, 200);
    assert_eq!(
        me,
        json!({"user_id": "10001", "username": "alice", "nickname": "Alice A"})
    );

    let (st, found) = s.get("/api/v1/users?q=B", Some(&token)).await;
    assert_eq!(st, 200);
    assert_eq!(found["users"][0]["username"], "bob");
    assert_eq!(found["users"].as_array().expect("users").len(), 1);

    let resp = s
        .http()
        .post(s.url("/api/v1/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("logout");
    assert_eq!(resp.status().as_u16(), 204);
    let (st, body) = s.get("/api/v1/me", Some(&token)).await;
    assert_eq!((st, code(&body)), (401, "unauthorized"));
}

#[tokio::test]
async fn errors_are_always_json() {
    let s = TestServer::start().await;
    for path in ["/api/v1/me", "/api/v1/sync", "/api/v1/users?q=a"] {
        let (st, body) = s.get(path, None).await;
        assert_eq!((st, code(&body)), (401, "unauthorized"), "{path}");
        let (st, body) = s.get(path, Some("not-a-token")).await;
        assert_eq!((st, code(&body)), (401, "unauthorized"), "{path}");
    }
    let (st, body) = s.get("/nope", None).await;
    assert_eq!((st, code(&body)), (404, "not_found"));

    let resp = s
        .http()
        .post(s.url("/api/v1/register"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 400);
    let body: Value = resp.json().await.expect("json error body");
    assert_eq!(code(&body), "invalid_request");

    let (st, body) = s.post("/api/v1/register", json!({"username": "x"})).await;
    assert_eq!((st, code(&body)), (422, "invalid_request"));

    let resp = s
        .http()
        .post(s.url("/api/v1/register"))
        .body("x")
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 415);
    let body: Value = resp.json().await.expect("json error body");
    assert_eq!(code(&body), "unsupported_media_type");

    let big = format!(
        r#"{{"username":"{}","password":"x"}}"#,
        "a".repeat(70 * 1024)
    );
    let resp = s
        .http()
        .post(s.url("/api/v1/register"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 413);
    assert_eq!(
        resp.headers().get("connection").map(|v| v.as_bytes()),
        Some(&b"close"[..]),
        "a 413 closes the connection (its body was not read)"
    );
    let body: Value = resp.json().await.expect("json error body");
    assert_eq!(code(&body), "payload_too_large");

    let resp = s
        .http()
        .delete(s.url("/api/v1/login"))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 405);
    let body: Value = resp.json().await.expect("json error body");
    assert_eq!(code(&body), "method_not_allowed");
}

#[tokio::test]
async fn one_user_by_id() {
    let s = TestServer::start().await;
    let (st, body) = s
        .post(
            "/api/v1/register",
            json!({"username": "carol", "password": PASSWORD, "nickname": "Carol 鸿"}),
        )
        .await;
    assert_eq!(st, 201, "{body}");
    let carol = body["user_id"].as_str().expect("id").to_owned();
    s.register("dave").await;
    let (st, body) = s
        .post(
            "/api/v1/login",
            json!({"username": "dave", "password": PASSWORD}),
        )
        .await;
    assert_eq!(st, 200, "{body}");
    let token = body["token"].as_str().expect("token").to_owned();

    let path = format!("/api/v1/users/{carol}");
    let (st, user) = s.get(&path, Some(&token)).await;
    assert_eq!(st, 200, "{user}");
    assert_eq!(
        user,
        json!({"user_id": carol, "username": "carol", "nickname": "Carol 鸿"})
    );
    for missing in [
        "/api/v1/users/99999",
        "/api/v1/users/abc",
        "/api/v1/users/-1",
    ] {
        let (st, body) = s.get(missing, Some(&token)).await;
        assert_eq!((st, code(&body)), (404, "not_found"), "{missing}");
    }
    let (st, body) = s.get(&path, None).await;
    assert_eq!((st, code(&body)), (401, "unauthorized"));
    let (st, body) = s.get(&path, Some("not-a-token")).await;
    assert_eq!((st, code(&body)), (401, "unauthorized"));
}
