//! App releases against the real binary (docs/UPDATES.md, "Server: publishing and serving
//! releases"): `hongyan-server admin release publish|list` as a subprocess on really signed
//! bundles, then the updater's two requests, checked the way the app checks them.

mod common;

use std::{
    io::{Cursor, Read, Write},
    net::TcpStream,
    path::{Path, PathBuf},
    process::Output,
};

use base64::Engine as _;
use common::TestServer;
use reqwest::{header, StatusCode};
use serde_json::Value;
use sha2::{Digest, Sha256};

const TARGET: &str = "linux-x86_64-deb";

/// A key pair and signatures in `tauri signer`'s format: the key and each signature as
/// base64 of minisign's text, the trusted comment naming file and version. (Tauri's CLI signs
/// with the same `minisign` crate; a unit test checks a signature made by the CLI itself.)
struct Signer {
    keys: minisign::KeyPair,
}

impl Signer {
    fn new() -> Self {
        Self {
            keys: minisign::KeyPair::generate_unencrypted_keypair().expect("keypair"),
        }
    }

    /// The `updater.key.pub` content (also what the app has built in).
    fn pubkey(&self) -> String {
        b64(&self.keys.pk.to_box().expect("pk box").into_string())
    }

    /// What `tauri signer sign --app-version <version> <file>` writes to `<file>.sig`.
    fn sign(&self, bytes: &[u8], file: &str, version: &str) -> String {
        let comment = format!("timestamp:1795654202\tfile:{file}\tversion:{version}");
        let sig = minisign::sign(
            Some(&self.keys.pk),
            &self.keys.sk,
            Cursor::new(bytes),
            Some(comment.as_str()),
            Some("signature from tauri secret key"),
        )
        .expect("sign");
        b64(&sig.into_string())
    }
}

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// What the app's updater does with a manifest's `signature` and the downloaded bytes.
fn app_accepts(pubkey_b64: &str, signature_b64: &str, bytes: &[u8], version: &str) -> bool {
    let text = |b: &str| {
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(b)
                .expect("base64"),
        )
        .expect("utf-8")
    };
    let key = minisign_verify::PublicKey::decode(&text(pubkey_b64)).expect("public key");
    let sig = minisign_verify::Signature::decode(&text(signature_b64)).expect("signature");
    let signed_version = sig
        .trusted_comment()
        .split('\t')
        .find_map(|f| f.strip_prefix("version:"));
    key.verify(bytes, &sig, false).is_ok() && signed_version == Some(version)
}

/// Deterministic noise (does not compress; big enough to be streamed in many chunks).
fn bundle_bytes(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) ^ seed).wrapping_mul(2_246_822_519) >> 24)
        .map(|v| v as u8)
        .collect()
}

fn sha_of(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A folder of build outputs: bundles and their `.sig` files.
struct Dist {
    dir: tempfile::TempDir,
    signer: Signer,
}

impl Dist {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("tmp"),
            signer: Signer::new(),
        }
    }

    /// Writes `<name>` and `<name>.sig` (signed for `signed_for`) in a folder of their own.
    fn bundle(&self, name: &str, bytes: &[u8], signed_for: &str) -> Bundle {
        let dir = self.dir.path().join(uuid::Uuid::now_v7().to_string());
        std::fs::create_dir_all(&dir).expect("mkdir");
        let path = dir.join(name);
        std::fs::write(&path, bytes).expect("bundle");
        let sig = dir.join(format!("{name}.sig"));
        std::fs::write(&sig, self.signer.sign(bytes, name, signed_for)).expect("sig");
        Bundle {
            path,
            sig,
            bytes: bytes.to_vec(),
        }
    }

    /// Writes a public key file for `signer`.
    fn pubkey_file(&self, signer: &Signer) -> PathBuf {
        let path = self
            .dir
            .path()
            .join(format!("{}.key.pub", uuid::Uuid::now_v7()));
        std::fs::write(&path, signer.pubkey()).expect("pub");
        path
    }
}

struct Bundle {
    path: PathBuf,
    sig: PathBuf,
    bytes: Vec<u8>,
}

/// `hongyan-server admin release …` with these arguments, as an operator runs it (the same
/// binary the harness starts servers from).
fn admin_release(args: &[&str]) -> Output {
    std::process::Command::new(hongyan_tests::server_bin())
        .args(["admin", "release"])
        .args(args)
        .env_remove("HONGYAN_DATA_DIR")
        .env_remove("HONGYAN_RELEASES_DIR")
        // An operator's shell: anyhow adds a backtrace to the error line when these ask.
        .env("RUST_BACKTRACE", "0")
        .env("RUST_LIB_BACKTRACE", "0")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run hongyan-server admin release")
}

fn path_arg(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// `admin release publish` of `bundle` as `version` (plus `extra` flags); the printed JSON.
fn publish(dir_flag: &str, dir: &Path, bundle: &Bundle, version: &str, extra: &[&str]) -> Value {
    let out = publish_output(dir_flag, dir, bundle, version, extra);
    assert!(
        out.status.success(),
        "publish failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("publish prints JSON")
}

fn publish_output(
    dir_flag: &str,
    dir: &Path,
    bundle: &Bundle,
    version: &str,
    extra: &[&str],
) -> Output {
    let mut args = vec![
        "publish",
        "--bundle",
        path_arg(&bundle.path),
        "--signature",
        path_arg(&bundle.sig),
        "--version",
        version,
        dir_flag,
        path_arg(dir),
    ];
    args.extend_from_slice(extra);
    admin_release(&args)
}

/// A refused publish: non-zero exit and one line on stderr containing `message`.
fn assert_refused(out: &Output, message: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{message}: accepted");
    assert!(stderr.contains(message), "{message:?} not in {stderr:?}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr:?}");
    assert!(out.stdout.is_empty(), "nothing on stdout");
}

/// GET `path`: status, headers, body bytes.
async fn get(
    server: &TestServer,
    path: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, header::HeaderMap, Vec<u8>) {
    let mut req = server.http().get(server.url(path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.bytes().await.expect("body").to_vec();
    (status, headers, body)
}

async fn check(server: &TestServer, target: &str, current: &str) -> (StatusCode, Value) {
    let (status, _, body) = get(server, &format!("/api/v1/updates/{target}/{current}"), &[]).await;
    let json = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body).expect("JSON body")
    };
    (status, json)
}

#[tokio::test]
async fn the_newest_release_is_offered_and_downloads_as_signed() {
    let server = TestServer::start().await;
    // No --releases-dir: the default `<data-dir>/releases` is where admin puts them too.
    let data = server.data_dir().to_owned();
    let dist = Dist::new();
    let (status, _) = check(&server, TARGET, "0.1.0").await;
    assert_eq!(status, StatusCode::NO_CONTENT, "nothing published yet");

    let v2 = dist.bundle(
        "Hongyan_0.2.0_amd64.deb",
        &bundle_bytes(300_000, 2),
        "0.2.0",
    );
    let pubkey = dist.pubkey_file(&dist.signer);
    let printed = publish(
        "--data-dir",
        &data,
        &v2,
        "0.2.0",
        &["--notes", "What changed", "--pubkey", path_arg(&pubkey)],
    );
    assert_eq!(printed["target"], TARGET, "inferred from .deb: {printed}");
    assert_eq!(printed["version"], "0.2.0");
    assert_eq!(printed["size"], 300_000);
    assert_eq!(printed["sha256"], sha_of(&v2.bytes));
    assert!(
        data.join("releases/linux-x86_64-deb/0.2.0/release.json")
            .is_file(),
        "the default releases dir"
    );

    // The running server sees it at the next request.
    let (status, manifest) = check(&server, TARGET, "0.1.0").await;
    assert_eq!(status, StatusCode::OK, "{manifest}");
    assert_eq!(manifest["version"], "0.2.0");
    assert_eq!(manifest["notes"], "What changed");
    let pub_date = manifest["pub_date"].as_str().expect("pub_date");
    assert_eq!(
        pub_date,
        printed["pub_date"].as_str().expect("printed date")
    );
    assert!(
        pub_date.len() == 20 && pub_date.ends_with('Z') && pub_date.as_bytes()[10] == b'T',
        "RFC 3339 UTC: {pub_date}"
    );
    let signature = manifest["signature"].as_str().expect("signature");
    assert_eq!(signature, std::fs::read_to_string(&v2.sig).expect("sig"));
    let url = manifest["url"].as_str().expect("url");
    assert_eq!(
        url,
        format!(
            "http://{}/api/v1/updates/linux-x86_64-deb/0.2.0/download",
            server.http
        )
    );

    // Download from the manifest's url, exactly as the app does.
    let resp = server.http().get(url).send().await.expect("download");
    assert_eq!(resp.status(), StatusCode::OK);
    let h = resp.headers().clone();
    assert_eq!(h[header::CONTENT_LENGTH], "300000");
    assert_eq!(h[header::CONTENT_TYPE], "application/octet-stream");
    assert_eq!(
        h[header::CONTENT_DISPOSITION],
        "attachment; filename=\"Hongyan_0.2.0_amd64.deb\""
    );
    let bytes = resp.bytes().await.expect("bytes");
    assert_eq!(sha_of(&bytes), sha_of(&v2.bytes), "the exact bytes");
    assert!(
        app_accepts(&dist.signer.pubkey(), signature, &bytes, "0.2.0"),
        "the signature verifies the download with the app's key"
    );
    assert!(
        !app_accepts(&Signer::new().pubkey(), signature, &bytes, "0.2.0"),
        "and not with another key"
    );

    let head = server.http().head(url).send().await.expect("HEAD");
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(head.headers()[header::CONTENT_LENGTH], "300000");

    // Up to date, ahead, and a newer release published while the server runs.
    assert_eq!(
        check(&server, TARGET, "0.2.0").await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        check(&server, TARGET, "0.3.0").await.0,
        StatusCode::NO_CONTENT
    );
    let v3 = dist.bundle("Hongyan_0.3.0_amd64.deb", b"v3 bytes", "0.3.0");
    publish("--data-dir", &data, &v3, "0.3.0", &[]);
    for current in ["0.1.0", "0.2.0", "0.3.0-beta.1"] {
        let (status, m) = check(&server, TARGET, current).await;
        assert_eq!(status, StatusCode::OK, "{current}: {m}");
        assert_eq!(m["version"], "0.3.0", "the newest for {current}");
        assert_eq!(m["notes"], Value::Null, "no notes given");
    }
    let (_, _, old) = get(
        &server,
        "/api/v1/updates/linux-x86_64-deb/0.2.0/download",
        &[],
    )
    .await;
    assert_eq!(
        sha_of(&old),
        sha_of(&v2.bytes),
        "older releases stay served"
    );
}

#[tokio::test]
async fn bad_requests_get_400_and_unknown_releases_204_or_404() {
    let releases = tempfile::tempdir().expect("tmp");
    let server = TestServer::start_with(&["--releases-dir", path_arg(releases.path())]).await;
    let dist = Dist::new();
    let v2 = dist.bundle("Hongyan_0.2.0_amd64.deb", b"deb", "0.2.0");
    publish("--releases-dir", releases.path(), &v2, "0.2.0", &[]);
    assert_eq!(check(&server, TARGET, "0.1.0").await.0, StatusCode::OK);

    for (path, why) in [
        (
            "/api/v1/updates/linux-x86_64-deb/not-semver",
            "is not semver",
        ),
        ("/api/v1/updates/linux-x86_64-deb/v0.1.0", "is not semver"),
        ("/api/v1/updates/linux-x86_64-deb/0.1", "is not semver"),
        ("/api/v1/updates/Linux-x86_64-deb/0.1.0", "must be 1 to 64"),
        ("/api/v1/updates/linux.deb/0.1.0", "must be 1 to 64"),
    ] {
        let (status, _, body) = get(&server, path, &[]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        let body: Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(body["error"]["code"], "invalid_request", "{path}: {body}");
        let message = body["error"]["message"].as_str().expect("message");
        assert!(message.contains(why), "{path}: {message}");
    }
    assert_eq!(
        check(&server, "linux-x86_64-rpm", "0.1.0").await.0,
        StatusCode::NO_CONTENT,
        "unknown target"
    );
    for path in [
        "/api/v1/updates/linux-x86_64-deb/0.9.0/download",
        "/api/v1/updates/linux-x86_64-rpm/0.2.0/download",
        "/api/v1/updates/linux-x86_64-deb/nope/download",
        "/api/v1/updates/..%2F..%2Fetc/0.2.0/download",
    ] {
        let (status, _, body) = get(&server, path, &[]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        let body: Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(body["error"]["code"], "not_found", "{path}: {body}");
    }
    // No token is needed, and a bad one is not looked at.
    let (status, _, _) = get(
        &server,
        "/api/v1/updates/linux-x86_64-deb/0.1.0",
        &[("authorization", "Bearer nonsense")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn the_download_url_follows_host_and_forwarded_proto() {
    let releases = tempfile::tempdir().expect("tmp");
    let server = TestServer::start_with(&["--releases-dir", path_arg(releases.path())]).await;
    let dist = Dist::new();
    let v2 = dist.bundle("Hongyan_0.2.0_amd64.deb", b"deb", "0.2.0");
    publish("--releases-dir", releases.path(), &v2, "0.2.0", &[]);
    let path = "/api/v1/updates/linux-x86_64-deb/0.1.0";
    let download = "/api/v1/updates/linux-x86_64-deb/0.2.0/download";

    let url_for = |headers: Vec<(&'static str, &'static str)>| {
        let server = &server;
        async move {
            let (status, _, body) = get(server, path, &headers).await;
            assert_eq!(status, StatusCode::OK);
            let m: Value = serde_json::from_slice(&body).expect("json");
            m["url"].as_str().expect("url").to_owned()
        }
    };
    assert_eq!(
        url_for(vec![("host", "chat.example.com")]).await,
        format!("http://chat.example.com{download}")
    );
    assert_eq!(
        url_for(vec![
            ("host", "chat.example.com"),
            ("x-forwarded-proto", "https")
        ])
        .await,
        format!("https://chat.example.com{download}")
    );

    // HTTP/1.0 without a Host header: the server's own address.
    let addr = server.http;
    let raw = tokio::task::spawn_blocking(move || {
        let mut conn = TcpStream::connect(addr).expect("connect");
        write!(conn, "GET {path} HTTP/1.0\r\n\r\n").expect("send");
        let mut answer = String::new();
        conn.read_to_string(&mut answer).expect("read");
        answer
    })
    .await
    .expect("raw request");
    assert!(raw.starts_with("HTTP/1.0 200"), "{raw}");
    let body = raw.split("\r\n\r\n").nth(1).expect("body");
    let m: Value = serde_json::from_str(body).expect("json");
    assert_eq!(m["url"], format!("http://{addr}{download}"));
}

#[tokio::test]
async fn publish_refuses_what_the_app_would_refuse() {
    let releases = tempfile::tempdir().expect("tmp");
    let dir = releases.path();
    let dist = Dist::new();
    let bytes = bundle_bytes(10_000, 7);
    let good = dist.bundle("Hongyan_0.2.0_amd64.deb", &bytes, "0.2.0");

    // A .sig that is not a minisign signature.
    let garbage = dist.bundle("Hongyan_0.2.0_amd64.deb", &bytes, "0.2.0");
    std::fs::write(&garbage.sig, "bm90IGEgc2lnbmF0dXJl").expect("write");
    assert_refused(
        &publish_output("--releases-dir", dir, &garbage, "0.2.0", &[]),
        "is not a minisign signature",
    );
    // Signed by another key than the one given.
    let stranger = dist.pubkey_file(&Signer::new());
    assert_refused(
        &publish_output(
            "--releases-dir",
            dir,
            &good,
            "0.2.0",
            &["--pubkey", path_arg(&stranger)],
        ),
        "the signature was not made with the key",
    );
    // The right key, other bytes.
    let tampered = dist.bundle("Hongyan_0.2.0_amd64.deb", &bytes, "0.2.0");
    std::fs::write(&tampered.path, bundle_bytes(10_000, 8)).expect("tamper");
    let own = dist.pubkey_file(&dist.signer);
    assert_refused(
        &publish_output(
            "--releases-dir",
            dir,
            &tampered,
            "0.2.0",
            &["--pubkey", path_arg(&own)],
        ),
        "the signature does not verify the bundle",
    );
    // Signed for 0.2.0, published as 0.2.1.
    assert_refused(
        &publish_output("--releases-dir", dir, &good, "0.2.1", &[]),
        "the signature was made for version 0.2.0, not 0.2.1",
    );
    assert_refused(
        &publish_output("--releases-dir", dir, &good, "latest", &[]),
        "version `latest` is not semver",
    );
    assert_refused(
        &publish_output(
            "--releases-dir",
            dir,
            &good,
            "0.2.0",
            &["--target", "linux/deb"],
        ),
        "target `linux/deb` must be",
    );
    let exe = dist.bundle("Hongyan_0.2.0_x64-setup.exe", &bytes, "0.2.0");
    assert_refused(
        &publish_output("--releases-dir", dir, &exe, "0.2.0", &[]),
        "pass --target",
    );
    let empty = dist.bundle("Hongyan_0.2.0_amd64.deb", b"", "0.2.0");
    assert_refused(
        &publish_output("--releases-dir", dir, &empty, "0.2.0", &[]),
        "is empty",
    );
    assert!(
        admin_release(&["list", "--releases-dir", path_arg(dir)]).stdout == b"[]\n",
        "nothing was published by the refusals"
    );

    // Accepted once, refused the second time.
    publish(
        "--releases-dir",
        dir,
        &good,
        "0.2.0",
        &["--pubkey", path_arg(&own)],
    );
    let again = dist.bundle("Hongyan_0.2.0_amd64.deb", b"rebuilt", "0.2.0");
    assert_refused(
        &publish_output("--releases-dir", dir, &again, "0.2.0", &[]),
        "linux-x86_64-deb 0.2.0 is already published",
    );
    let kept =
        std::fs::read(dir.join("linux-x86_64-deb/0.2.0/Hongyan_0.2.0_amd64.deb")).expect("kept");
    assert_eq!(sha_of(&kept), sha_of(&bytes), "the first copy stays");
}

#[tokio::test]
async fn list_shows_every_release_and_nodes_share_the_dir() {
    let releases = tempfile::tempdir().expect("tmp");
    let dir = releases.path();
    let dist = Dist::new();
    let deb = dist.bundle("Hongyan_0.2.0_amd64.deb", b"deb 0.2.0", "0.2.0");
    let appimage = dist.bundle("Hongyan_0.2.0_amd64.AppImage", b"appimage", "0.2.0");
    let beta = dist.bundle("Hongyan_0.3.0-beta.1_amd64.deb", b"beta", "0.3.0-beta.1");
    publish("--releases-dir", dir, &deb, "0.2.0", &[]);
    publish("--releases-dir", dir, &appimage, "0.2.0", &[]);
    publish("--releases-dir", dir, &beta, "0.3.0-beta.1", &[]);

    let out = admin_release(&["list", "--releases-dir", path_arg(dir)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed: Value = serde_json::from_slice(&out.stdout).expect("list prints JSON");
    let rows: Vec<(String, String, u64)> = listed
        .as_array()
        .expect("array")
        .iter()
        .map(|r| {
            assert!(r["pub_date"].is_string(), "{r}");
            (
                r["target"].as_str().expect("target").to_owned(),
                r["version"].as_str().expect("version").to_owned(),
                r["size"].as_u64().expect("size"),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("linux-x86_64-appimage".into(), "0.2.0".into(), 8),
            ("linux-x86_64-deb".into(), "0.2.0".into(), 9),
            ("linux-x86_64-deb".into(), "0.3.0-beta.1".into(), 4),
        ]
    );

    // Two nodes with their own data dirs and one releases dir offer the same releases.
    let a = TestServer::start_with(&["--releases-dir", path_arg(dir)]).await;
    let b = TestServer::start_with(&["--releases-dir", path_arg(dir)]).await;
    for node in [&a, &b] {
        let (status, m) = check(node, TARGET, "0.2.0").await;
        assert_eq!(status, StatusCode::OK, "{m}");
        assert_eq!(
            m["version"], "0.3.0-beta.1",
            "a pre-release is newer than 0.2.0"
        );
        assert_eq!(
            check(node, TARGET, "0.3.0-beta.1").await.0,
            StatusCode::NO_CONTENT
        );
        let (status, m) = check(node, "linux-x86_64-appimage", "0.1.0").await;
        assert_eq!(
            (status, m["version"].as_str()),
            (StatusCode::OK, Some("0.2.0"))
        );
    }
}
