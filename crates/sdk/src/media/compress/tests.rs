use std::time::{Duration, Instant};

use image::metadata::Orientation;
use image::{DynamicImage, GenericImageView, ImageDecoder, ImageReader, Rgb, RgbImage};
use img_parts::{Bytes, ImageEXIF};

use super::*;
use crate::media::sample;

fn compress_default(input: &[u8]) -> Compressed {
    compress(input, &CompressOptions::default()).expect("compresses")
}

fn decode(bytes: &[u8]) -> DynamicImage {
    image::load_from_memory(bytes).expect("output decodes")
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The EXIF block a decoder finds in `bytes` (JPEG, PNG, WebP), if any.
fn exif_of(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut decoder = ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .expect("readable")
        .into_decoder()
        .expect("decoder");
    decoder.exif_metadata().expect("metadata readable")
}

/// No trace of the sample camera's EXIF, GPS or XMP in a file the pipeline produced.
/// The only EXIF allowed is the minimal orientation block of a picture sent unturned.
fn assert_no_metadata(bytes: &[u8], what: &str) {
    let orientation_only = image::guess_format(bytes)
        .ok()
        .filter(|f| *f != image::ImageFormat::Gif)
        .and_then(|_| exif_of(bytes))
        .map(|exif| {
            let orientation = Orientation::from_exif_chunk(&exif).expect("orientation");
            assert_eq!(
                exif,
                metadata::orientation_exif(orientation),
                "{what}: EXIF"
            );
        })
        .is_some();
    if !orientation_only {
        assert!(!contains(bytes, b"Exif\0\0"), "{what}: EXIF APP1 left");
    }
    assert!(
        !contains(bytes, sample::CAMERA_MAKE.as_bytes()),
        "{what}: camera make left"
    );
    assert!(!contains(bytes, b"XMP"), "{what}: XMP left");
    let lat: Vec<u8> = sample::GPS_LATITUDE[..2]
        .iter()
        .flat_map(|v| [v.to_be_bytes(), 1u32.to_be_bytes()].concat())
        .collect();
    assert!(!contains(bytes, &lat), "{what}: GPS latitude left");
    match image::guess_format(bytes).expect("known format") {
        image::ImageFormat::Jpeg => {
            let jpeg = img_parts::jpeg::Jpeg::from_bytes(Bytes::copy_from_slice(bytes))
                .expect("img-parts parses the JPEG");
            assert!(
                orientation_only || jpeg.exif().is_none(),
                "{what}: img-parts finds EXIF"
            );
        }
        image::ImageFormat::Png => {
            let png = img_parts::png::Png::from_bytes(Bytes::copy_from_slice(bytes))
                .expect("img-parts parses the PNG");
            assert!(
                orientation_only || png.exif().is_none(),
                "{what}: PNG eXIf left"
            );
            for kind in [*b"tEXt", *b"zTXt", *b"iTXt", *b"tIME"] {
                assert!(png.chunk_by_type(kind).is_none(), "{what}: text chunk left");
            }
        }
        image::ImageFormat::WebP => {
            let webp = img_parts::webp::WebP::from_bytes(Bytes::copy_from_slice(bytes))
                .expect("img-parts parses the WebP");
            assert!(
                orientation_only || webp.exif().is_none(),
                "{what}: WebP EXIF left"
            );
        }
        _ => {}
    }
}

/// The invariants of every result: no metadata, never larger than the input, a thumbnail
/// exactly when the image is over 320 px, and that thumbnail ≤ 320 px with the same shape.
fn check(input: &[u8], out: &Compressed, what: &str) {
    assert_no_metadata(&out.bytes, what);
    assert!(
        out.bytes.len() <= input.len(),
        "{what}: output {} > input {}",
        out.bytes.len(),
        input.len()
    );
    let image = decode(&out.bytes);
    let orientation = match image::guess_format(&out.bytes) {
        Ok(image::ImageFormat::Gif) => None,
        _ => exif_of(&out.bytes).and_then(|exif| Orientation::from_exif_chunk(&exif)),
    };
    let (w, h) = image.dimensions();
    let displayed = oriented_size(w, h, orientation.unwrap_or(Orientation::NoTransforms));
    assert_eq!(displayed, (out.width, out.height), "{what}: w/h");
    assert_eq!(
        image::guess_format(&out.bytes)
            .expect("format")
            .to_mime_type(),
        out.mime,
        "{what}: mime"
    );
    match &out.thumb {
        None => assert!(
            out.width.max(out.height) <= THUMB_LONG_EDGE,
            "{what}: thumb"
        ),
        Some(thumb) => {
            assert!(
                out.width.max(out.height) > THUMB_LONG_EDGE,
                "{what}: extra thumb"
            );
            assert_eq!(thumb.width.max(thumb.height), THUMB_LONG_EDGE, "{what}");
            let still = decode(&thumb.bytes);
            assert_eq!(still.dimensions(), (thumb.width, thumb.height), "{what}");
            let aspect = |w: u32, h: u32| w as f64 / h as f64;
            let (a, b) = (
                aspect(out.width, out.height),
                aspect(thumb.width, thumb.height),
            );
            assert!((a - b).abs() / a < 0.02, "{what}: thumb aspect {b} vs {a}");
            assert_no_metadata(&thumb.bytes, what);
        }
    }
}

fn assert_close(actual: Rgb<u8>, expected: Rgb<u8>, what: &str) {
    let far = actual
        .0
        .iter()
        .zip(expected.0)
        .any(|(&a, e)| a.abs_diff(e) > 40);
    assert!(!far, "{what}: {actual:?}, expected about {expected:?}");
}

/// The marker picture reads upright: red top-left, blue top-right, green bottom-left.
fn assert_upright(image: &RgbImage, what: &str) {
    let (w, h) = image.dimensions();
    let at = |fx: f64, fy: f64| *image.get_pixel((fx * w as f64) as u32, (fy * h as f64) as u32);
    assert_close(at(0.1, 0.1), sample::MARKER_RED, what);
    assert_close(at(0.9, 0.1), sample::MARKER_BLUE, what);
    assert_close(at(0.1, 0.9), sample::MARKER_GREEN, what);
    assert_close(at(0.9, 0.9), sample::MARKER_GREY, what);
    assert_close(at(0.5, 0.5), sample::MARKER_GREY, what);
}

#[test]
fn all_eight_exif_orientations_come_out_upright() {
    let upright = sample::orientation_marker(96, 64);
    for orientation in 1..=8 {
        let stored = sample::stored_for_orientation(&upright, orientation);
        let input = sample::jpeg(&stored, 95, Some(&sample::exif(orientation, true)));
        let out = compress_default(&input);
        let what = format!("orientation {orientation}");
        check(&input, &out, &what);
        assert_eq!((out.width, out.height), (96, 64), "{what}");
        assert_eq!(out.kept_original, orientation == 1, "{what}");
        assert_upright(&decode(&out.bytes).to_rgb8(), &what);
    }
}

#[test]
fn a_rotated_photo_is_resized_and_turned() {
    // Stored landscape 2700×1800, displayed portrait: long edge 1280 is the height. Over twice
    // the target, so it is also decoded at 1/2 scale before the turn.
    let upright = sample::orientation_marker(1800, 2700);
    let stored = sample::stored_for_orientation(&upright, 6);
    let input = sample::jpeg(&stored, 95, Some(&sample::exif(6, true)));
    let out = compress_default(&input);
    check(&input, &out, "rotated photo");
    assert_eq!((out.width, out.height), (853, 1280));
    assert!(!out.kept_original);
    assert_upright(&decode(&out.bytes).to_rgb8(), "rotated photo");
    let thumb = out.thumb.expect("thumbnail");
    assert_eq!((thumb.width, thumb.height), (213, 320));
    assert_upright(&decode(&thumb.bytes).to_rgb8(), "rotated thumbnail");
}

#[test]
fn exif_gps_and_xmp_are_removed_from_every_output() {
    let exif = sample::exif(1, true);
    let photo = sample::photo(1600, 1200, 3);
    let small = sample::photo(200, 150, 4);
    let cases: Vec<(&str, Vec<u8>, ImageQuality)> = vec![
        (
            "large jpeg",
            sample::jpeg(&photo, 90, Some(&exif)),
            ImageQuality::Standard,
        ),
        (
            "large jpeg hd",
            sample::jpeg(&photo, 90, Some(&exif)),
            ImageQuality::Hd,
        ),
        (
            "large jpeg original",
            sample::jpeg(&photo, 90, Some(&exif)),
            ImageQuality::Original,
        ),
        (
            "small jpeg",
            sample::jpeg(&small, 80, Some(&exif)),
            ImageQuality::Standard,
        ),
        (
            "png",
            sample::png(&DynamicImage::ImageRgb8(small.clone()), Some(&exif)),
            ImageQuality::Standard,
        ),
        (
            "png original",
            sample::png(&DynamicImage::ImageRgb8(photo.clone()), Some(&exif)),
            ImageQuality::Original,
        ),
        (
            "webp",
            sample::webp(&DynamicImage::ImageRgb8(small.clone()), Some(&exif)),
            ImageQuality::Standard,
        ),
        (
            "webp original",
            sample::webp(&DynamicImage::ImageRgb8(small), Some(&exif)),
            ImageQuality::Original,
        ),
        (
            "gif",
            sample::gif_with_metadata(&sample::animated_gif(64, 48, 3)),
            ImageQuality::Standard,
        ),
    ];
    for (what, input, quality) in cases {
        assert!(
            contains(&input, sample::CAMERA_MAKE.as_bytes()),
            "{what}: sample"
        );
        let out = compress(&input, &CompressOptions::for_quality(quality)).expect(what);
        check(&input, &out, what);
    }
}

#[test]
fn a_small_upright_file_is_sent_as_it_is_minus_its_metadata() {
    let picture = sample::photo(240, 180, 5);
    let plain = sample::jpeg(&picture, 80, None);
    assert!(plain.len() < 100 * 1024);
    let out = compress_default(&plain);
    check(&plain, &out, "plain small jpeg");
    assert!(out.kept_original);
    assert_eq!(out.bytes, plain, "nothing to remove: byte for byte");
    assert_eq!((out.width, out.height, out.mime), (240, 180, "image/jpeg"));
    assert!(out.thumb.is_none(), "≤ 320 px is its own thumbnail");

    // With EXIF: the same file without the APP1 segment.
    let tagged = sample::jpeg(&picture, 80, Some(&sample::exif(1, true)));
    let out = compress_default(&tagged);
    check(&tagged, &out, "tagged small jpeg");
    assert!(out.kept_original);
    assert_eq!(out.bytes, plain);
}

#[test]
fn original_quality_keeps_pixels_and_orientation_only() {
    let stored = sample::photo(1000, 700, 6);
    let input = sample::jpeg(&stored, 92, Some(&sample::exif(6, true)));
    let out = compress(
        &input,
        &CompressOptions::for_quality(ImageQuality::Original),
    )
    .expect("compresses");
    check(&input, &out, "original");
    assert!(out.kept_original);
    // Displayed size: turned by orientation 6.
    assert_eq!((out.width, out.height), (700, 1000));
    // Same pixels as stored; the orientation survives as a minimal EXIF block.
    assert_eq!(decode(&out.bytes), decode(&input));
    let exif = exif_of(&out.bytes).expect("orientation kept");
    assert_eq!(
        Orientation::from_exif_chunk(&exif),
        Some(Orientation::Rotate90)
    );
    assert_eq!(exif, metadata::orientation_exif(Orientation::Rotate90));
    assert_eq!(
        out.bytes.len(),
        input.len() - 6 - sample::exif(6, true).len() - 4 + 36
    );
}

#[test]
fn png_with_transparency_stays_png_with_alpha() {
    let sticker = DynamicImage::ImageRgba8(sample::transparent(1600, 1200));
    let input = sample::png(&sticker, None);
    let out = compress_default(&input);
    check(&input, &out, "transparent png");
    assert_eq!((out.mime, out.width, out.height), ("image/png", 1280, 960));
    let decoded = decode(&out.bytes).to_rgba8();
    assert_eq!(decoded.get_pixel(2, 2).0[3], 0, "corner stays transparent");
    assert_eq!(decoded.get_pixel(640, 480).0[3], 255, "centre stays opaque");
    let thumb = out.thumb.expect("thumbnail");
    assert_eq!(thumb.mime, "image/png");
    assert_eq!(decode(&thumb.bytes).to_rgba8().get_pixel(1, 1).0[3], 0);
}

#[test]
fn an_opaque_rgba_png_becomes_jpeg() {
    let opaque =
        DynamicImage::ImageRgba8(DynamicImage::ImageRgb8(sample::photo(1500, 1000, 8)).to_rgba8());
    let input = sample::png(&opaque, None);
    let out = compress_default(&input);
    check(&input, &out, "opaque rgba png");
    assert_eq!((out.mime, out.width, out.height), ("image/jpeg", 1280, 853));
}

#[test]
fn an_animated_gif_passes_through_unchanged() {
    let gif = sample::animated_gif(400, 300, 4);
    let out = compress_default(&gif);
    check(&gif, &out, "animated gif");
    assert!(out.kept_original);
    assert_eq!(out.bytes, gif);
    assert_eq!((out.mime, out.width, out.height), ("image/gif", 400, 300));
    let thumb = out.thumb.expect("still thumbnail of the first frame");
    assert_eq!(
        (thumb.mime, thumb.width, thumb.height),
        ("image/jpeg", 320, 240)
    );

    // Comment and XMP extensions go; every frame byte stays.
    let tagged = sample::gif_with_metadata(&gif);
    let out = compress_default(&tagged);
    check(&tagged, &out, "tagged gif");
    assert_eq!(out.bytes, gif);
    assert_eq!(metadata::gif_frame_count(&out.bytes), Ok(4));
}

#[test]
fn a_bomb_is_refused_from_its_header() {
    let options = CompressOptions::default();
    let started = Instant::now();
    let error = compress(&sample::png_bomb(100_000, 100_000), &options).unwrap_err();
    assert_eq!(
        error,
        MediaError::TooManyPixels {
            width: 100_000,
            height: 100_000,
            limit: 100_000_000
        }
    );
    let error = compress(&sample::jpeg_bomb(60_000, 50_000), &options).unwrap_err();
    assert_eq!(
        error,
        MediaError::TooManyPixels {
            width: 60_000,
            height: 50_000,
            limit: 100_000_000
        }
    );
    // Decoding 40 GB of pixels would not return this fast (nor at all).
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(error.to_string().contains("60000×50000"), "{error}");

    // Just over a lowered limit is refused too, just under is not.
    let input = sample::jpeg(&sample::photo(100, 100, 1), 80, None);
    let mut options = CompressOptions {
        max_pixels: 9_999,
        ..CompressOptions::default()
    };
    assert!(matches!(
        compress(&input, &options),
        Err(MediaError::TooManyPixels { .. })
    ));
    options.max_pixels = 10_000;
    assert!(compress(&input, &options).is_ok());
}

#[test]
fn an_oversized_input_is_refused_before_anything_else() {
    let mut options = CompressOptions {
        max_input_bytes: 1000,
        ..CompressOptions::default()
    };
    let input = vec![0u8; 1001];
    assert_eq!(
        compress(&input, &options),
        Err(MediaError::TooLarge {
            bytes: 1001,
            limit: 1000
        })
    );
    options.max_input_bytes = 1001;
    assert!(matches!(
        compress(&input, &options),
        Err(MediaError::Unsupported(_))
    ));
}

#[test]
fn garbage_is_unsupported_or_undecodable() {
    let options = CompressOptions::default();
    for garbage in [&b""[..], b"hello, world", b"%PDF-1.7 not an image"] {
        assert!(
            matches!(compress(garbage, &options), Err(MediaError::Unsupported(_))),
            "{garbage:?}"
        );
    }
    // A format the image crate knows but the messenger does not send.
    let mut bmp = b"BM".to_vec();
    bmp.resize(64, 0);
    assert!(matches!(
        compress(&bmp, &options),
        Err(MediaError::Unsupported(_))
    ));
    // Right magic, broken body.
    let jpeg = sample::jpeg(&sample::photo(300, 200, 2), 80, None);
    let mut broken = jpeg[..jpeg.len() / 3].to_vec();
    broken.truncate(200);
    assert!(matches!(
        compress(&broken, &options),
        Err(MediaError::Decode(_))
    ));
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(b"garbage garbage garbage");
    assert!(matches!(
        compress(&png, &options),
        Err(MediaError::Decode(_))
    ));
    let gif = b"GIF89a\x10\x00\x10\x00\x00\x00\x00\x2c\x00";
    assert!(compress(gif, &options).is_err());
}

#[test]
fn long_edge_is_1280_or_2560_and_never_upscaled() {
    let input = sample::jpeg(&sample::photo(3000, 2000, 9), 90, None);
    let standard = compress_default(&input);
    check(&input, &standard, "standard");
    assert_eq!((standard.width, standard.height), (1280, 853));
    assert!(!standard.kept_original);
    let hd = compress(&input, &CompressOptions::for_quality(ImageQuality::Hd)).expect("hd");
    check(&input, &hd, "hd");
    assert_eq!((hd.width, hd.height), (2560, 1707));

    // Smaller than the target but too big to keep: re-encoded at its own size.
    let input = sample::jpeg(&sample::photo(1000, 700, 10), 100, None);
    assert!(input.len() > 100 * 1024);
    let out = compress_default(&input);
    check(&input, &out, "not upscaled");
    assert_eq!((out.width, out.height), (1000, 700));
    assert!(!out.kept_original);
    let out = compress(&input, &CompressOptions::for_quality(ImageQuality::Hd)).expect("hd");
    assert_eq!((out.width, out.height), (1000, 700));

    // Portrait.
    let input = sample::jpeg(&sample::photo(900, 1600, 11), 90, None);
    let out = compress_default(&input);
    assert_eq!((out.width, out.height), (720, 1280));
}

#[test]
fn the_original_is_kept_when_compressing_would_make_it_larger() {
    // A heavily compressed photo just over 1280 px: too wide to count as "small", yet
    // re-encoding at q80 would make it larger.
    let input = sample::jpeg(
        &sample::photo(1400, 1050, 13),
        15,
        Some(&sample::exif(1, true)),
    );
    let out = compress_default(&input);
    check(&input, &out, "low-quality photo");
    assert!(out.kept_original);
    assert_eq!(
        (out.mime, out.width, out.height),
        ("image/jpeg", 1400, 1050)
    );
    assert_eq!(
        out.bytes,
        sample::jpeg(&sample::photo(1400, 1050, 13), 15, None)
    );
    // Also when it has to be turned: its orientation is kept as a minimal EXIF block.
    let input = sample::jpeg(
        &sample::photo(1400, 1050, 13),
        15,
        Some(&sample::exif(8, true)),
    );
    let out = compress_default(&input);
    check(&input, &out, "low-quality rotated photo");
    assert!(out.kept_original);
    assert_eq!((out.width, out.height), (1050, 1400));
    let exif = exif_of(&out.bytes).expect("orientation kept");
    assert_eq!(
        Orientation::from_exif_chunk(&exif),
        Some(Orientation::Rotate270)
    );
}

#[test]
fn a_screenshot_png_is_shrunk() {
    let input = sample::png(
        &DynamicImage::ImageRgb8(sample::screenshot(2560, 1440, 1)),
        None,
    );
    let out = compress_default(&input);
    check(&input, &out, "screenshot");
    assert_eq!((out.width, out.height), (1280, 720));
}

#[test]
fn jpeg_trailers_and_progressive_segments_are_handled() {
    let picture = sample::photo(200, 100, 12);
    let mut input = sample::jpeg(&picture, 80, Some(&sample::exif(1, true)));
    // An MPF-like trailer after the end of the image carrying its own EXIF.
    input.extend_from_slice(&sample::jpeg(&picture, 50, Some(&sample::exif(1, true))));
    let out = compress_default(&input);
    check(&input, &out, "trailer");
    assert_eq!(out.bytes, sample::jpeg(&picture, 80, None));

    // Progressive: several scans with tables between them, all kept; rotation kept as EXIF.
    let mut progressive = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut progressive, 85);
    encoder.set_progressive(true);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&sample::exif(3, true));
    encoder.add_app_segment(1, &app1).expect("segment");
    encoder
        .encode(picture.as_raw(), 200, 100, jpeg_encoder::ColorType::Rgb)
        .expect("encodes");
    let out = compress(
        &progressive,
        &CompressOptions::for_quality(ImageQuality::Original),
    )
    .expect("compresses");
    check(&progressive, &out, "progressive");
    assert_eq!(decode(&out.bytes), decode(&progressive));
    let exif = exif_of(&out.bytes).expect("orientation kept");
    assert_eq!(
        Orientation::from_exif_chunk(&exif),
        Some(Orientation::Rotate180)
    );
}

#[test]
fn image_quality_names() {
    for quality in [
        ImageQuality::Standard,
        ImageQuality::Hd,
        ImageQuality::Original,
    ] {
        assert_eq!(quality.as_str().parse::<ImageQuality>(), Ok(quality));
        let json = serde_json::to_string(&quality).expect("serializes");
        assert_eq!(json, format!("\"{}\"", quality.as_str()));
    }
    assert_eq!(
        "ultra".parse::<ImageQuality>(),
        Err(MediaError::InvalidQuality("ultra".to_owned()))
    );
    assert_eq!(CompressOptions::default().quality, ImageQuality::Standard);
}

#[test]
fn a_dct_scaled_decode_gives_the_same_picture() {
    // 2600 px → 1280 px is under half: decoded at 1/2 scale, then resized.
    let input = sample::jpeg(&sample::photo(2600, 1300, 14), 90, None);
    let out = compress_default(&input);
    check(&input, &out, "scaled decode");
    assert_eq!((out.width, out.height), (1280, 640));
    let reference = decode(&input)
        .resize_exact(1280, 640, image::imageops::FilterType::Triangle)
        .to_rgb8();
    let ours = decode(&out.bytes).to_rgb8();
    let mse = ours
        .as_raw()
        .iter()
        .zip(reference.as_raw())
        .map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2))
        .sum::<f64>()
        / ours.as_raw().len() as f64;
    let psnr = 10.0 * (255.0f64 * 255.0 / mse).log10();
    assert!(psnr > 30.0, "PSNR {psnr:.1} dB against a plain resize");
}

#[test]
fn an_animated_png_passes_through_unchanged() {
    let frame = DynamicImage::ImageRgb8(sample::photo(480, 360, 15));
    let apng = sample::apng(&frame, 3);
    assert!(apng.len() > 100 * 1024, "too big to count as small");
    let out = compress_default(&apng);
    check(&apng, &out, "apng");
    assert!(out.kept_original);
    assert_eq!(out.bytes, apng, "frames and animation chunks kept");
    assert_eq!((out.mime, out.width, out.height), ("image/png", 480, 360));
    assert_eq!(out.thumb.expect("still thumbnail").mime, "image/jpeg");
}

#[test]
fn the_colour_profile_is_kept() {
    // A stand-in profile: decoders carry it, they do not parse it.
    let mut icc = vec![0u8; 560];
    icc[36..40].copy_from_slice(b"acsp");
    icc[..4].copy_from_slice(&560u32.to_be_bytes());
    let photo = sample::photo(1600, 1200, 16);
    let mut input = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut input, 90);
    encoder.add_icc_profile(&icc).expect("profile");
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&sample::exif(1, true));
    encoder.add_app_segment(1, &app1).expect("segment");
    encoder
        .encode(photo.as_raw(), 1600, 1200, jpeg_encoder::ColorType::Rgb)
        .expect("encodes");
    for quality in [ImageQuality::Standard, ImageQuality::Original] {
        let out = compress(&input, &CompressOptions::for_quality(quality)).expect("compresses");
        check(&input, &out, quality.as_str());
        assert_eq!(out.kept_original, quality == ImageQuality::Original);
        let jpeg =
            img_parts::jpeg::Jpeg::from_bytes(Bytes::copy_from_slice(&out.bytes)).expect("parses");
        let kept = img_parts::ImageICC::icc_profile(&jpeg).expect("profile kept");
        assert_eq!(&kept[..], &icc[..], "{quality:?}");
    }
}
