//! Decoding to 8-bit pixels.

use image::DynamicImage;

use super::MediaError;

/// A JPEG decoded at a reduced scale when the target is at most half its size; `None` when
/// the full-size decode is needed.
pub(super) fn jpeg_scaled(
    _input: &[u8],
    _width: u32,
    _height: u32,
    _long_edge: u32,
) -> Result<Option<DynamicImage>, MediaError> {
    Ok(None)
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
