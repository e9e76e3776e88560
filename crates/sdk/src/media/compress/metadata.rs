//! Lossless metadata removal from a file that is sent as it is: the pixels' bytes are copied
//! unchanged, EXIF (GPS, camera, time), XMP, IPTC, comments and embedded previews are dropped.
//! Kept: what decoding needs and the colour profile (ICC), so the picture looks the same.
//!
//! Everything is decided by allow-lists, so an unknown metadata block never slips through.
//! When the picture still has to be turned, a minimal EXIF block with only the orientation is
//! written back (an `Original` photo must not arrive sideways).

use std::borrow::Cow;

use image::metadata::Orientation;
use img_parts::png::{Png, PngChunk};
use img_parts::riff::{RiffChunk, RiffContent};
use img_parts::webp::WebP;
use img_parts::Bytes;

use super::{Format, MediaError};

/// The input without metadata; `orientation` other than upright is kept as a minimal EXIF.
pub(super) fn strip(
    input: &[u8],
    format: Format,
    orientation: Orientation,
) -> Result<Vec<u8>, MediaError> {
    let exif = (orientation != Orientation::NoTransforms).then(|| orientation_exif(orientation));
    match format {
        Format::Jpeg => strip_jpeg(input, exif.as_deref()),
        Format::Png => strip_png(input, exif),
        Format::WebP => strip_webp(input, exif),
        // GIF has no EXIF (nor orientation); comments and XMP live in extension blocks.
        Format::Gif => walk_gif(input).map(|(bytes, _)| bytes),
    }
}

/// Number of frames (image descriptors) in a GIF.
pub(super) fn gif_frame_count(input: &[u8]) -> Result<usize, MediaError> {
    walk_gif(input).map(|(_, frames)| frames)
}

/// A TIFF (EXIF) block holding nothing but the orientation tag (0x0112), big-endian.
pub(crate) fn orientation_exif(orientation: Orientation) -> Vec<u8> {
    let mut tiff = Vec::with_capacity(26);
    tiff.extend_from_slice(b"MM\x00\x2a\x00\x00\x00\x08"); // header, IFD0 at offset 8
    tiff.extend_from_slice(&1u16.to_be_bytes()); // one entry
    tiff.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_be_bytes()); // count
    tiff.extend_from_slice(&u16::from(orientation.to_exif()).to_be_bytes());
    tiff.extend_from_slice(&[0, 0]); // value padding
    tiff.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    tiff
}

fn broken(format: &str) -> MediaError {
    MediaError::Decode(format!("broken {format} structure"))
}

// --- JPEG ---------------------------------------------------------------------------------

const SOS: u8 = 0xDA;
const EOI: u8 = 0xD9;
const APP0: u8 = 0xE0;
const APP1: u8 = 0xE1;

/// Walks the marker segments (also those between progressive scans) and stops at the end of
/// the image: data after it (MPF previews, maker trailers) carries its own EXIF.
fn strip_jpeg(input: &[u8], exif: Option<&[u8]>) -> Result<Vec<u8>, MediaError> {
    let broken = || broken("JPEG");
    if !input.starts_with(&[0xFF, 0xD8]) {
        return Err(broken());
    }
    let mut out = Vec::with_capacity(input.len());
    out.extend_from_slice(&[0xFF, 0xD8]);
    let mut pending_exif = exif;
    let mut scanned = false;
    let mut at = 2;
    loop {
        if at >= input.len() && scanned {
            // Truncated after a scan: end the image properly; decoders show what is there.
            out.extend_from_slice(&[0xFF, EOI]);
            return Ok(out);
        }
        if input.get(at) != Some(&0xFF) {
            return Err(broken());
        }
        while input.get(at) == Some(&0xFF) {
            at += 1; // fill bytes
        }
        let code = *input.get(at).ok_or_else(broken)?;
        at += 1;
        match code {
            EOI => {
                out.extend_from_slice(&[0xFF, EOI]);
                return Ok(out);
            }
            0x01 | 0xD0..=0xD7 => {
                out.extend_from_slice(&[0xFF, code]); // standalone markers
                continue;
            }
            _ => {}
        }
        let length = input.get(at..at + 2).ok_or_else(broken)?;
        let length = usize::from(u16::from_be_bytes([length[0], length[1]]));
        let body = input.get(at + 2..at + length).ok_or_else(broken)?;
        at += length;
        if let Some(body) = kept_jpeg_segment(code, body) {
            if code != APP0 {
                if let Some(exif) = pending_exif.take() {
                    let mut app1 = b"Exif\0\0".to_vec();
                    app1.extend_from_slice(exif);
                    push_jpeg_segment(&mut out, APP1, &app1);
                }
            }
            push_jpeg_segment(&mut out, code, &body);
        }
        if code == SOS {
            scanned = true;
            let start = at;
            at = end_of_entropy(input, at);
            out.extend_from_slice(&input[start..at]);
        }
    }
}

fn push_jpeg_segment(out: &mut Vec<u8>, code: u8, body: &[u8]) {
    out.extend_from_slice(&[0xFF, code]);
    out.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(body);
}

/// The body to keep of a marker segment, `None` to drop it.
fn kept_jpeg_segment(code: u8, body: &[u8]) -> Option<Cow<'_, [u8]>> {
    match code {
        // JFIF header, without its embedded thumbnail (a preview of the uncropped picture).
        APP0 if body.starts_with(b"JFIF\0") && body.len() >= 14 => {
            let mut jfif = body[..12].to_vec();
            jfif.extend_from_slice(&[0, 0]);
            Some(Cow::Owned(jfif))
        }
        0xE2 if body.starts_with(b"ICC_PROFILE\0") => Some(Cow::Borrowed(body)),
        // Adobe: tells the decoder the colour transform.
        0xEE if body.starts_with(b"Adobe") => Some(Cow::Borrowed(body)),
        // Other APPn (EXIF, XMP, MPF, IPTC, maker data) and comments.
        0xE0..=0xEF | 0xFE => None,
        _ => Some(Cow::Borrowed(body)),
    }
}

/// The position after a scan's entropy-coded data: the next marker that is neither a stuffed
/// 0xFF00 nor a restart marker (or the end of the input).
fn end_of_entropy(input: &[u8], mut at: usize) -> usize {
    while at < input.len() {
        match input[at..].iter().position(|&b| b == 0xFF) {
            None => return input.len(),
            Some(offset) => at += offset,
        }
        match input.get(at + 1) {
            Some(0x00 | 0xD0..=0xD7) => at += 2,
            Some(0xFF) => at += 1,
            Some(_) => return at,
            None => return input.len(),
        }
    }
    input.len()
}

// --- PNG ----------------------------------------------------------------------------------

/// Ancillary chunks kept: transparency, colour, density, animation. Critical chunks (upper-case
/// first letter) are always kept: they are the picture.
const PNG_KEPT: [&[u8; 4]; 13] = [
    b"tRNS", b"cHRM", b"gAMA", b"iCCP", b"sBIT", b"sRGB", b"cICP", b"mDCV", b"cLLI", b"bKGD",
    b"pHYs", b"acTL", b"fcTL",
];

fn strip_png(input: &[u8], exif: Option<Vec<u8>>) -> Result<Vec<u8>, MediaError> {
    let mut png = Png::from_bytes(Bytes::copy_from_slice(input)).map_err(|_| broken("PNG"))?;
    png.chunks_mut().retain(|chunk| {
        let kind = chunk.kind();
        kind[0].is_ascii_uppercase() || &kind == b"fdAT" || PNG_KEPT.contains(&&kind)
    });
    if let Some(exif) = exif {
        // Right after IHDR, so it comes before the image data as the spec asks.
        let at = usize::from(!png.chunks().is_empty());
        png.chunks_mut()
            .insert(at, PngChunk::new(*b"eXIf", Bytes::from(exif)));
    }
    Ok(png.encoder().bytes().to_vec())
}

// --- WebP ---------------------------------------------------------------------------------

const WEBP_KEPT: [&[u8; 4]; 7] = [
    b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF", b"ICCP",
];
/// VP8X flag bits that announce metadata chunks.
const VP8X_EXIF: u8 = 0x08;
const VP8X_XMP: u8 = 0x04;

fn strip_webp(input: &[u8], exif: Option<Vec<u8>>) -> Result<Vec<u8>, MediaError> {
    let mut webp = WebP::from_bytes(Bytes::copy_from_slice(input)).map_err(|_| broken("WebP"))?;
    webp.chunks_mut()
        .retain(|chunk| WEBP_KEPT.contains(&&chunk.id()));
    let extended = webp
        .chunks()
        .iter()
        .position(|chunk| &chunk.id() == b"VP8X");
    if let Some(index) = extended {
        let data = webp.chunks()[index]
            .content()
            .data()
            .filter(|data| data.len() >= 10)
            .ok_or_else(|| broken("WebP"))?;
        let mut data = data.to_vec();
        data[0] &= !(VP8X_EXIF | VP8X_XMP);
        if exif.is_some() {
            data[0] |= VP8X_EXIF;
        }
        webp.chunks_mut()[index] = RiffChunk::new(*b"VP8X", RiffContent::Data(Bytes::from(data)));
    }
    // EXIF needs the extended format; a simple (VP8/VP8L-only) file cannot carry it, and such
    // files are small and rarely rotated: they go upright as stored.
    if let (Some(exif), Some(_)) = (exif, extended) {
        webp.chunks_mut().push(RiffChunk::new(
            *b"EXIF",
            RiffContent::Data(Bytes::from(exif)),
        ));
    }
    Ok(webp.encoder().bytes().to_vec())
}

// --- GIF ----------------------------------------------------------------------------------

/// Application extensions kept: the loop count. XMP ("XMP DataXMP") and others go.
const GIF_KEPT_APPS: [&[u8; 11]; 3] = [b"NETSCAPE2.0", b"ANIMEXTS1.0", b"ICCRGBG1012"];

/// Copies a GIF without comment and unknown application extensions; counts its frames.
fn walk_gif(input: &[u8]) -> Result<(Vec<u8>, usize), MediaError> {
    let broken = || broken("GIF");
    if !(input.starts_with(b"GIF87a") || input.starts_with(b"GIF89a")) {
        return Err(broken());
    }
    let screen = input.get(6..13).ok_or_else(broken)?;
    let mut at = 13 + color_table_len(screen[4]);
    let mut out = Vec::with_capacity(input.len());
    out.extend_from_slice(input.get(..at).ok_or_else(broken)?);
    let mut frames = 0;
    loop {
        let Some(&introducer) = input.get(at) else {
            out.push(0x3B); // missing trailer: tolerated, as by every viewer
            return Ok((out, frames));
        };
        let start = at;
        match introducer {
            0x3B => {
                out.push(0x3B);
                return Ok((out, frames));
            }
            0x21 => {
                let label = *input.get(at + 1).ok_or_else(broken)?;
                let first_block = input.get(at + 2..).ok_or_else(broken)?;
                let keep = match label {
                    0xFE => false, // comment
                    0xFF => first_block
                        .get(1..12)
                        .is_some_and(|app| GIF_KEPT_APPS.iter().any(|kept| &kept[..] == app)),
                    _ => true, // graphic control, plain text
                };
                at = skip_sub_blocks(input, at + 2).ok_or_else(broken)?;
                if keep {
                    out.extend_from_slice(&input[start..at]);
                }
            }
            0x2C => {
                let descriptor = input.get(at..at + 10).ok_or_else(broken)?;
                at += 10 + color_table_len(descriptor[9]) + 1; // + LZW minimum code size
                at = skip_sub_blocks(input, at).ok_or_else(broken)?;
                out.extend_from_slice(&input[start..at]);
                frames += 1;
            }
            _ => return Err(broken()),
        }
    }
}

/// Size of the colour table announced by a packed field (screen or image descriptor).
fn color_table_len(packed: u8) -> usize {
    if packed & 0x80 == 0 {
        0
    } else {
        3 << ((packed & 0x07) + 1)
    }
}

/// The position after a chain of data sub-blocks (ends with a zero-length block).
fn skip_sub_blocks(input: &[u8], mut at: usize) -> Option<usize> {
    loop {
        let len = usize::from(*input.get(at)?);
        at += 1 + len;
        if len == 0 {
            return Some(at);
        }
        if at > input.len() {
            return None;
        }
    }
}
