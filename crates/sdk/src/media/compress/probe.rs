//! What the input is, read from its header only: format (sniffed from the bytes), size,
//! orientation, colour profile, animation. Limits are enforced here, before any decoding.

use std::io::Cursor;

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

use super::{decode, CompressOptions, MediaError};

/// The formats that can be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Jpeg,
    Png,
    Gif,
    WebP,
}

impl Format {
    pub fn mime(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Gif => "image/gif",
            Format::WebP => "image/webp",
        }
    }

    fn image_format(self) -> ImageFormat {
        match self {
            Format::Jpeg => ImageFormat::Jpeg,
            Format::Png => ImageFormat::Png,
            Format::Gif => ImageFormat::Gif,
            Format::WebP => ImageFormat::WebP,
        }
    }
}

pub(super) fn check_input_size(len: usize, limit: u64) -> Result<(), MediaError> {
    let bytes = len as u64;
    if bytes > limit {
        return Err(MediaError::TooLarge { bytes, limit });
    }
    Ok(())
}

/// The format from the file's magic bytes (never from a name or a declared type).
pub(super) fn sniff(input: &[u8]) -> Result<Format, MediaError> {
    match image::guess_format(input) {
        Ok(ImageFormat::Jpeg) => Ok(Format::Jpeg),
        Ok(ImageFormat::Png) => Ok(Format::Png),
        Ok(ImageFormat::Gif) => Ok(Format::Gif),
        Ok(ImageFormat::WebP) => Ok(Format::WebP),
        Ok(other) => Err(MediaError::Unsupported(format!("{other:?}"))),
        Err(_) => Err(MediaError::Unsupported(
            "not a recognised image format".to_owned(),
        )),
    }
}

/// An image whose header has been read and checked against the limits; nothing decoded yet.
pub(super) struct Source<'a> {
    decoder: Box<dyn ImageDecoder + 'a>,
    input: &'a [u8],
    pub format: Format,
    /// Stored size (before orientation).
    pub width: u32,
    pub height: u32,
    pub orientation: Orientation,
    pub icc: Option<Vec<u8>>,
    /// More than one frame (GIF, APNG, animated WebP).
    pub animated: bool,
}

pub(super) fn open<'a>(
    input: &'a [u8],
    format: Format,
    options: &CompressOptions,
) -> Result<Source<'a>, MediaError> {
    let mut reader = ImageReader::with_format(Cursor::new(input), format.image_format());
    reader.limits(decoder_limits(options.max_pixels));
    let mut decoder = reader.into_decoder().map_err(decode_error)?;
    let (width, height) = decoder.dimensions();
    let pixels = u64::from(width) * u64::from(height);
    if pixels > options.max_pixels {
        return Err(MediaError::TooManyPixels {
            width,
            height,
            limit: options.max_pixels,
        });
    }
    if width == 0 || height == 0 {
        return Err(MediaError::Decode(
            "the image is empty (0 pixels)".to_owned(),
        ));
    }
    // A damaged EXIF block only loses its orientation; the pixels are still fine.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let icc = decoder.icc_profile().ok().flatten();
    Ok(Source {
        decoder: Box::new(decoder),
        input,
        format,
        width,
        height,
        orientation,
        icc,
        animated: is_animated(input, format),
    })
}

impl Source<'_> {
    /// Decodes the (first) frame in 8-bit channels, possibly reduced in the decoder (JPEG DCT
    /// scaling) as long as its long edge stays ≥ `long_edge` or the full size.
    pub fn decode(self, long_edge: u32) -> Result<DynamicImage, MediaError> {
        if self.format == Format::Jpeg {
            if let Some(image) = decode::jpeg_scaled(self.input, self.width, self.height, long_edge)
            {
                return Ok(image);
            }
        }
        let image = DynamicImage::from_decoder(self.decoder).map_err(decode_error)?;
        Ok(decode::to_8bit(image))
    }
}

/// The image crate's own allocation guard: a header that lies (a GIF frame larger than its
/// screen, say) still cannot make the decoder allocate more than the pixel limit allows.
fn decoder_limits(max_pixels: u64) -> Limits {
    let mut limits = Limits::default();
    // 16-bit RGBA is the widest pixel the decoders produce; plus room for their own buffers.
    limits.max_alloc = Some(max_pixels.saturating_mul(8).saturating_add(64 << 20));
    limits
}

pub(super) fn decode_error(error: image::ImageError) -> MediaError {
    match error {
        image::ImageError::Unsupported(e) => MediaError::Unsupported(e.to_string()),
        other => MediaError::Decode(other.to_string()),
    }
}

fn is_animated(input: &[u8], format: Format) -> bool {
    match format {
        Format::Jpeg => false,
        Format::Gif => super::metadata::gif_frame_count(input).is_ok_and(|n| n > 1),
        Format::Png => png_is_animated(input),
        Format::WebP => webp_is_animated(input),
    }
}

/// APNG: an `acTL` chunk before the first `IDAT`.
fn png_is_animated(input: &[u8]) -> bool {
    let mut at = 8;
    while let Some(header) = input.get(at..at + 8) {
        let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        match &header[4..8] {
            b"acTL" => return true,
            b"IDAT" | b"IEND" => return false,
            _ => at = at.saturating_add(12).saturating_add(len),
        }
    }
    false
}

/// Animated WebP: the animation flag of the `VP8X` chunk.
fn webp_is_animated(input: &[u8]) -> bool {
    input.get(12..16) == Some(b"VP8X") && input.get(20).is_some_and(|flags| flags & 0x02 != 0)
}
