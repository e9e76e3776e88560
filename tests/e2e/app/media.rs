//! Images and stickers (issue 7) in the real app against the real server: an SDK friend's
//! image and sticker are shown (loaded through the app's `hymedia` scheme from the SDK's
//! cache: `naturalWidth > 0`), the image opens full size in the viewer, and an image sent from
//! the app's file input reaches the SDK user as typeu 2 whose file downloads intact.

use std::time::{Duration, Instant};

use base64::Engine as _;
use hongyan_sdk::kinds;
use hongyan_sdk::media::{sample, ImageQuality};
use hongyan_sdk::model::ImageContent;
use hongyan_sdk::Event;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::harness::*;

/// The app's user.
const ME: &str = "alice";

const THUMB: &str = "[data-testid=image-thumb]";
const STICKER: &str = "[data-testid=sticker-message]";
const ATTACH_INPUT: &str = "[data-testid=attach-input]";
const PREVIEW: &str = "[data-testid=image-preview]";
const IMAGE_SIZES: &str = "[data-testid=image-sizes]";
const IMAGE_SEND: &str = "[data-testid=image-send]";
const VIEWER: &str = "[data-testid=image-viewer]";
const VIEWER_IMG: &str = "[data-testid=viewer-img]";

/// Waits until the `<img>` matching `css` has loaded; returns its natural size. Fails (with
/// what is shown instead) when it does not load: "image unavailable", or nothing.
async fn loaded_size(d: &Driver, css: &str) -> (u64, u64) {
    let sel = serde_json::to_string(css).expect("selector");
    let script = format!(
        "const i = document.querySelector({sel});
         return i && i.complete && i.naturalWidth > 0 ? [i.naturalWidth, i.naturalHeight] : null;"
    );
    let start = Instant::now();
    loop {
        if let Value::Array(v) = d.script(&script).await {
            return (v[0].as_u64().unwrap_or(0), v[1].as_u64().unwrap_or(0));
        }
        if start.elapsed() > WAIT {
            let unavailable = d.find_all("[data-testid=image-unavailable]").await.len();
            let src = d
                .script(&format!(
                    "const i = document.querySelector({sel}); return i && i.src;"
                ))
                .await;
            panic!("{css} did not load within {WAIT:?} (src {src}; 'image unavailable' shown {unavailable} times)");
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

/// The on-screen size of the element matching `css` (CSS pixels).
async fn box_size(d: &Driver, css: &str) -> (f64, f64) {
    let sel = serde_json::to_string(css).expect("selector");
    let v = d
        .script(&format!(
            "const r = document.querySelector({sel}).getBoundingClientRect(); return [r.width, r.height];"
        ))
        .await;
    (v[0].as_f64().unwrap_or(0.0), v[1].as_f64().unwrap_or(0.0))
}

/// A byte count as the preview shows it (ui/src/lib/media.ts `formatBytes`, 1 KB = 1024).
fn shown_size(n: usize) -> String {
    let kb = n as f64 / 1024.0;
    if kb < 10.0 {
        format!("{} KB", (kb * 10.0).round() / 10.0)
    } else if kb < 1024.0 {
        format!("{} KB", kb.round())
    } else {
        format!("{} MB", (kb / 1024.0 * 10.0).round() / 10.0)
    }
}

/// Hands a file to the app's attach input: WebDriver "send keys" with the file's path (what
/// the spec defines for `<input type=file>`). When the driver does not support that, the
/// same bytes are pasted into the composer through a paste event built in the page (the
/// UI's paste path; both end in `prepare_image` with the file's bytes).
async fn attach_file(d: &Driver, path: &std::path::Path, bytes: &[u8]) -> &'static str {
    let input = d.wait_for(ATTACH_INPUT).await;
    d.post(
        &format!("/element/{input}/value"),
        json!({ "text": path.display().to_string() }),
    )
    .await;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(8) {
        if !d.find_all(PREVIEW).await.is_empty() {
            return "file input";
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
    d.post(
        "/execute/sync",
        json!({"script": "const b = atob(arguments[0]); const u = new Uint8Array(b.length);
            for (let i = 0; i < b.length; i++) u[i] = b.charCodeAt(i);
            const dt = new DataTransfer();
            dt.items.add(new File([u], 'photo.jpg', { type: 'image/jpeg' }));
            document.querySelector('[data-testid=composer-input]').dispatchEvent(
              new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
            return true;",
            "args": [b64]}),
    )
    .await;
    d.wait_for(PREVIEW).await;
    "paste event"
}

/// Bob (SDK) sends Alice an image and a sticker: both render in the app, the image opens in
/// the viewer at full size; Alice sends a photo from the file input: Bob receives typeu 2,
/// and its image downloads with the announced hash, size and dimensions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb, tauri-driver and the built UI: run by scripts/test-app.sh"]
async fn app_media_images_and_stickers_both_ways() {
    let env = AppEnv::start(None).await;
    let d = env.session().await;
    register_and_sign_in(&d, ME, "Alice").await;
    let mut bob = env.test_client("bob").await;
    let alice_id = env.befriend_app_user(ME, &bob).await;

    // --- Bob → Alice: a 1600×1200 photo (sent as 1280×960 with a 320×240 thumbnail), a sticker.
    let photo = sample::jpeg(&sample::photo(1600, 1200, 11), 90, None);
    let prepared = bob
        .client
        .prepare_image(photo, ImageQuality::Standard)
        .await
        .expect("bob prepares an image");
    assert_eq!((prepared.width, prepared.height), (1280, 960));
    let image = bob
        .client
        .send_image(&alice_id, &prepared)
        .await
        .expect("bob sends the image");
    let packs = bob.client.sticker_packs().await.expect("sticker packs");
    let pack = packs
        .iter()
        .find(|p| !p.stickers.is_empty())
        .expect("the server has a sticker pack");
    let sticker = &pack.stickers[0];
    let sticker_msg = bob
        .client
        .send_sticker(&alice_id, &pack.id, &sticker.id)
        .await
        .expect("bob sends a sticker");

    d.click(&conversation(&bob.user_id)).await;
    let thumb_img = format!("{} {THUMB} img", message(&image.id));
    assert_eq!(
        loaded_size(&d, &thumb_img).await,
        (320, 240),
        "the thumbnail came through hymedia"
    );
    // The box has the image's aspect ratio (4:3, at most 280 wide).
    let (w, h) = box_size(&d, &format!("{} {THUMB}", message(&image.id))).await;
    assert!(
        (w - 280.0).abs() < 1.0 && (h - 210.0).abs() < 1.0,
        "thumbnail box {w}×{h}"
    );
    let sticker_img = format!("{} {STICKER} img", message(&sticker_msg.id));
    let (sw, sh) = loaded_size(&d, &sticker_img).await;
    assert_eq!((sw, sh), (u64::from(sticker.w), u64::from(sticker.h)));
    d.screenshot("media-received").await;

    // An image nobody has: the scheme answers 404 and the <img> fails (where the UI shows
    // "image unavailable"), while the cached ones above loaded.
    d.script(
        "window.__missing = 'loading'; const i = new Image();
         i.onload = () => { window.__missing = 'loaded'; };
         i.onerror = () => { window.__missing = 'error'; };
         i.src = 'hymedia://localhost/media/' + '0'.repeat(64); return true;",
    )
    .await;
    let start = Instant::now();
    let missing = loop {
        let v = d.script("return window.__missing;").await;
        if v != "loading" {
            break v;
        }
        assert!(
            start.elapsed() < WAIT,
            "the unknown image neither loaded nor failed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(missing, "error", "an unknown image must not load");

    // The viewer loads the image itself (not the thumbnail).
    d.click(&format!("{} {THUMB}", message(&image.id))).await;
    d.wait_for(VIEWER).await;
    assert_eq!(loaded_size(&d, VIEWER_IMG).await, (1280, 960));
    d.press_escape().await;
    d.wait_gone(VIEWER).await;

    // --- Alice → Bob: a 2400×1600 JPEG picked in the file input, previewed, sent.
    let file_bytes = sample::jpeg(&sample::photo(2400, 1600, 5), 92, None);
    let file = env.tmp.path().join("IMG_0001.jpg");
    std::fs::write(&file, &file_bytes).expect("write the photo");
    let how = attach_file(&d, &file, &file_bytes).await;
    println!("app media: the photo went in through the {how}");
    let sizes = d.wait_for_text(IMAGE_SIZES, "→").await;
    let sizes = d.text(&sizes).await;
    // The file's size as the preview writes it, then what will be sent (smaller, in KB).
    assert!(
        sizes.starts_with(&format!("{} → ", shown_size(file_bytes.len())))
            && sizes.ends_with(" KB"),
        "preview sizes {sizes:?} for a {} byte file",
        file_bytes.len()
    );
    d.wait_for_text("[data-testid=image-dims]", "1280 × 853")
        .await;
    d.click(IMAGE_SEND).await;
    d.wait_gone(PREVIEW).await;

    let got = bob
        .wait_for(|e| match e {
            Event::MessageReceived(m) if m.typeu == kinds::IMAGE && m.from == alice_id => {
                Some(m.clone())
            }
            _ => None,
        })
        .await;
    let content: ImageContent = serde_json::from_str(&got.content).expect("typeu 2 content");
    assert_eq!((content.w, content.h), (1280, 853));
    assert_eq!(content.mime, "image/jpeg");
    let file = bob
        .client
        .media_path(&content.sha256)
        .await
        .expect("bob downloads the image");
    let bytes = std::fs::read(&file).expect("read the downloaded image");
    assert_eq!(bytes.len() as u64, content.size);
    assert_eq!(format!("{:x}", Sha256::digest(&bytes)), content.sha256);
    assert!(
        bytes.len() < file_bytes.len() / 2,
        "compressed: {} of {} bytes",
        bytes.len(),
        file_bytes.len()
    );
    let thumb = bob
        .client
        .media_path(&content.thumb.sha256)
        .await
        .expect("bob downloads the thumbnail");
    assert!(std::fs::metadata(thumb).expect("thumb").len() > 0);

    // In the app the message is sent (the server acknowledged it) and shows its thumbnail.
    let own = message(&got.id);
    let start = Instant::now();
    loop {
        let status = d
            .find_all(&format!("{own} [data-status]"))
            .await
            .first()
            .cloned();
        let status = match status {
            Some(e) => d.attribute(&e, "data-status").await,
            None => None,
        };
        if matches!(status.as_deref(), Some("sent" | "delivered" | "read")) {
            break;
        }
        assert!(
            start.elapsed() < WAIT,
            "the app's image never left 'sending' (status {status:?})"
        );
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    let (tw, th) = loaded_size(&d, &format!("{own} {THUMB} img")).await;
    assert!(
        tw == 320 && (213..=214).contains(&th),
        "own thumbnail {tw}×{th}"
    );
    d.screenshot("media").await;
    d.quit().await;
    bob.client.shutdown().await;
}
