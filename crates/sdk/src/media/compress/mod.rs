//! Image compression before upload (docs/MEDIA.md, "SDK"): EXIF orientation applied, long edge
//! to 1280 px (HD 2560, never upscaled), JPEG q80 or PNG when the image has transparency,
//! animations sent as they are, metadata (EXIF/GPS/XMP) removed from every output, and a
//! ≤ 320 px still thumbnail. Pure and synchronous, no I/O: callers run it on a blocking thread.
//!
//! Decompression bombs are refused from the header, before any pixel buffer is allocated.

mod decode;
mod encode;
mod metadata;
mod probe;
mod resize;
#[cfg(test)]
mod tests;

use image::metadata::Orientation;
use serde::{Deserialize, Serialize};

pub use probe::Format;

/// Long edge of the thumbnail, in pixels.
pub const THUMB_LONG_EDGE: u32 = 320;

/// The user's choice of how much to shrink an image before sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageQuality {
    /// Long edge 1280 px.
    #[default]
    Standard,
    /// Long edge 2560 px.
    Hd,
    /// The file as it is, only its metadata removed.
    Original,
}

impl ImageQuality {
    /// The long edge an image is shrunk to; `None` for [`ImageQuality::Original`].
    pub fn long_edge(self) -> Option<u32> {
        match self {
            ImageQuality::Standard => Some(1280),
            ImageQuality::Hd => Some(2560),
            ImageQuality::Original => None,
        }
    }

    /// The wire name (`standard`, `hd`, `original`), as in the app's `quality` header.
    pub fn as_str(self) -> &'static str {
        match self {
            ImageQuality::Standard => "standard",
            ImageQuality::Hd => "hd",
            ImageQuality::Original => "original",
        }
    }
}

impl std::str::FromStr for ImageQuality {
    type Err = MediaError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "standard" => Ok(ImageQuality::Standard),
            "hd" => Ok(ImageQuality::Hd),
            "original" => Ok(ImageQuality::Original),
            other => Err(MediaError::InvalidQuality(other.to_owned())),
        }
    }
}

/// Limits and settings of [`compress`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompressOptions {
    pub quality: ImageQuality,
    /// Inputs longer than this are refused with [`MediaError::TooLarge`].
    pub max_input_bytes: u64,
    /// Images with more pixels (per frame) are refused with [`MediaError::TooManyPixels`].
    pub max_pixels: u64,
    /// JPEG quality, 1–100.
    pub jpeg_quality: u8,
    /// An upright image smaller than this (bytes) that already fits the size is sent as it is.
    pub keep_below: usize,
}

impl Default for CompressOptions {
    fn default() -> Self {
        CompressOptions {
            quality: ImageQuality::Standard,
            max_input_bytes: 64 * 1024 * 1024,
            max_pixels: 100_000_000,
            jpeg_quality: 80,
            keep_below: 100 * 1024,
        }
    }
}

impl CompressOptions {
    /// The defaults with the given quality.
    pub fn for_quality(quality: ImageQuality) -> Self {
        CompressOptions {
            quality,
            ..CompressOptions::default()
        }
    }
}

/// The image to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compressed {
    pub bytes: Vec<u8>,
    pub mime: &'static str,
    /// Pixel size of `bytes` as displayed (after orientation).
    pub width: u32,
    pub height: u32,
    /// `None` when the image itself is ≤ [`THUMB_LONG_EDGE`] px: it is its own thumbnail.
    pub thumb: Option<Still>,
    /// `bytes` is the input file with only its metadata removed.
    pub kept_original: bool,
}

/// A still image (the thumbnail).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Still {
    pub bytes: Vec<u8>,
    pub mime: &'static str,
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    #[error("the image is too large: {bytes} bytes (the limit is {limit})")]
    TooLarge { bytes: u64, limit: u64 },
    #[error("the image has too many pixels: {width}×{height} (the limit is {limit} pixels)")]
    TooManyPixels { width: u32, height: u32, limit: u64 },
    #[error("unsupported image format: {0} (JPEG, PNG, GIF and WebP can be sent)")]
    Unsupported(String),
    #[error("the image cannot be read: {0}")]
    Decode(String),
    #[error("the image cannot be encoded: {0}")]
    Encode(String),
    #[error("unknown image quality {0:?} (standard, hd or original)")]
    InvalidQuality(String),
}

/// Prepares an image for sending; see the module documentation for the rules.
pub fn compress(input: &[u8], options: &CompressOptions) -> Result<Compressed, MediaError> {
    probe::check_input_size(input.len(), options.max_input_bytes)?;
    let format = probe::sniff(input)?;
    let mut source = probe::open(input, format, options)?;
    let (width, height) = oriented_size(source.width, source.height, source.orientation);
    let upright = source.orientation == Orientation::NoTransforms;
    let long_edge = options.quality.long_edge();

    // Sent as they are: the original on request, animations (never transcoded), and small
    // upright files that already fit.
    let fits = long_edge.is_none_or(|edge| width.max(height) <= edge);
    let small = input.len() < options.keep_below && upright && fits;
    let orientation = source.orientation;
    let icc = source.icc.take();
    if long_edge.is_none() || source.animated || small {
        let bytes = metadata::strip(input, format, orientation)?;
        // Decoded even when no thumbnail is needed: a file that does not decode is not sent.
        let still = source.decode(THUMB_LONG_EDGE)?;
        let thumb = if width.max(height) > THUMB_LONG_EDGE {
            Some(encode::thumbnail(still, orientation, options)?)
        } else {
            None
        };
        return Ok(Compressed {
            bytes,
            mime: format.mime(),
            width,
            height,
            thumb,
            kept_original: true,
        });
    }

    let edge = long_edge.unwrap_or(u32::MAX);
    let decoded = source.decode(edge)?;
    let mut image = resize::fit(decoded, edge)?;
    image.apply_orientation(orientation);
    let encoded = encode::encode(&image, icc.as_deref(), options)?;
    // The target edge is ≥ 1280, so the image needs a thumbnail exactly when the input does.
    let thumb = if image.width().max(image.height()) > THUMB_LONG_EDGE {
        Some(encode::thumbnail(
            image.clone(),
            Orientation::NoTransforms,
            options,
        )?)
    } else {
        None
    };

    // Re-encoding did not pay: send the original, metadata removed (a turned one keeps its
    // orientation as a minimal EXIF block, as with `Original`).
    let stripped = metadata::strip(input, format, orientation)?;
    if stripped.len() <= encoded.bytes.len() {
        return Ok(Compressed {
            bytes: stripped,
            mime: format.mime(),
            width,
            height,
            thumb,
            kept_original: true,
        });
    }

    Ok(Compressed {
        width: image.width(),
        height: image.height(),
        bytes: encoded.bytes,
        mime: encoded.mime,
        thumb,
        kept_original: false,
    })
}

/// Width and height as displayed: EXIF orientations 5–8 swap them.
fn oriented_size(width: u32, height: u32, orientation: Orientation) -> (u32, u32) {
    match orientation {
        Orientation::Rotate90
        | Orientation::Rotate270
        | Orientation::Rotate90FlipH
        | Orientation::Rotate270FlipH => (height, width),
        _ => (width, height),
    }
}
