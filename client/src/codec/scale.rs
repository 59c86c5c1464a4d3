//! Halving an I420 frame, for the camera's small layer. Each plane is averaged over
//! 2×2 blocks. Our own, since this is the only scaling the client does and only by
//! exactly one half: a resampling library (and its dependency) would buy nothing here.

use super::vp8::i420_len;

/// The size of the half of a `width`×`height` frame: even, at least 2×2.
pub fn half_size(width: u32, height: u32) -> (u32, u32) {
    (((width / 2) & !1).max(2), ((height / 2) & !1).max(2))
}

/// `i420` (tightly packed, `width`×`height`) at half its width and height
/// ([`half_size`]); `None` if the buffer is too short for its size.
pub fn half_i420(i420: &[u8], width: u32, height: u32) -> Option<(Vec<u8>, (u32, u32))> {
    if i420.len() < i420_len(width, height) {
        return None;
    }
    let (w, h) = (width as usize, height as usize);
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let (ow, oh) = half_size(width, height);
    let (ow, oh) = (ow as usize, oh as usize);
    let mut out = Vec::with_capacity(i420_len(ow as u32, oh as u32));
    let (y, uv) = i420.split_at(w * h);
    let (u, v) = uv.split_at(cw * ch);
    halve_plane(y, w, h, ow, oh, &mut out);
    halve_plane(u, cw, ch, ow / 2, oh / 2, &mut out);
    halve_plane(v, cw, ch, ow / 2, oh / 2, &mut out);
    Some((out, (ow as u32, oh as u32)))
}

/// Append `plane` (`w`×`h`) averaged down to `ow`×`oh`, clamping reads at its edges.
fn halve_plane(plane: &[u8], w: usize, h: usize, ow: usize, oh: usize, out: &mut Vec<u8>) {
    for r in 0..oh {
        let (r0, r1) = ((2 * r).min(h - 1), (2 * r + 1).min(h - 1));
        for c in 0..ow {
            let (c0, c1) = ((2 * c).min(w - 1), (2 * c + 1).min(w - 1));
            let sum = u32::from(plane[r0 * w + c0])
                + u32::from(plane[r0 * w + c1])
                + u32::from(plane[r1 * w + c0])
                + u32::from(plane[r1 * w + c1]);
            out.push(((sum + 2) / 4) as u8);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::pattern::{read_stamp, PatternGenerator};

    #[test]
    fn halving_keeps_planes_apart_and_averages() {
        // 4×2: Y rows 0,4,8,12 / 100,104,108,112; U = 50, 60; V = 200, 210.
        let mut frame = vec![0, 4, 8, 12, 100, 104, 108, 112, 50, 60, 200, 210];
        let (out, size) = half_i420(&frame, 4, 2).unwrap();
        assert_eq!(size, (2, 2));
        // Y: 2×2 from 4×2 (the second row of blocks repeats the last row); U and V: 1×1.
        assert_eq!(out, vec![52, 60, 102, 110, 55, 205]);
        frame.pop();
        assert!(half_i420(&frame, 4, 2).is_none(), "too short");
        assert_eq!(half_size(321, 241), (160, 120));
        assert_eq!(half_size(2, 2), (2, 2));
    }

    #[test]
    fn a_halved_test_pattern_still_says_who_and_which_frame() {
        let mut pattern = PatternGenerator::new(320, 240, "ada");
        let (frame, stamp) = pattern.next_frame(1_700_000_000_123);
        let full = read_stamp(320, 240, &frame).unwrap();
        assert_eq!(full, stamp);
        let (small, (w, h)) = half_i420(&frame, 320, 240).unwrap();
        assert_eq!((w, h), (160, 120));
        assert_eq!(read_stamp(w, h, &small), Some(full));
    }
}
