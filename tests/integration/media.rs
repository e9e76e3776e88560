//! Images and stickers through the real server (docs/MEDIA.md): a 12 MP phone photo arrives
//! small and without its EXIF/GPS, a repeated image uploads nothing, an upload survives a
//! dropped connection, a dead server and an app restart without losing the message,
//! stickers arrive as stickers (and as text for an old core), and a file over the server's
//! limit fails clearly. Alice's HTTP goes through a [`FaultProxy`] that counts and breaks
//! it; her long connection goes straight to the server over TCP.

use hongyan_protocol::kinds;
use hongyan_sdk::media::cache::sha256_hex;
use hongyan_sdk::media::{sample, ImageQuality};
use hongyan_sdk::model::{PreparedImage, StickerContent};
use hongyan_sdk::{ConnectionState, Error, Event, Message, MessageStatus};
use hongyan_tests::{acked, wait_until, FaultProxy, TestClient, TestServer, Trip, Via};

/// A phone photo: `width`×`height` JPEG at q90 whose EXIF names the camera and holds a GPS
/// position.
fn phone_photo(width: u32, height: u32, seed: u64) -> Vec<u8> {
    let exif = sample::exif(1, true);
    sample::jpeg(&sample::photo(width, height, seed), 90, Some(&exif))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Bytes an image message needs on the server (the thumbnail and the image).
fn upload_size(p: &PreparedImage) -> u64 {
    if p.thumb.sha256 == p.sha256 {
        p.size
    } else {
        p.size + p.thumb.size
    }
}

/// Alice (HTTP through a proxy, TCP long connection) and Bob, friends, on one server.
struct Setup {
    server: TestServer,
    proxy: FaultProxy,
    alice: TestClient,
    bob: TestClient,
}

async fn setup(server_args: &[&str]) -> Setup {
    let server = TestServer::start_with(server_args).await;
    let proxy = FaultProxy::start(server.http_addr()).await;
    let tcp = server.tcp_addr().to_string();
    let alice = TestClient::register_at(&proxy.url(), &tcp, "alice", Via::Tcp).await;
    let bob = TestClient::register(&server, "bob", Via::Ws).await;
    alice.befriend(&bob).await;
    Setup {
        server,
        proxy,
        alice,
        bob,
    }
}

async fn received(client: &mut TestClient, id: &str) -> Message {
    if let Some(m) = client.client.message(id).await.expect("read") {
        return m;
    }
    let id = id.to_owned();
    client
        .wait_for(move |e| match e {
            Event::MessageReceived(m) if m.id == id => Some(m.clone()),
            _ => None,
        })
        .await
}

/// Checks that `client` can open the image of `m` and that it is exactly what was sent:
/// hash, size, pixel size; and that the thumbnail is a ≤ 320 px still. Returns the bytes.
async fn open_image(client: &TestClient, m: &Message, sent: &PreparedImage) -> Vec<u8> {
    let content = m.image().expect("an image content");
    assert_eq!(content, sent.content(), "the content arrives as sent");
    let path = client
        .client
        .media_path(&content.sha256)
        .await
        .expect("media_path");
    let bytes = std::fs::read(&path).expect("read the cached image");
    assert_eq!(
        sha256_hex(&bytes),
        content.sha256,
        "the bytes match their hash"
    );
    assert_eq!(bytes.len() as u64, content.size);
    let decoded = image::load_from_memory(&bytes).expect("the image decodes");
    assert_eq!((decoded.width(), decoded.height()), (content.w, content.h));
    let thumb_path = client
        .client
        .media_path(&content.thumb.sha256)
        .await
        .expect("thumbnail path");
    let thumb = std::fs::read(&thumb_path).expect("read the thumbnail");
    let thumb = image::load_from_memory(&thumb).expect("the thumbnail decodes");
    assert_eq!(
        (thumb.width(), thumb.height()),
        (content.thumb.w, content.thumb.h)
    );
    assert!(thumb.width().max(thumb.height()) <= 320);
    bytes
}

fn upload_failed(status: &MessageStatus) -> bool {
    matches!(status, MessageStatus::Failed { code: 0, reason } if reason.starts_with("upload failed: "))
}

#[tokio::test]
async fn a_12_mp_photo_arrives_small_without_gps_and_a_repeat_uploads_nothing() {
    let Setup {
        server: _server,
        proxy,
        mut alice,
        mut bob,
    } = setup(&[]).await;
    let photo = phone_photo(4000, 3000, 1);
    assert!(contains(&photo, sample::CAMERA_MAKE.as_bytes()) && contains(&photo, b"Exif\0\0"));

    let prepared = alice
        .client
        .prepare_image(photo.clone(), ImageQuality::Standard)
        .await
        .expect("prepare");
    assert_eq!((prepared.width, prepared.height), (1280, 960));
    assert_eq!(prepared.original_size, photo.len() as u64);
    assert!(prepared.size * 4 < prepared.original_size, "{prepared:?}");

    let before = proxy.bytes_up();
    let sent = alice
        .client
        .send_image(&bob.user_id, &prepared)
        .await
        .expect("send_image");
    assert_eq!(sent.status, MessageStatus::Sending);
    assert_eq!(sent.typeu, kinds::IMAGE);
    let at_bob = received(&mut bob, &sent.id).await;
    assert_eq!(at_bob.typeu, kinds::IMAGE);
    let content = at_bob.image().expect("image");
    assert!(content.w <= 1280 && content.h <= 1280);
    alice.wait_status(&sent.id, acked).await;
    let id = sent.id.clone();
    let total = upload_size(&prepared);
    let announced = alice
        .wait_for(move |e| match e {
            Event::UploadProgress {
                message_id,
                sent,
                total,
                ..
            } if *message_id == id && sent == total => Some(*total),
            _ => None,
        })
        .await;
    assert_eq!(announced, total, "progress ends at the files' size");
    let first = proxy.bytes_up() - before;
    assert!(first >= total, "the upload went through the proxy: {first}");

    let bytes = open_image(&bob, &at_bob, &prepared).await;
    assert!(!contains(&bytes, b"Exif\0\0"), "no EXIF reaches bob");
    assert!(!contains(&bytes, sample::CAMERA_MAKE.as_bytes()));
    let conv = bob.client.conversations().await.expect("conversations");
    assert!(conv
        .iter()
        .any(|c| c.id == alice.user_id && c.last_text.as_deref() == Some("[Image]")));

    // The same picture again: HEAD finds both files, nothing is uploaded (秒传).
    let before = proxy.bytes_up();
    let again = alice
        .client
        .send_image(&bob.user_id, &prepared)
        .await
        .expect("send again");
    let second = received(&mut bob, &again.id).await;
    assert_eq!(second.image(), Some(prepared.content()));
    alice.wait_status(&again.id, acked).await;
    let moved = proxy.bytes_up() - before;
    assert!(
        moved < 8 * 1024 && moved * 20 < prepared.size,
        "the repeat moved {moved} bytes for a {}-byte image",
        prepared.size
    );
}

#[tokio::test]
async fn the_same_image_in_two_messages_at_once_uploads_once_and_both_arrive() {
    let Setup {
        server: _server,
        proxy,
        mut alice,
        mut bob,
    } = setup(&[]).await;
    let prepared = alice
        .client
        .prepare_image(phone_photo(2400, 1800, 6), ImageQuality::Original)
        .await
        .expect("prepare");
    let total = upload_size(&prepared);
    let before = proxy.bytes_up();
    let (first, second) = tokio::join!(
        alice.client.send_image(&bob.user_id, &prepared),
        alice.client.send_image(&bob.user_id, &prepared)
    );
    let (first, second) = (first.expect("first"), second.expect("second"));
    for m in [&first, &second] {
        let at_bob = received(&mut bob, &m.id).await;
        alice.wait_status(&m.id, acked).await;
        open_image(&bob, &at_bob, &prepared).await;
    }
    let moved = proxy.bytes_up() - before;
    assert!(
        moved < total * 3 / 2,
        "uploaded once: {moved} bytes for {total}"
    );
}

#[tokio::test]
async fn an_upload_resumes_after_a_dropped_connection() {
    let Setup {
        server: _server,
        proxy,
        mut alice,
        mut bob,
    } = setup(&[]).await;
    let photo = phone_photo(2400, 1800, 2);
    let prepared = alice
        .client
        .prepare_image(photo, ImageQuality::Original)
        .await
        .expect("prepare");
    let total = upload_size(&prepared);
    assert!(prepared.size > 500_000, "a big upload: {}", prepared.size);

    // The connection breaks half-way through the image.
    proxy.trip_after(prepared.thumb.size + prepared.size / 2, Trip::Cut);
    let before = proxy.bytes_up();
    let sent = alice
        .client
        .send_image(&bob.user_id, &prepared)
        .await
        .expect("send");
    let at_bob = received(&mut bob, &sent.id).await;
    alice.wait_status(&sent.id, acked).await;
    assert_eq!(proxy.trips(), 1, "the connection was cut");
    let moved = proxy.bytes_up() - before;
    assert!(
        moved < total * 3 / 2,
        "resumed, not restarted: {moved} bytes for {total}"
    );
    open_image(&bob, &at_bob, &prepared).await;
}

#[tokio::test]
async fn an_upload_cut_by_a_dead_server_fails_and_a_retry_delivers_it() {
    let Setup {
        mut server,
        proxy,
        mut alice,
        mut bob,
    } = setup(&[]).await;
    let prepared = alice
        .client
        .prepare_image(phone_photo(2400, 1800, 3), ImageQuality::Original)
        .await
        .expect("prepare");
    proxy.trip_after(prepared.thumb.size + prepared.size / 2, Trip::Stall);
    let sent = alice
        .client
        .send_image(&bob.user_id, &prepared)
        .await
        .expect("send");
    proxy.wait_trips(1).await;
    server.kill().await;

    alice.wait_status(&sent.id, upload_failed).await;
    let kept = alice
        .client
        .message(&sent.id)
        .await
        .expect("q")
        .expect("kept");
    assert_eq!(kept.image(), Some(prepared.content()), "failed, not lost");

    server.restart().await;
    wait_until("alice is connected again", || async {
        alice.client.connection_state() == ConnectionState::Connected
    })
    .await;
    let retried = alice.client.retry(&sent.id).await.expect("retry");
    assert_eq!(retried.status, MessageStatus::Sending);
    let at_bob = received(&mut bob, &sent.id).await;
    alice.wait_status(&sent.id, acked).await;
    open_image(&bob, &at_bob, &prepared).await;
    let copies = bob
        .conversation(&alice.user_id)
        .await
        .iter()
        .filter(|m| m.id == sent.id)
        .count();
    assert_eq!(copies, 1);
}

#[tokio::test]
async fn a_pending_upload_resumes_after_the_app_restarts() {
    let Setup {
        server: _server,
        proxy,
        alice,
        mut bob,
    } = setup(&[]).await;
    let prepared = alice
        .client
        .prepare_image(phone_photo(2400, 1800, 4), ImageQuality::Original)
        .await
        .expect("prepare");
    let total = upload_size(&prepared);
    proxy.trip_after(prepared.thumb.size + prepared.size / 2, Trip::Stall);
    let before = proxy.bytes_up();
    let sent = alice
        .client
        .send_image(&bob.user_id, &prepared)
        .await
        .expect("send");
    proxy.wait_trips(1).await;

    // The app quits mid-upload; the stalled connection dies with it.
    let mut alice = alice.restart_after(async { proxy.cut_all() }).await;
    let at_bob = received(&mut bob, &sent.id).await;
    alice.wait_status(&sent.id, acked).await;
    open_image(&bob, &at_bob, &prepared).await;
    let moved = proxy.bytes_up() - before;
    assert!(
        moved < total * 3 / 2,
        "resumed where it stopped: {moved} bytes for {total}"
    );
}

#[tokio::test]
async fn stickers_arrive_as_stickers_and_an_old_core_gets_the_text_fallback() {
    let server = TestServer::start().await;
    let alice = TestClient::register(&server, "alice", Via::Ws).await;
    let mut bob = TestClient::register(&server, "bob", Via::Tcp).await;
    let mut carol = TestClient::register_with_core_level(
        &server,
        "carol",
        Via::Ws,
        kinds::STICKER_CORE_LEVEL - 1,
    )
    .await;
    alice.befriend(&bob).await;
    alice.befriend(&carol).await;

    let packs = alice.client.sticker_packs().await.expect("packs");
    let goose = packs
        .iter()
        .find(|p| p.id == "goose")
        .expect("the default pack");
    let sticker = goose.stickers.first().expect("a sticker").clone();

    let sent = alice
        .client
        .send_sticker(&bob.user_id, "goose", &sticker.id)
        .await
        .expect("send_sticker");
    let at_bob = received(&mut bob, &sent.id).await;
    assert_eq!(at_bob.typeu, kinds::STICKER);
    let content = at_bob.sticker().expect("a sticker content");
    assert_eq!(
        content,
        StickerContent {
            pack: "goose".into(),
            id: sticker.id.clone(),
            url: format!("/api/v1/stickers/goose/{}.png", sticker.id),
            w: sticker.w,
            h: sticker.h,
        }
    );
    let path = bob
        .client
        .sticker_path(&content.pack, &content.id)
        .await
        .expect("sticker_path");
    let png = std::fs::read(&path).expect("read");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    let decoded = image::load_from_memory(&png).expect("decodes");
    assert_eq!((decoded.width(), decoded.height()), (sticker.w, sticker.h));

    let to_carol = alice
        .client
        .send_sticker(&carol.user_id, "goose", &sticker.id)
        .await
        .expect("send to carol");
    let at_carol = received(&mut carol, &to_carol.id).await;
    assert_eq!(
        (at_carol.typeu, at_carol.content.as_str()),
        (kinds::TEXT, kinds::text_fallback(kinds::STICKER))
    );
    assert!(at_carol.content.starts_with("[Sticker]"));

    let no_png = bob.client.sticker_path("goose", "no-such-sticker").await;
    assert!(
        matches!(no_png, Err(Error::MediaUnavailable(_))),
        "{no_png:?}"
    );
    let unknown = alice
        .client
        .send_sticker(&bob.user_id, "goose", "no-such-sticker")
        .await;
    assert!(
        matches!(unknown, Err(Error::InvalidRequest(_))),
        "{unknown:?}"
    );
}

#[tokio::test]
async fn an_image_over_the_server_limit_fails_clearly_and_is_kept() {
    let Setup {
        server: _server,
        proxy: _proxy,
        mut alice,
        bob,
    } = setup(&["--max-media-bytes", "100000"]).await;
    let prepared = alice
        .client
        .prepare_image(phone_photo(1600, 1200, 5), ImageQuality::Original)
        .await
        .expect("prepare");
    assert!(prepared.size > 100_000);
    let sent = alice
        .client
        .send_image(&bob.user_id, &prepared)
        .await
        .expect("send");
    alice.wait_status(&sent.id, upload_failed).await;
    let kept = alice
        .client
        .message(&sent.id)
        .await
        .expect("q")
        .expect("kept");
    match kept.status {
        MessageStatus::Failed { reason, .. } => assert!(reason.contains("too large"), "{reason}"),
        other => panic!("{other:?}"),
    }
    let history = alice.conversation(&bob.user_id).await;
    assert!(history.iter().any(|m| m.id == sent.id), "still in the chat");

    // The server never got the image: a viewer is told it is unavailable.
    let missing = bob.client.media_path(&prepared.sha256).await;
    assert!(
        matches!(&missing, Err(Error::MediaUnavailable(sha)) if *sha == prepared.sha256),
        "{missing:?}"
    );

    // A prepared image that does not match the cache (changed on its way through the app)
    // is refused before anything is stored.
    let mut forged = prepared.clone();
    forged.size += 1;
    let mut unknown = prepared.clone();
    unknown.sha256 = "0".repeat(64);
    for bad in [forged, unknown] {
        let r = alice.client.send_image(&bob.user_id, &bad).await;
        assert!(matches!(r, Err(Error::InvalidRequest(_))), "{r:?}");
    }
    assert_eq!(alice.conversation(&bob.user_id).await.len(), history.len());

    // Bytes that are no image never get that far.
    let not_image = alice
        .client
        .prepare_image(
            b"just some text, not a picture".to_vec(),
            ImageQuality::Standard,
        )
        .await;
    assert!(matches!(not_image, Err(Error::Media(_))), "{not_image:?}");
}
