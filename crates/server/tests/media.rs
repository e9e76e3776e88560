//! Media upload and download against the real binary (docs/MEDIA.md, "Server HTTP API").

mod common;

use std::{io::Cursor, time::Duration};

use common::{TestServer, WAIT};
use reqwest::{header, Method, StatusCode};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::{io::AsyncWriteExt, net::TcpStream};

/// A real PNG of `side`×`side` noise (noise does not compress, so the file is big enough to
/// arrive in several chunks).
fn png(side: u32, seed: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(side, side, |x, y| {
        let v = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503) ^ seed)
            .wrapping_mul(2_246_822_519);
        image::Rgb([(v >> 8) as u8, (v >> 16) as u8, (v >> 24) as u8])
    });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("encode png");
    out.into_inner()
}

fn sha_of(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn code(body: &Value) -> &str {
    body["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("error shape: {body}"))
}

fn path(sha: &str) -> String {
    format!("/api/v1/media/{sha}")
}

struct Media<'a> {
    s: &'a TestServer,
}

impl<'a> Media<'a> {
    fn req(&self, method: Method, sha: &str, token: Option<&str>) -> reqwest::RequestBuilder {
        let req = self.s.http().request(method, self.s.url(&path(sha)));
        match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    async fn put(&self, sha: &str, token: &str, body: Vec<u8>) -> (u16, Value) {
        json(
            self.req(Method::PUT, sha, Some(token))
                .body(body)
                .send()
                .await,
        )
        .await
    }

    /// HEAD: (status, Upload-Offset if any).
    async fn head(&self, sha: &str, token: &str) -> (u16, Option<u64>, header::HeaderMap) {
        let resp = self
            .req(Method::HEAD, sha, Some(token))
            .send()
            .await
            .expect("head");
        let offset = resp
            .headers()
            .get("upload-offset")
            .map(|v| v.to_str().expect("ascii").parse().expect("number"));
        (resp.status().as_u16(), offset, resp.headers().clone())
    }
}

/// Status and JSON body (a string when the body is not JSON).
async fn json(resp: reqwest::Result<reqwest::Response>) -> (u16, Value) {
    let resp = resp.expect("response");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_then_head_and_get_the_same_bytes_with_cache_headers() {
    let s = TestServer::start().await;
    let (_, alice) = s.account("alice").await;
    let (_, bob) = s.account("bob").await;
    let m = Media { s: &s };
    let image = png(200, 1);
    let sha = sha_of(&image);

    let (st, offset, _) = m.head(&sha, &alice).await;
    assert_eq!((st, offset), (404, Some(0)));

    let (st, body) = m.put(&sha, &alice, image.clone()).await;
    assert_eq!(st, 201, "{body}");
    assert_eq!(body["sha256"], sha.as_str());
    assert_eq!(body["url"], path(&sha));
    assert_eq!(body["mime"], "image/png");
    assert_eq!(body["size"], image.len() as u64);

    let (st, _, headers) = m.head(&sha, &bob).await;
    assert_eq!(st, 200);
    assert_eq!(headers[header::CONTENT_TYPE], "image/png");
    assert_eq!(
        headers[header::CONTENT_LENGTH],
        image.len().to_string().as_str()
    );

    let resp = m
        .req(Method::GET, &sha, Some(&bob))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), StatusCode::OK);
    let h = resp.headers().clone();
    assert_eq!(h[header::CONTENT_TYPE], "image/png");
    assert_eq!(
        h[header::CACHE_CONTROL],
        "private, max-age=31536000, immutable"
    );
    let etag = format!("\"{sha}\"");
    assert_eq!(h[header::ETAG], etag.as_str());
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h[header::CONTENT_LENGTH], image.len().to_string().as_str());
    assert_eq!(resp.bytes().await.expect("bytes").as_ref(), &image[..]);

    let resp = m
        .req(Method::GET, &sha, Some(&bob))
        .header(header::IF_NONE_MATCH, &etag)
        .send()
        .await
        .expect("conditional get");
    assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(resp.headers()[header::ETAG], etag.as_str());
    assert!(resp.bytes().await.expect("empty").is_empty());

    // 秒传: a second upload (by anyone) answers 200 without reading the body — even a body
    // that would not match proves nothing was stored again.
    for token in [&alice, &bob] {
        let (st, again) = m.put(&sha, token, b"not the image".to_vec()).await;
        assert_eq!(st, 200, "{again}");
        assert_eq!(again["size"], image.len() as u64);
    }
    let stored = s.data_dir().join("media").join(&sha[..2]).join(&sha);
    assert_eq!(std::fs::read(&stored).expect("stored file"), image);
    let partials = std::fs::read_dir(s.data_dir().join("media/partial"))
        .expect("partial dir")
        .count();
    assert_eq!(partials, 0, "no partial left behind");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_clear_errors_and_store_nothing() {
    let s = TestServer::start().await;
    let (_, alice) = s.account("alice").await;
    let m = Media { s: &s };
    let image = png(64, 2);
    let sha = sha_of(&image);

    // No token.
    for method in [Method::GET, Method::PUT] {
        let (st, body) = json(m.req(method, &sha, None).body(image.clone()).send().await).await;
        assert_eq!((st, code(&body)), (401, "unauthorized"));
    }
    let resp = m.req(Method::HEAD, &sha, None).send().await.expect("head");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    // Not a sha256.
    for bad in [
        sha.to_uppercase(),
        sha[..63].to_owned(),
        format!("{sha}0"),
        "zz".repeat(32),
    ] {
        let (st, body) = m.put(&bad, &alice, image.clone()).await;
        assert_eq!((st, code(&body)), (400, "invalid_request"), "{bad}");
        let (st, body) = json(m.req(Method::GET, &bad, Some(&alice)).send().await).await;
        assert_eq!((st, code(&body)), (400, "invalid_request"), "{bad}");
    }

    // Bytes that do not hash to the sha in the URL.
    let other = sha_of(b"another file");
    let (st, body) = m.put(&other, &alice, image.clone()).await;
    assert_eq!((st, code(&body)), (400, "hash_mismatch"), "{body}");
    assert_eq!(m.head(&other, &alice).await.0, 404);
    assert_eq!(m.head(&other, &alice).await.1, Some(0), "partial discarded");

    // A text file called .jpg, and bytes that merely start like an image's name.
    let text = b"Dear diary, today I renamed notes.txt to photo.jpg\n".repeat(20);
    let (st, body) = m.put(&sha_of(&text), &alice, text.clone()).await;
    assert_eq!((st, code(&body)), (415, "unsupported_media_type"), "{body}");
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#;
    let (st, body) = m.put(&sha_of(svg), &alice, svg.to_vec()).await;
    assert_eq!((st, code(&body)), (415, "unsupported_media_type"), "{body}");
    assert_eq!(m.head(&sha_of(&text), &alice).await.1, Some(0));

    // Never stored, so not found.
    let (st, body) = json(m.req(Method::GET, &sha, Some(&alice)).send().await).await;
    assert_eq!((st, code(&body)), (404, "not_found"));

    // A bad Upload-Offset.
    let (st, body) = json(
        m.req(Method::PUT, &sha, Some(&alice))
            .header("upload-offset", "minus one")
            .body(image.clone())
            .send()
            .await,
    )
    .await;
    assert_eq!((st, code(&body)), (400, "invalid_request"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_over_the_limit_get_413_by_header_and_while_streaming() {
    let s = TestServer::start_with(&["--max-media-bytes", "4096"]).await;
    let (_, alice) = s.account("alice").await;
    let m = Media { s: &s };
    let big = png(64, 3);
    assert!(big.len() > 4096, "test image is {} bytes", big.len());
    let sha = sha_of(&big);

    let (st, body) = m.put(&sha, &alice, big.clone()).await;
    assert_eq!((st, code(&body)), (413, "too_large"), "{body}");

    // Without Content-Length (chunked): cut off once past the limit.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        big.chunks(1000).map(|c| Ok(c.to_vec())).collect();
    let body = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    let (st, resp) = json(
        m.req(Method::PUT, &sha, Some(&alice))
            .body(body)
            .send()
            .await,
    )
    .await;
    assert_eq!((st, code(&resp)), (413, "too_large"), "{resp}");
    let (st, offset, _) = m.head(&sha, &alice).await;
    assert_eq!((st, offset), (404, Some(0)), "the partial is discarded");

    // A small image still goes through.
    let small = png(8, 4);
    let (st, body) = m.put(&sha_of(&small), &alice, small).await;
    assert_eq!(st, 201, "{body}");
}

/// Sends the request head and the first `send` bytes of a `Content-Length: total` body over
/// a raw socket, then closes it: a connection dropped mid-upload.
async fn put_and_drop(s: &TestServer, sha: &str, token: &str, body: &[u8], send: usize) {
    let mut sock = TcpStream::connect(s.http).await.expect("connect");
    let head = format!(
        "PUT {} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
        path(sha),
        s.http,
        body.len()
    );
    sock.write_all(head.as_bytes()).await.expect("head");
    sock.write_all(&body[..send])
        .await
        .expect("part of the body");
    sock.flush().await.expect("flush");
    sock.shutdown().await.expect("shutdown");
    drop(sock);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_upload_resumes_at_upload_offset() {
    let s = TestServer::start().await;
    let (_, alice) = s.account("alice").await;
    let (_, bob) = s.account("bob").await;
    let m = Media { s: &s };
    let image = png(300, 5);
    let sha = sha_of(&image);
    let sent = image.len() / 3;

    put_and_drop(&s, &sha, &alice, &image, sent).await;
    // The server notices the broken body and keeps what arrived.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (st, offset, _) = m.head(&sha, &alice).await;
        assert_eq!(st, 404);
        if offset == Some(sent as u64) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "Upload-Offset stayed {offset:?}, expected {sent}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Bob has no part of it.
    assert_eq!(m.head(&sha, &bob).await.1, Some(0));

    let resume = |offset: usize| {
        m.req(Method::PUT, &sha, Some(&alice))
            .header("upload-offset", offset.to_string())
            .body(image[offset..].to_vec())
            .send()
    };
    let resp = resume(sent - 1).await.expect("wrong offset");
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    assert_eq!(resp.headers()["upload-offset"], sent.to_string().as_str());
    let (_, body) = json(Ok(resp)).await;
    assert_eq!(code(&body), "offset_mismatch");

    let (st, body) = json(resume(sent).await).await;
    assert_eq!(st, 201, "{body}");
    assert_eq!(body["size"], image.len() as u64);
    let got = m
        .req(Method::GET, &sha, Some(&bob))
        .send()
        .await
        .expect("get")
        .bytes()
        .await
        .expect("bytes");
    assert_eq!(sha_of(&got), sha);
    assert_eq!(got.as_ref(), &image[..]);
    assert_eq!(m.head(&sha, &alice).await.0, 200);
}

/// (width, height) from a PNG's IHDR.
fn png_dimensions(bytes: &[u8]) -> (u32, u32) {
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let be = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
    (be(16), be(20))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_goose_pack_is_listed_and_served_without_a_token() {
    let s = TestServer::start().await;
    let (st, body) = s.get("/api/v1/stickers", None).await;
    assert_eq!(st, 200, "{body}");
    let packs = body["packs"].as_array().expect("packs");
    assert_eq!(packs.len(), 1, "only the built-in pack: {body}");
    let goose = &packs[0];
    assert_eq!(goose["id"], "goose");
    assert!(!goose["name"].as_str().expect("name").is_empty());
    let stickers = goose["stickers"].as_array().expect("stickers");
    assert!(
        (12..=16).contains(&stickers.len()),
        "{} stickers",
        stickers.len()
    );
    for sticker in stickers {
        let id = sticker["id"].as_str().expect("id");
        let url = sticker["url"].as_str().expect("url");
        assert_eq!(url, format!("/api/v1/stickers/goose/{id}.png"));
        assert_eq!(
            (sticker["w"].as_u64(), sticker["h"].as_u64()),
            (Some(160), Some(160))
        );
        let resp = s.http().get(s.url(url)).send().await.expect("get sticker");
        assert_eq!(resp.status(), StatusCode::OK, "{url}");
        let h = resp.headers().clone();
        assert_eq!(h[header::CONTENT_TYPE], "image/png");
        assert_eq!(h[header::CACHE_CONTROL], "public, max-age=604800");
        assert_eq!(h["x-content-type-options"], "nosniff");
        let etag = h[header::ETAG].to_str().expect("etag").to_owned();
        let bytes = resp.bytes().await.expect("png");
        assert_eq!(png_dimensions(&bytes), (160, 160), "{url}");
        assert_eq!(etag, format!("\"{}\"", sha_of(&bytes)));
    }
    let first = stickers[0]["url"].as_str().expect("url");
    let resp = s
        .http()
        .get(s.url(first))
        .header(header::IF_NONE_MATCH, {
            let resp = s.http().get(s.url(first)).send().await.expect("get");
            resp.headers()[header::ETAG].clone()
        })
        .send()
        .await
        .expect("conditional");
    assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_stickers_and_path_tricks_are_404() {
    let s = TestServer::start().await;
    let hello = s
        .http()
        .get(s.url("/api/v1/stickers/goose/hello.png"))
        .send()
        .await
        .expect("get");
    assert_eq!(hello.status(), StatusCode::OK, "the probe sticker exists");
    for path in [
        "/api/v1/stickers/goose/nope.png",
        "/api/v1/stickers/nope/hello.png",
        "/api/v1/stickers/goose/hello",
        "/api/v1/stickers/goose/hello.svg",
        "/api/v1/stickers/goose/pack.json",
        "/api/v1/stickers/goose/..%2F..%2F..%2Fhongyan.db",
        "/api/v1/stickers/%2e%2e/hello.png",
        "/api/v1/stickers/goose/%2e%2e%2fgoose%2fhello.png",
        "/api/v1/stickers/..%2F..%2Fetc/passwd",
    ] {
        let (st, body) = s.get(path, None).await;
        assert_eq!((st, code(&body)), (404, "not_found"), "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_pack_from_stickers_dir_is_served_beside_the_goose() {
    let dir = tempfile::tempdir().expect("tmp");
    let pack = dir.path().join("cats");
    std::fs::create_dir_all(&pack).expect("mkdir");
    std::fs::write(
        pack.join("pack.json"),
        r#"{"name":"Cats 猫","stickers":[{"id":"meow","name":"Meow 喵"}]}"#,
    )
    .expect("pack.json");
    let meow = png(96, 7);
    std::fs::write(pack.join("meow.png"), &meow).expect("png");
    let dir_arg = dir.path().to_str().expect("utf-8 path");
    let s = TestServer::start_with(&["--stickers-dir", dir_arg]).await;

    let (st, body) = s.get("/api/v1/stickers", None).await;
    assert_eq!(st, 200);
    let ids: Vec<&str> = body["packs"]
        .as_array()
        .expect("packs")
        .iter()
        .map(|p| p["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, ["goose", "cats"]);
    let cats = &body["packs"][1];
    assert_eq!(cats["name"], "Cats 猫");
    assert_eq!(cats["stickers"][0]["name"], "Meow 喵");
    assert_eq!(cats["stickers"][0]["w"], 96);
    let url = cats["stickers"][0]["url"].as_str().expect("url");
    let got = s.http().get(s.url(url)).send().await.expect("get");
    assert_eq!(got.bytes().await.expect("bytes").as_ref(), &meow[..]);
    // Files beside the PNGs are not served.
    let (st, _) = s.get("/api/v1/stickers/cats/pack.png", None).await;
    assert_eq!(st, 404);
}

#[test]
fn a_broken_stickers_dir_stops_the_server_with_a_clear_message() {
    let dir = tempfile::tempdir().expect("tmp");
    let pack = dir.path().join("dogs");
    std::fs::create_dir_all(&pack).expect("mkdir");
    std::fs::write(
        pack.join("pack.json"),
        r#"{"name":"Dogs","stickers":[{"id":"woof","name":"Woof"}]}"#,
    )
    .expect("pack.json");
    // woof.png is missing.
    let data = tempfile::tempdir().expect("tmp");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hongyan-server"))
        .args(["--http-addr", "127.0.0.1:0", "--tcp-addr", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(data.path())
        .arg("--stickers-dir")
        .arg(dir.path())
        .output()
        .expect("run the server");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("sticker") && stderr.contains("woof.png"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_survives_a_restart_and_old_partials_are_swept_at_start() {
    let data = tempfile::tempdir().expect("tmp");
    let mut s = TestServer::start_in(data.path(), &[]).await;
    let (alice_id, alice) = s.account("alice").await;
    let image = png(40, 8);
    let sha = sha_of(&image);
    assert_eq!(
        Media { s: &s }.put(&sha, &alice, image.clone()).await.0,
        201
    );
    // Two unfinished uploads of another file: one fresh, one untouched for 25 hours.
    let half = png(80, 9);
    let half_sha = sha_of(&half);
    put_and_drop(&s, &half_sha, &alice, &half, 500).await;
    let m = Media { s: &s };
    let deadline = tokio::time::Instant::now() + WAIT;
    while m.head(&half_sha, &alice).await.1 != Some(500) {
        assert!(tokio::time::Instant::now() < deadline, "partial not kept");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(s.terminate().await.success());
    let partial_dir = data.path().join("media/partial");
    let stale = partial_dir.join(format!("{alice_id}-{}", sha_of(b"stale")));
    std::fs::write(&stale, b"old bytes").expect("write");
    std::fs::File::options()
        .write(true)
        .open(&stale)
        .and_then(|f| f.set_modified(std::time::SystemTime::now() - Duration::from_secs(25 * 3600)))
        .expect("age it");

    let s = TestServer::start_in(data.path(), &[]).await;
    let (_, alice) = s.login("alice").await;
    let m = Media { s: &s };
    assert!(!stale.exists(), "the stale partial is removed at start");
    assert_eq!(
        m.head(&half_sha, &alice).await.1,
        Some(500),
        "a fresh one is kept"
    );
    let got = m
        .req(Method::GET, &sha, Some(&alice))
        .send()
        .await
        .expect("get")
        .bytes()
        .await
        .expect("bytes");
    assert_eq!(got.as_ref(), &image[..]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_takes_over_from_an_upload_whose_connection_hangs() {
    let s = TestServer::start().await;
    let (_, alice) = s.account("alice").await;
    let m = Media { s: &s };
    let image = png(200, 10);
    let sha = sha_of(&image);
    let sent = image.len() / 2;

    // The old connection stays open but sends nothing more (a network that went away
    // without a FIN): the server cannot know it is dead.
    let mut hung = TcpStream::connect(s.http).await.expect("connect");
    let head = format!(
        "PUT {} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {alice}\r\nContent-Length: {}\r\n\r\n",
        path(&sha),
        s.http,
        image.len()
    );
    hung.write_all(head.as_bytes()).await.expect("head");
    hung.write_all(&image[..sent]).await.expect("half the body");
    hung.flush().await.expect("flush");
    let deadline = tokio::time::Instant::now() + WAIT;
    while m.head(&sha, &alice).await.1 != Some(sent as u64) {
        assert!(tokio::time::Instant::now() < deadline, "bytes not on disk");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let (st, body) = json(
        m.req(Method::PUT, &sha, Some(&alice))
            .header("upload-offset", sent.to_string())
            .body(image[sent..].to_vec())
            .send()
            .await,
    )
    .await;
    assert_eq!(st, 201, "{body}");
    let got = m
        .req(Method::GET, &sha, Some(&alice))
        .send()
        .await
        .expect("get")
        .bytes()
        .await
        .expect("bytes");
    assert_eq!(got.as_ref(), &image[..]);

    // The hung upload was told it lost.
    let mut answer = Vec::new();
    tokio::time::timeout(
        WAIT,
        tokio::io::AsyncReadExt::read_to_end(&mut hung, &mut answer),
    )
    .await
    .expect("the old upload is answered and closed")
    .expect("read");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 409"), "{answer}");
    assert!(answer.contains("upload_superseded"), "{answer}");
}
