//! Decoding to 8-bit pixels; large JPEGs are reduced while decoding.

use image::{DynamicImage, GrayImage, RgbImage};
use jpeg_decoder::PixelFormat;

use super::resize::target_size;

/// A JPEG decoded at 1/2, 1/4 or 1/8 scale (jpeg-decoder's scaled IDCT) when the target is at
/// most half its size, still at least the target size; `None` when a full-size decode is
/// needed, or the file is one jpeg-decoder does not handle here (CMYK, 12-bit, or an error:
/// the image crate's decoder then gets its chance and reports what is wrong).
///
/// At 12 MP → 1280 px this decodes a quarter of the pixels and hands the resizer a 2000 px
/// image instead of a 4000 px one (docs/BENCHMARKS.md, "Image pipeline").
pub(super) fn jpeg_scaled(
    input: &[u8],
    width: u32,
    height: u32,
    long_edge: u32,
) -> Option<DynamicImage> {
    let (target_w, target_h) = target_size(width, height, long_edge)?;
    if target_w.saturating_mul(2) > width || target_h.saturating_mul(2) > height {
        return None;
    }
    let mut decoder = jpeg_decoder::Decoder::new(input);
    decoder.read_info().ok()?;
    let format = decoder.info()?.pixel_format;
    if !matches!(format, PixelFormat::RGB24 | PixelFormat::L8) {
        return None;
    }
    let (w, h) = decoder
        .scale(u16::try_from(target_w).ok()?, u16::try_from(target_h).ok()?)
        .ok()?;
    let pixels = decoder.decode().ok()?;
    let (w, h) = (u32::from(w), u32::from(h));
    match format {
        PixelFormat::RGB24 => RgbImage::from_raw(w, h, pixels).map(DynamicImage::ImageRgb8),
        _ => GrayImage::from_raw(w, h, pixels).map(DynamicImage::ImageLuma8),
    }
}

/// 16-bit and float images become 8-bit: every output format here is 8-bit.
pub(super) fn to_8bit(image: DynamicImage) -> DynamicImage {
    match image {
        DynamicImage::ImageLuma8(_)
        | DynamicImage::ImageLumaA8(_)
        | DynamicImage::ImageRgb8(_)
        | DynamicImage::ImageRgba8(_) => image,
        DynamicImage::ImageLuma16(_) => DynamicImage::ImageLuma8(image.to_luma8()),
        DynamicImage::ImageLumaA16(_) => DynamicImage::ImageLumaA8(image.to_luma_alpha8()),
        other if other.color().has_alpha() => DynamicImage::ImageRgba8(other.to_rgba8()),
        other => DynamicImage::ImageRgb8(other.to_rgb8()),
    }
}
