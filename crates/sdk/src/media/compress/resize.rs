//! Shrinking with fast_image_resize (SIMD convolution); never enlarging.

use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};
use image::DynamicImage;

use super::MediaError;

/// The filter for every downscale. Lanczos3 keeps photos and text strokes sharpest; with
/// fast_image_resize's SIMD it costs a few milliseconds more than CatmullRom at 12 MP
/// (docs/BENCHMARKS.md, "Image pipeline").
const FILTER: FilterType = FilterType::Lanczos3;

/// The image scaled so that its long edge is at most `long_edge`; returned as it is when it
/// already fits.
pub(super) fn fit(image: DynamicImage, long_edge: u32) -> Result<DynamicImage, MediaError> {
    let Some((width, height)) = target_size(image.width(), image.height(), long_edge) else {
        return Ok(image);
    };
    let mut target = DynamicImage::new(width, height, image.color());
    Resizer::new()
        .resize(
            &image,
            &mut target,
            &ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FILTER)),
        )
        .map_err(|e| MediaError::Encode(format!("resize: {e}")))?;
    Ok(target)
}

/// The size with the long edge reduced to `long_edge`, aspect ratio kept (each side ≥ 1 px);
/// `None` when the image already fits.
pub(super) fn target_size(width: u32, height: u32, long_edge: u32) -> Option<(u32, u32)> {
    let long = width.max(height);
    if long <= long_edge {
        return None;
    }
    let scale = |side: u32| {
        let scaled =
            (u64::from(side) * u64::from(long_edge) + u64::from(long) / 2) / u64::from(long);
        (scaled as u32).max(1)
    };
    Some((scale(width), scale(height)))
}
