//! Image pipeline (issue 7), side by side in one run with the `image` crate alone:
//! - a 12 MP (4000×3000) phone-like JPEG → 1280 px JPEG q80: [`hongyan_sdk::media::compress`]
//!   vs `image` (decode, `resize(…, Lanczos3)`, `JpegEncoder` q80);
//! - a 2560×1440 PNG screenshot → 1280 px, the same two ways;
//! - a PNG with transparency (stays PNG) and a large animated GIF (sent as is).
//!
//! For each: time (median, min, max of N runs), output bytes, and quality against a
//! reference resize (`image`'s Lanczos3 in f32 from the same decoded source): PSNR (RGB) and
//! SSIM (luma, 8×8 windows, stride 4). Then the stages of the 12 MP photo one by one.
//!
//! `cargo bench -p hongyan-bench --bench image` (HONGYAN_BENCH_RUNS overrides 15 runs).

use std::hint::black_box;
use std::time::{Duration, Instant};

use hongyan_sdk::media::{compress, sample, CompressOptions};
use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, GenericImageView, RgbImage};

fn runs() -> usize {
    std::env::var("HONGYAN_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(15)
}

struct Timing {
    median: Duration,
    min: Duration,
    max: Duration,
    /// Median CPU time of the process: what the work costs, whatever else runs on the machine.
    cpu: Duration,
}

/// CPU time used by this process so far (all threads).
fn cpu_now() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes the timespec it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

#[derive(Default)]
struct Samples {
    wall: Vec<Duration>,
    cpu: Vec<Duration>,
}

impl Samples {
    fn run<T>(&mut self, f: &mut impl FnMut() -> T) -> T {
        let (wall, cpu) = (Instant::now(), cpu_now());
        let out = black_box(f());
        self.cpu.push(cpu_now() - cpu);
        self.wall.push(wall.elapsed());
        out
    }

    fn timing(mut self) -> Timing {
        self.wall.sort();
        self.cpu.sort();
        Timing {
            median: self.wall[self.wall.len() / 2],
            min: self.wall[0],
            max: self.wall[self.wall.len() - 1],
            cpu: self.cpu[self.cpu.len() / 2],
        }
    }
}

/// Runs `f` once to warm up, then `runs` times.
fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (Timing, T) {
    let mut last = f();
    let mut samples = Samples::default();
    for _ in 0..runs {
        last = samples.run(&mut f);
    }
    (samples.timing(), last)
}

/// Like [`time`] for two contenders, alternating them run by run so that the other work on
/// a noisy machine falls on both alike.
fn time_pair<A, B>(
    runs: usize,
    mut a: impl FnMut() -> A,
    mut b: impl FnMut() -> B,
) -> ((Timing, A), (Timing, B)) {
    let (mut last_a, mut last_b) = (a(), b());
    let (mut sa, mut sb) = (Samples::default(), Samples::default());
    for _ in 0..runs {
        last_a = sa.run(&mut a);
        last_b = sb.run(&mut b);
    }
    ((sa.timing(), last_a), (sb.timing(), last_b))
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

/// The `image` crate alone: decode, Lanczos3 to a 1280 px long edge, JPEG q80.
fn image_crate_only(input: &[u8]) -> Vec<u8> {
    let decoded = image::load_from_memory(input).expect("decodes");
    let resized = decoded.resize(1280, 1280, FilterType::Lanczos3).to_rgb8();
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 80)
        .encode_image(&resized)
        .expect("encodes");
    out
}

/// The reference every output is compared with: the source resized in f32 with Lanczos3.
fn reference(input: &[u8], width: u32, height: u32) -> RgbImage {
    let decoded = image::load_from_memory(input).expect("decodes");
    DynamicImage::ImageRgb32F(decoded.to_rgb32f())
        .resize_exact(width, height, FilterType::Lanczos3)
        .to_rgb8()
}

fn psnr(a: &RgbImage, b: &RgbImage) -> f64 {
    let sum: f64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum();
    let mse = sum / a.as_raw().len() as f64;
    if mse == 0.0 {
        return f64::INFINITY;
    }
    10.0 * (255.0 * 255.0 / mse).log10()
}

fn luma(image: &RgbImage) -> Vec<f64> {
    image
        .pixels()
        .map(|p| 0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2]))
        .collect()
}

/// Mean SSIM over 8×8 windows (stride 4) of the luma, constants of Wang et al. 2004.
fn ssim(a: &RgbImage, b: &RgbImage) -> f64 {
    let (w, h) = (a.width() as usize, a.height() as usize);
    let (la, lb) = (luma(a), luma(b));
    let (c1, c2) = ((0.01f64 * 255.0).powi(2), (0.03f64 * 255.0).powi(2));
    let (mut total, mut windows) = (0.0, 0usize);
    for y in (0..h.saturating_sub(7)).step_by(4) {
        for x in (0..w.saturating_sub(7)).step_by(4) {
            let (mut sa, mut sb, mut saa, mut sbb, mut sab) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for dy in 0..8 {
                for dx in 0..8 {
                    let i = (y + dy) * w + x + dx;
                    let (p, q) = (la[i], lb[i]);
                    sa += p;
                    sb += q;
                    saa += p * p;
                    sbb += q * q;
                    sab += p * q;
                }
            }
            let n = 64.0;
            let (ma, mb) = (sa / n, sb / n);
            let (va, vb) = (saa / n - ma * ma, sbb / n - mb * mb);
            let cov = sab / n - ma * mb;
            total += ((2.0 * ma * mb + c1) * (2.0 * cov + c2))
                / ((ma * ma + mb * mb + c1) * (va + vb + c2));
            windows += 1;
        }
    }
    total / windows as f64
}

struct Row {
    case: &'static str,
    method: &'static str,
    timing: Timing,
    input: usize,
    output: usize,
    size: (u32, u32),
    quality: Option<(f64, f64)>,
}

fn print(rows: &[Row]) {
    println!(
        "| case | method | median ms | min ms | max ms | CPU ms (median) | input bytes | output bytes | output px | PSNR dB | SSIM |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|");
    for r in rows {
        let (psnr, ssim) = match r.quality {
            Some((p, s)) => (format!("{p:.2}"), format!("{s:.4}")),
            None => ("—".into(), "—".into()),
        };
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {}×{} | {} | {} |",
            r.case,
            r.method,
            ms(r.timing.median),
            ms(r.timing.min),
            ms(r.timing.max),
            ms(r.timing.cpu),
            r.input,
            r.output,
            r.size.0,
            r.size.1,
            psnr,
            ssim
        );
    }
}

/// Pipeline vs `image` crate on one input that both turn into a 1280 px JPEG.
fn side_by_side(rows: &mut Vec<Row>, case: &'static str, input: &[u8], runs: usize) {
    let options = CompressOptions::default();
    let ((timing, ours), (theirs_timing, theirs)) = time_pair(
        runs,
        || compress(input, &options).expect("compresses"),
        || image_crate_only(input),
    );
    let (w, h) = (ours.width, ours.height);
    let reference = reference(input, w, h);
    let decoded = image::load_from_memory(&ours.bytes)
        .expect("decodes")
        .to_rgb8();
    rows.push(Row {
        case,
        method: "pipeline (compress)",
        timing,
        input: input.len(),
        output: ours.bytes.len(),
        size: (w, h),
        quality: Some((psnr(&decoded, &reference), ssim(&decoded, &reference))),
    });

    let timing = theirs_timing;
    let decoded = image::load_from_memory(&theirs).expect("decodes").to_rgb8();
    assert_eq!(decoded.dimensions(), (w, h), "same output size");
    rows.push(Row {
        case,
        method: "image crate (Lanczos3 + JpegEncoder q80)",
        timing,
        input: input.len(),
        output: theirs.len(),
        size: (w, h),
        quality: Some((psnr(&decoded, &reference), ssim(&decoded, &reference))),
    });
}

fn stage_row(name: &str, timing: &Timing, quality: Option<(&RgbImage, &RgbImage)>) {
    let quality = quality
        .map(|(image, reference)| {
            format!(
                "{:.2} | {:.4}",
                psnr(image, reference),
                ssim(image, reference)
            )
        })
        .unwrap_or_else(|| "— | —".into());
    println!(
        "| {name} | {} | {} | {} | {quality} |",
        ms(timing.median),
        ms(timing.min),
        ms(timing.cpu)
    );
}

/// The 12 MP photo stage by stage, to see where the time goes; PSNR/SSIM of resized pixels
/// (before JPEG) against the f32 reference.
fn stages(input: &[u8], runs: usize) {
    use fast_image_resize::{FilterType as Fir, ResizeAlg, ResizeOptions, Resizer};
    let fir = |image: &DynamicImage, filter: Fir| {
        let mut target = DynamicImage::new(1280, 960, image.color());
        Resizer::new()
            .resize(
                image,
                &mut target,
                &ResizeOptions::new().resize_alg(ResizeAlg::Convolution(filter)),
            )
            .expect("resizes");
        target
    };
    let half_decode = || {
        let mut decoder = jpeg_decoder::Decoder::new(input);
        let (w, h) = decoder.scale(1280, 960).expect("scales");
        let pixels = decoder.decode().expect("decodes");
        DynamicImage::ImageRgb8(
            RgbImage::from_raw(u32::from(w), u32::from(h), pixels).expect("RGB"),
        )
    };
    let reference = reference(input, 1280, 960);

    println!("\nStages of the 12 MP photo ({runs} runs each):\n");
    println!("| stage | median ms | min ms | CPU ms (median) | PSNR dB | SSIM |");
    println!("|---|---:|---:|---:|---:|---:|");
    let ((full, decoded), (half, _)) = time_pair(
        runs,
        || image::load_from_memory(input).expect("decodes"),
        half_decode,
    );
    stage_row("decode 4000×3000 (image crate: zune-jpeg)", &full, None);
    stage_row(
        "decode at 1/2 → 2000×1500 (jpeg-decoder scaled IDCT)",
        &half,
        None,
    );
    for (name, filter) in [
        ("Lanczos3", Fir::Lanczos3),
        ("CatmullRom", Fir::CatmullRom),
        ("Bilinear", Fir::Bilinear),
    ] {
        let (timing, resized) = time(runs, || fir(&decoded, filter));
        let name = format!("resize 4000×3000 → 1280×960, fast_image_resize {name}");
        stage_row(&name, &timing, Some((&resized.to_rgb8(), &reference)));
    }
    let (timing, resized) = time(runs.min(5), || {
        decoded.resize(1280, 1280, FilterType::Lanczos3)
    });
    let name = "resize 4000×3000 → 1280×960, image crate Lanczos3";
    stage_row(name, &timing, Some((&resized.to_rgb8(), &reference)));

    // The two ways from the file to 1280×960 pixels, alternated run by run.
    let ((full, via_full), (half, via_half)) = time_pair(
        runs,
        || {
            fir(
                &image::load_from_memory(input).expect("decodes"),
                Fir::Lanczos3,
            )
        },
        || fir(&half_decode(), Fir::Lanczos3),
    );
    let name = "full decode + Lanczos3 4000→1280";
    stage_row(name, &full, Some((&via_full.to_rgb8(), &reference)));
    let name = "1/2-scale decode + Lanczos3 2000→1280 (the pipeline)";
    stage_row(name, &half, Some((&via_half.to_rgb8(), &reference)));

    let rgb = via_half.to_rgb8();
    let ((ours, _), (theirs, _)) = time_pair(
        runs,
        || {
            let mut out = Vec::new();
            jpeg_encoder::Encoder::new(&mut out, 80)
                .encode(rgb.as_raw(), 1280, 960, jpeg_encoder::ColorType::Rgb)
                .expect("encodes");
            out
        },
        || {
            let mut out = Vec::new();
            JpegEncoder::new_with_quality(&mut out, 80)
                .encode_image(&rgb)
                .expect("encodes");
            out
        },
    );
    stage_row("encode 1280×960 q80, jpeg-encoder", &ours, None);
    stage_row(
        "encode 1280×960 q80, image crate JpegEncoder",
        &theirs,
        None,
    );
}

/// Encoders for a picture with transparency (what stays PNG), on the resized sticker.
fn alpha_encoders(sticker: &DynamicImage, runs: usize) {
    use image::codecs::png::{CompressionType, FilterType as PngFilter, PngEncoder};
    use image::codecs::webp::WebPEncoder;
    use image::ImageEncoder;
    let image = sticker.resize(1280, 1280, FilterType::Lanczos3);
    let png = |compression| {
        let mut out = Vec::new();
        PngEncoder::new_with_quality(&mut out, compression, PngFilter::Adaptive)
            .write_image(
                image.as_bytes(),
                image.width(),
                image.height(),
                image.color().into(),
            )
            .expect("encodes");
        out
    };
    println!(
        "\nEncoders for a {}×{} picture with transparency ({runs} runs each):\n",
        image.width(),
        image.height()
    );
    println!("| encoder | median ms | min ms | bytes |\n|---|---:|---:|---:|");
    for (name, compression) in [
        ("PNG fast", CompressionType::Fast),
        ("PNG default (the pipeline)", CompressionType::Default),
        ("PNG best", CompressionType::Best),
    ] {
        let (timing, out) = time(runs, || png(compression));
        println!(
            "| {name} | {} | {} | {} |",
            ms(timing.median),
            ms(timing.min),
            out.len()
        );
    }
    let (timing, out) = time(runs, || {
        let mut out = Vec::new();
        WebPEncoder::new_lossless(&mut out)
            .write_image(
                image.as_bytes(),
                image.width(),
                image.height(),
                image.color().into(),
            )
            .expect("encodes");
        out
    });
    println!(
        "| WebP lossless (image-webp) | {} | {} | {} |",
        ms(timing.median),
        ms(timing.min),
        out.len()
    );
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else to parse.
    let runs = runs();
    println!("Image pipeline vs the image crate alone, {runs} runs each (after one warm-up).\n");
    let mut rows = Vec::new();

    let photo = sample::jpeg(
        &sample::photo(4000, 3000, 2026),
        92,
        Some(&sample::exif(1, true)),
    );
    side_by_side(&mut rows, "12 MP photo JPEG", &photo, runs);

    let screenshot = sample::png(
        &DynamicImage::ImageRgb8(sample::screenshot(2560, 1440, 7)),
        None,
    );
    side_by_side(&mut rows, "2560×1440 PNG screenshot", &screenshot, runs);

    let sticker = sample::png(
        &DynamicImage::ImageRgba8(sample::transparent(2000, 2000)),
        None,
    );
    let options = CompressOptions::default();
    let (timing, out) = time(runs, || compress(&sticker, &options).expect("compresses"));
    assert_eq!(out.mime, "image/png");
    rows.push(Row {
        case: "2000×2000 PNG with alpha",
        method: "pipeline (stays PNG)",
        timing,
        input: sticker.len(),
        output: out.bytes.len(),
        size: (out.width, out.height),
        quality: None,
    });

    let gif = sample::animated_gif(640, 480, 40);
    let (timing, out) = time(runs, || compress(&gif, &options).expect("compresses"));
    assert!(out.kept_original);
    let frame = image::load_from_memory(&gif).expect("decodes");
    rows.push(Row {
        case: "640×480 animated GIF, 40 frames",
        method: "pipeline (as is + first-frame thumbnail)",
        timing,
        input: gif.len(),
        output: out.bytes.len(),
        size: frame.dimensions(),
        quality: None,
    });

    print(&rows);
    stages(&photo, runs);
    alpha_encoders(
        &DynamicImage::ImageRgba8(sample::transparent(2000, 2000)),
        runs,
    );
}
