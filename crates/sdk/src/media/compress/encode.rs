//! Encoding: JPEG (jpeg-encoder, SIMD) for opaque images, PNG for images with transparency.

use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::metadata::Orientation;
use image::{DynamicImage, ImageEncoder};
use jpeg_encoder::{ColorType, Encoder};

use super::{resize, CompressOptions, MediaError, Still, THUMB_LONG_EDGE};

pub(super) struct Encoded {
    pub bytes: Vec<u8>,
    pub mime: &'static str,
}

/// JPEG at the configured quality, or PNG when some pixel is not fully opaque. The colour
/// profile, when there is one, goes along: without it wide-gamut photos look washed out.
pub(super) fn encode(
    image: &DynamicImage,
    icc: Option<&[u8]>,
    options: &CompressOptions,
) -> Result<Encoded, MediaError> {
    if is_transparent(image) {
        return png(image, icc);
    }
    jpeg(image, icc, options.jpeg_quality)
}

/// The ≤ 320 px still shown in the chat before (or instead of) the image.
pub(super) fn thumbnail(
    image: DynamicImage,
    orientation: Orientation,
    options: &CompressOptions,
) -> Result<Still, MediaError> {
    let mut small = resize::fit(image, THUMB_LONG_EDGE)?;
    small.apply_orientation(orientation);
    let encoded = encode(&small, None, options)?;
    Ok(Still {
        bytes: encoded.bytes,
        mime: encoded.mime,
        width: small.width(),
        height: small.height(),
    })
}

fn is_transparent(image: &DynamicImage) -> bool {
    match image {
        DynamicImage::ImageLumaA8(buffer) => buffer.pixels().any(|p| p.0[1] != u8::MAX),
        DynamicImage::ImageRgba8(buffer) => buffer.pixels().any(|p| p.0[3] != u8::MAX),
        _ => false,
    }
}

fn jpeg(image: &DynamicImage, icc: Option<&[u8]>, quality: u8) -> Result<Encoded, MediaError> {
    let width = u16::try_from(image.width()).map_err(|_| too_wide(image))?;
    let height = u16::try_from(image.height()).map_err(|_| too_wide(image))?;
    let mut bytes = Vec::with_capacity(image.width() as usize * image.height() as usize / 8);
    let mut encoder = Encoder::new(&mut bytes, quality.clamp(1, 100));
    // Standard Huffman tables: jpeg-encoder's optimized ones (≈ 5 % smaller) decode with wrong
    // colours in zune-jpeg 0.5 (the image crate's decoder, so our own receivers), although
    // libjpeg reads them fine.
    if let Some(icc) = icc {
        encoder.add_icc_profile(icc).map_err(encode_error)?;
    }
    let result = match image {
        DynamicImage::ImageLuma8(buffer) => {
            encoder.encode(buffer.as_raw(), width, height, ColorType::Luma)
        }
        DynamicImage::ImageRgb8(buffer) => {
            encoder.encode(buffer.as_raw(), width, height, ColorType::Rgb)
        }
        DynamicImage::ImageLumaA8(_) => {
            let luma = image.to_luma8();
            encoder.encode(luma.as_raw(), width, height, ColorType::Luma)
        }
        other => {
            let rgb = other.to_rgb8();
            encoder.encode(rgb.as_raw(), width, height, ColorType::Rgb)
        }
    };
    result.map_err(encode_error)?;
    Ok(Encoded {
        bytes,
        mime: "image/jpeg",
    })
}

fn png(image: &DynamicImage, icc: Option<&[u8]>) -> Result<Encoded, MediaError> {
    let mut bytes = Vec::new();
    let mut encoder =
        PngEncoder::new_with_quality(&mut bytes, CompressionType::Default, FilterType::Adaptive);
    if let Some(icc) = icc {
        encoder
            .set_icc_profile(icc.to_vec())
            .map_err(|e| MediaError::Encode(e.to_string()))?;
    }
    encoder
        .write_image(
            image.as_bytes(),
            image.width(),
            image.height(),
            image.color().into(),
        )
        .map_err(|e| MediaError::Encode(e.to_string()))?;
    Ok(Encoded {
        bytes,
        mime: "image/png",
    })
}

fn too_wide(image: &DynamicImage) -> MediaError {
    MediaError::Encode(format!(
        "{}×{} is beyond JPEG's 65535 px",
        image.width(),
        image.height()
    ))
}

fn encode_error(error: jpeg_encoder::EncodingError) -> MediaError {
    MediaError::Encode(error.to_string())
}
