//! What the camera's second layer costs its publisher: VP8 encoding of the app's camera
//! (640×360 at 15 fps, 500 kbit/s) alone, and with the small layer beside it (the frame
//! halved to 320×180, at the app's small-layer rate), as fast as it goes on one thread.

use std::time::{Duration, Instant};

use studyhall_client::codec::scale::half_i420;
use studyhall_client::codec::vp8::Vp8Encoder;
use studyhall_client::media::publish::SMALL_LAYER_KBPS;
use studyhall_client::source::pattern::PatternGenerator;

use super::relay::cpu_time;

const WIDTH: u32 = 640;
const HEIGHT: u32 = 360;
const FPS: u32 = 15;

/// One way of encoding `video` worth of the camera.
#[derive(Debug, Clone)]
pub struct EncodeCost {
    pub what: String,
    pub video: Duration,
    pub cpu: Duration,
}

impl EncodeCost {
    pub const MARKDOWN_HEADER: &'static str = "| what is encoded | video | CPU per camera frame | share of one core at 15 fps |\n|---|---:|---:|---:|";

    fn frames(&self) -> f64 {
        self.video.as_secs_f64() * f64::from(FPS)
    }

    pub fn markdown(&self) -> String {
        let per_frame = self.cpu.as_secs_f64() / self.frames();
        format!(
            "| {} | {:.0} s | {:.2} ms | {:.1}% |",
            self.what,
            self.video.as_secs_f64(),
            per_frame * 1e3,
            per_frame * f64::from(FPS) * 100.0
        )
    }
}

/// Encode `video` worth of the test pattern with one layer, then with two.
pub fn measure(video: Duration) -> Result<Vec<EncodeCost>, String> {
    let frames = (video.as_secs_f64() * f64::from(FPS)) as u64;
    let mut pattern = PatternGenerator::new(WIDTH, HEIGHT, "encoder");
    // 2 s of moving pattern, made once and cycled, so making it is not measured.
    let input: Vec<Vec<u8>> = (0..u64::from(2 * FPS))
        .map(|i| pattern.next_frame(i * 1000 / u64::from(FPS)).0)
        .collect();
    let pid = std::process::id();
    let mut out = Vec::new();
    for (what, two) in [
        (
            "the camera, one layer (640×360, 500 kbit/s)".to_string(),
            false,
        ),
        (
            format!("the camera and its small layer (+320×180, {SMALL_LAYER_KBPS} kbit/s)"),
            true,
        ),
    ] {
        let err = |e: studyhall_client::codec::vp8::Vp8Error| e.to_string();
        let mut full = Vp8Encoder::new(WIDTH, HEIGHT, FPS, 500).map_err(err)?;
        let (sw, sh) = studyhall_client::codec::scale::half_size(WIDTH, HEIGHT);
        let mut small = Vp8Encoder::new(sw, sh, FPS, SMALL_LAYER_KBPS).map_err(err)?;
        let cpu_from = cpu_time(pid);
        let started = Instant::now();
        for i in 0..frames {
            let frame = &input[(i % input.len() as u64) as usize];
            let key = i % u64::from(2 * FPS) == 0;
            std::hint::black_box(full.encode(frame, key).map_err(err)?);
            if two {
                let (half, _) = half_i420(frame, WIDTH, HEIGHT).ok_or("cannot halve")?;
                std::hint::black_box(small.encode(&half, key).map_err(err)?);
            }
        }
        let wall = started.elapsed();
        let cpu = match (cpu_from, cpu_time(pid)) {
            (Some(a), Some(b)) => b.saturating_sub(a),
            _ => wall,
        };
        out.push(EncodeCost { what, video, cpu });
    }
    Ok(out)
}
