//! Deterministic test images for the tests and benchmarks (no downloaded files): photo-like
//! pictures, UI screenshots, EXIF blocks with an orientation and a GPS position, PNG with
//! transparency, animated GIF, and "bombs" whose header claims a huge size.

use image::codecs::gif::{GifEncoder, Repeat};
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::{Delay, DynamicImage, Frame, ImageEncoder, Rgb, RgbImage, Rgba, RgbaImage};
use img_parts::png::PngChunk;
use img_parts::Bytes;

/// The camera make written into sample EXIF blocks: a string a test can search for.
pub const CAMERA_MAKE: &str = "HongyanCam";
/// The GPS position written into sample EXIF blocks (degrees, minutes, seconds).
pub const GPS_LATITUDE: [u32; 3] = [39, 54, 27];
pub const GPS_LONGITUDE: [u32; 3] = [116, 23, 17];

/// A small fast hash: the same (x, y, seed) always gives the same value.
fn hash(x: u32, y: u32, seed: u64) -> u32 {
    let mut h = u64::from(x) | (u64::from(y) << 32);
    h ^= seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    h = (h ^ (h >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (h ^ (h >> 31)) as u32
}

/// Smooth value noise in 0..=255 with cells of `cell` pixels.
fn value_noise(x: u32, y: u32, cell: u32, seed: u64) -> u32 {
    let (cx, cy) = (x / cell, y / cell);
    let (fx, fy) = (x % cell, y % cell);
    let corner = |dx: u32, dy: u32| hash(cx + dx, cy + dy, seed) & 0xFF;
    let top = corner(0, 0) * (cell - fx) + corner(1, 0) * fx;
    let bottom = corner(0, 1) * (cell - fx) + corner(1, 1) * fx;
    (top * (cell - fy) + bottom * fy) / (cell * cell)
}

/// A photo-like picture: a sky-to-ground gradient, a sun, hills and blocks with soft edges,
/// textured with noise at several scales (so that it compresses like a photo, not like a
/// drawing), plus mild per-pixel sensor noise.
pub fn photo(width: u32, height: u32, seed: u64) -> RgbImage {
    let (w, h) = (width.max(1) as f32, height.max(1) as f32);
    let sun = (w * 0.7, h * 0.25, h.min(w) * 0.12);
    RgbImage::from_fn(width, height, |x, y| {
        let (fx, fy) = (x as f32 / w, y as f32 / h);
        let horizon = 0.55 + 0.08 * (fx * 9.0).sin() + 0.04 * (fx * 23.0 + 1.0).sin();
        let mut rgb = if fy < horizon {
            [90.0 + 100.0 * fy, 140.0 + 80.0 * fy, 230.0 - 40.0 * fy]
        } else {
            [60.0 + 50.0 * fx, 110.0 - 30.0 * fy, 50.0 + 20.0 * fx]
        };
        let (dx, dy) = (x as f32 - sun.0, y as f32 - sun.1);
        let glow = (1.0 - (dx * dx + dy * dy).sqrt() / sun.2).clamp(0.0, 1.0);
        for (c, sun_c) in rgb.iter_mut().zip([255.0, 230.0, 150.0]) {
            *c += (sun_c - *c) * glow.sqrt();
        }
        if (fx * 6.0).fract() < 0.35 && fy > horizon + 0.1 && fy < 0.9 {
            rgb = [150.0 + 40.0 * fx, 120.0, 100.0 + 30.0 * fy]; // "houses"
        }
        let texture = value_noise(x, y, 97, seed) as f32 * 0.25
            + value_noise(x, y, 23, seed ^ 1) as f32 * 0.2
            + value_noise(x, y, 6, seed ^ 2) as f32 * 0.15
            + value_noise(x, y, 2, seed ^ 3) as f32 * 0.06;
        let grain = (hash(x, y, seed ^ 4) & 7) as f32;
        let shade = texture + grain - 80.0;
        Rgb(rgb.map(|c| (c + shade * 0.6).clamp(0.0, 255.0) as u8))
    })
}

/// A UI-like screenshot: flat panels, a sidebar of list rows and lines of text-like strokes.
pub fn screenshot(width: u32, height: u32, seed: u64) -> RgbImage {
    let sidebar = width / 4;
    RgbImage::from_fn(width, height, |x, y| {
        let (row, in_row) = (y / 18, y % 18);
        let background = if x < sidebar {
            if (y / 64) % 6 == 2 {
                Rgb([220, 232, 250]) // the selected conversation
            } else {
                Rgb([245, 245, 247])
            }
        } else if y < 56 {
            Rgb([250, 250, 252]) // title bar
        } else {
            Rgb([255, 255, 255])
        };
        // Glyph-like strokes: 1–2 px lines in 8 px cells, words separated by gaps.
        let line_len = 80 + hash(row, 0, seed) % (width / 2).max(1);
        let start = if x < sidebar { 72 } else { sidebar + 24 };
        let in_text = x >= start
            && x < start + line_len.min(width)
            && (3..13).contains(&in_row)
            && y > 60
            && (x / 8) % 7 != 6;
        if in_text {
            let glyph = hash(x / 8, row, seed);
            let (gx, gy) = (x % 8, in_row - 3);
            let stroke = (glyph & 1 == 1 && gx == 1)
                || (glyph & 2 == 2 && gy == 0)
                || (glyph & 4 == 4 && gx == 5)
                || (glyph & 8 == 8 && gy == 9)
                || (glyph & 16 == 16 && gx == gy / 2 + 1);
            if stroke && gx < 7 {
                return Rgb([32, 33, 36]);
            }
        }
        background
    })
}

/// An upright picture with coloured markers: red block top-left, blue block top-right, green
/// block bottom-left, grey elsewhere. Blocks are a quarter of each side.
pub fn orientation_marker(width: u32, height: u32) -> RgbImage {
    let (bw, bh) = (width / 4, height / 4);
    RgbImage::from_fn(width, height, |x, y| {
        match (x < bw, x >= width - bw, y < bh, y >= height - bh) {
            (true, _, true, _) => MARKER_RED,
            (_, true, true, _) => MARKER_BLUE,
            (true, _, _, true) => MARKER_GREEN,
            _ => MARKER_GREY,
        }
    })
}

pub const MARKER_RED: Rgb<u8> = Rgb([220, 20, 20]);
pub const MARKER_BLUE: Rgb<u8> = Rgb([20, 20, 220]);
pub const MARKER_GREEN: Rgb<u8> = Rgb([20, 200, 20]);
pub const MARKER_GREY: Rgb<u8> = Rgb([128, 128, 128]);

/// How a camera would store `upright` when it writes EXIF orientation `orientation` (1–8),
/// computed from the EXIF definition (where stored row 0 and column 0 are displayed), not with
/// the image crate's transforms that the pipeline uses.
pub fn stored_for_orientation(upright: &RgbImage, orientation: u8) -> RgbImage {
    let (uw, uh) = upright.dimensions();
    let (sw, sh) = if orientation >= 5 { (uh, uw) } else { (uw, uh) };
    RgbImage::from_fn(sw, sh, |sx, sy| {
        let (dx, dy) = match orientation {
            2 => (sw - 1 - sx, sy),          // row 0 top, column 0 right
            3 => (sw - 1 - sx, sh - 1 - sy), // row 0 bottom, column 0 right
            4 => (sx, sh - 1 - sy),          // row 0 bottom, column 0 left
            5 => (sy, sx),                   // row 0 left, column 0 top
            6 => (sh - 1 - sy, sx),          // row 0 right, column 0 top
            7 => (sh - 1 - sy, sw - 1 - sx), // row 0 right, column 0 bottom
            8 => (sy, sw - 1 - sx),          // row 0 left, column 0 bottom
            _ => (sx, sy),
        };
        *upright.get_pixel(dx, dy)
    })
}

/// A TIFF (EXIF) block as a phone writes it: camera make, orientation and, when `gps`, a GPS
/// IFD with [`GPS_LATITUDE`] N / [`GPS_LONGITUDE`] E. Big-endian.
pub fn exif(orientation: u8, gps: bool) -> Vec<u8> {
    const ASCII: u16 = 2;
    const SHORT: u16 = 3;
    const LONG: u16 = 4;
    const RATIONAL: u16 = 5;
    fn entry(out: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]) {
        out.extend_from_slice(&tag.to_be_bytes());
        out.extend_from_slice(&kind.to_be_bytes());
        out.extend_from_slice(&count.to_be_bytes());
        out.extend_from_slice(&value);
    }
    let make = format!("{CAMERA_MAKE}\0");
    let ifd0_entries: u16 = if gps { 3 } else { 2 };
    let ifd0_end = 8 + 2 + 12 * u32::from(ifd0_entries) + 4;
    let make_at = ifd0_end;
    let gps_at = (make_at + make.len() as u32 + 1) & !1;
    let gps_end = gps_at + 2 + 12 * 5 + 4;
    let (lat_at, lon_at) = (gps_end, gps_end + 24);

    let mut out = b"MM\x00\x2a\x00\x00\x00\x08".to_vec();
    out.extend_from_slice(&ifd0_entries.to_be_bytes());
    entry(
        &mut out,
        0x010F,
        ASCII,
        make.len() as u32,
        make_at.to_be_bytes(),
    );
    entry(&mut out, 0x0112, SHORT, 1, [0, orientation, 0, 0]);
    if gps {
        entry(&mut out, 0x8825, LONG, 1, gps_at.to_be_bytes());
    }
    out.extend_from_slice(&0u32.to_be_bytes());
    out.extend_from_slice(make.as_bytes());
    out.resize(gps_at as usize, 0);
    if gps {
        out.extend_from_slice(&5u16.to_be_bytes());
        entry(&mut out, 0x0000, 1, 4, [2, 3, 0, 0]); // GPSVersionID, BYTE
        entry(&mut out, 0x0001, ASCII, 2, *b"N\0\0\0");
        entry(&mut out, 0x0002, RATIONAL, 3, lat_at.to_be_bytes());
        entry(&mut out, 0x0003, ASCII, 2, *b"E\0\0\0");
        entry(&mut out, 0x0004, RATIONAL, 3, lon_at.to_be_bytes());
        out.extend_from_slice(&0u32.to_be_bytes());
        for value in GPS_LATITUDE.iter().chain(&GPS_LONGITUDE) {
            out.extend_from_slice(&value.to_be_bytes());
            out.extend_from_slice(&1u32.to_be_bytes());
        }
    }
    out
}

/// JPEG (baseline, 4:2:0 below q90) of an RGB image, with an EXIF APP1 segment when given.
pub fn jpeg(image: &RgbImage, quality: u8, exif: Option<&[u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, quality);
    if let Some(exif) = exif {
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend_from_slice(exif);
        encoder
            .add_app_segment(1, &app1)
            .expect("sample EXIF fits a segment");
    }
    let (w, h) = image.dimensions();
    encoder
        .encode(
            image.as_raw(),
            w as u16,
            h as u16,
            jpeg_encoder::ColorType::Rgb,
        )
        .expect("sample JPEG encodes");
    out
}

/// PNG of any 8-bit image, with an `eXIf` chunk when given.
pub fn png(image: &DynamicImage, exif: Option<&[u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = PngEncoder::new(&mut out);
    if let Some(exif) = exif {
        encoder
            .set_exif_metadata(exif.to_vec())
            .expect("PNG takes EXIF");
    }
    encoder
        .write_image(
            image.as_bytes(),
            image.width(),
            image.height(),
            image.color().into(),
        )
        .expect("sample PNG encodes");
    out
}

/// Lossless WebP, with an EXIF chunk (extended format) when given.
pub fn webp(image: &DynamicImage, exif: Option<&[u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = WebPEncoder::new_lossless(&mut out);
    if let Some(exif) = exif {
        encoder
            .set_exif_metadata(exif.to_vec())
            .expect("WebP takes EXIF");
    }
    encoder
        .write_image(
            image.as_bytes(),
            image.width(),
            image.height(),
            image.color().into(),
        )
        .expect("sample WebP encodes");
    out
}

/// A sticker-like picture with real transparency: a disc with a face and a 3 px anti-aliased
/// edge, a half-transparent drop shadow, on a fully transparent background.
pub fn transparent(width: u32, height: u32) -> RgbaImage {
    let (cx, cy) = (width as f32 / 2.0, height as f32 / 2.0);
    let radius = cx.min(cy) * 0.85;
    let shadow = radius * 0.06;
    RgbaImage::from_fn(width, height, |x, y| {
        let (dx, dy) = (x as f32 - cx, y as f32 - cy);
        let d = (dx * dx + dy * dy).sqrt();
        let coverage = ((radius - d) / 3.0).clamp(0.0, 1.0);
        if coverage == 0.0 {
            let (sx, sy) = (dx - shadow, dy - shadow);
            let in_shadow = (sx * sx + sy * sy).sqrt() < radius;
            return if in_shadow {
                Rgba([0, 0, 0, 70])
            } else {
                Rgba([0, 0, 0, 0])
            };
        }
        let eye = ((dx.abs() - radius * 0.35).powi(2) + (dy + radius * 0.3).powi(2)).sqrt()
            < radius * 0.1;
        let shade = (200.0 - d / radius * 60.0) as u8;
        let alpha = (coverage * 255.0) as u8;
        if eye {
            Rgba([30, 30, 30, alpha])
        } else {
            Rgba([250, shade, 60, alpha])
        }
    })
}

/// An animated GIF of `frames` photo-like frames (a panning window over one picture), looping.
pub fn animated_gif(width: u32, height: u32, frames: u32) -> Vec<u8> {
    let scene = photo(width + frames * 4, height, 7);
    let mut out = Vec::new();
    {
        let mut encoder = GifEncoder::new_with_speed(&mut out, 30);
        encoder
            .set_repeat(Repeat::Infinite)
            .expect("GIF repeat is settable");
        for i in 0..frames {
            let view = image::imageops::crop_imm(&scene, i * 4, 0, width, height).to_image();
            let rgba = DynamicImage::ImageRgb8(view).to_rgba8();
            encoder
                .encode_frame(Frame::from_parts(
                    rgba,
                    0,
                    0,
                    Delay::from_numer_denom_ms(80, 1),
                ))
                .expect("sample GIF frame encodes");
        }
    }
    out
}

/// An animated PNG (APNG) of `frames` frames that all show `image` (the default image is the
/// first frame), looping forever.
pub fn apng(image: &DynamicImage, frames: u32) -> Vec<u8> {
    let still = png(image, None);
    let png = img_parts::png::Png::from_bytes(Bytes::from(still)).expect("sample PNG parses");
    let chunk = |kind: &[u8; 4]| png.chunk_by_type(*kind).expect("chunk").contents().clone();
    let (ihdr, idat) = (chunk(b"IHDR"), chunk(b"IDAT"));
    let fctl = |sequence: u32| {
        let mut fctl = sequence.to_be_bytes().to_vec();
        fctl.extend_from_slice(&ihdr[..8]); // width, height
        fctl.extend_from_slice(&[0; 8]); // x and y offset
        fctl.extend_from_slice(&[0, 1, 0, 10]); // delay 1/10 s
        fctl.extend_from_slice(&[0, 0]); // dispose none, blend source
        PngChunk::new(*b"fcTL", Bytes::from(fctl))
    };
    let mut actl = frames.to_be_bytes().to_vec();
    actl.extend_from_slice(&0u32.to_be_bytes());
    let mut chunks = vec![
        PngChunk::new(*b"IHDR", ihdr.clone()),
        PngChunk::new(*b"acTL", Bytes::from(actl)),
        fctl(0),
        PngChunk::new(*b"IDAT", idat.clone()),
    ];
    let mut sequence = 1;
    for _ in 1..frames {
        chunks.push(fctl(sequence));
        let mut fdat = (sequence + 1).to_be_bytes().to_vec();
        fdat.extend_from_slice(&idat);
        chunks.push(PngChunk::new(*b"fdAT", Bytes::from(fdat)));
        sequence += 2;
    }
    chunks.push(PngChunk::new(*b"IEND", Bytes::new()));
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    for chunk in chunks {
        out.extend_from_slice(&chunk.encoder().bytes());
    }
    out
}

/// A GIF with a comment extension and an XMP application extension inserted before its first
/// frame (as editors write them).
pub fn gif_with_metadata(gif: &[u8]) -> Vec<u8> {
    let packed = gif[10];
    let table = if packed & 0x80 != 0 {
        3 << ((packed & 7) + 1)
    } else {
        0
    };
    let at = 13 + table;
    let mut out = gif[..at].to_vec();
    // Comment extension.
    let comment = format!("{CAMERA_MAKE} GPS 39.9");
    out.extend_from_slice(&[0x21, 0xFE, comment.len() as u8]);
    out.extend_from_slice(comment.as_bytes());
    out.push(0);
    // XMP application extension: "XMP DataXMP", the packet, then the "magic trailer".
    out.extend_from_slice(&[0x21, 0xFF, 11]);
    out.extend_from_slice(b"XMP DataXMP");
    let xmp = format!("<x:xmpmeta><tiff:Make>{CAMERA_MAKE}</tiff:Make></x:xmpmeta>");
    out.extend_from_slice(&[xmp.len() as u8]);
    out.extend_from_slice(xmp.as_bytes());
    out.push(0);
    out.extend_from_slice(&gif[at..]);
    out
}

/// A PNG whose header claims `width`×`height` RGBA pixels, with a few bytes of image data:
/// decoding it for real would allocate width × height × 4 bytes.
pub fn png_bomb(width: u32, height: u32) -> Vec<u8> {
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]); // 8-bit RGBA, deflate, adaptive, no interlace
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, contents) in [
        (*b"IHDR", ihdr),
        (
            *b"IDAT",
            vec![0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
        ),
        (*b"IEND", Vec::new()),
    ] {
        let chunk = PngChunk::new(kind, Bytes::from(contents));
        out.extend_from_slice(&chunk.encoder().bytes());
    }
    out
}

/// A small JPEG whose frame header (SOF) is rewritten to claim `width`×`height`.
pub fn jpeg_bomb(width: u16, height: u16) -> Vec<u8> {
    let mut bytes = jpeg(&photo(16, 16, 1), 80, None);
    let sof = bytes
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("baseline JPEG has SOF0");
    // SOF0: marker(2) length(2) precision(1) height(2) width(2)
    bytes[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    bytes[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    bytes
}
