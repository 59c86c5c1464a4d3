//! A playout buffer for received video: frames are handed on at the pace they were
//! captured (their RTP timestamps), a little later than the earliest they could be, by as
//! much as recent frames have come late. On a clean link that is nothing, so video
//! shows as soon as it arrives. On a lossy one, a frame held up for a retransmission
//! (about one round trip) would otherwise stop the picture and then rush the frames
//! behind it; with the delay grown to cover it, the picture keeps its pace instead.
//!
//! The delay grows at once to what a late frame needed (up to [`MAX_DELAY`]) and shrinks
//! slowly (about 5% a second) while frames come in time.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The most frames are held back.
pub const MAX_DELAY: Duration = Duration::from_millis(400);

/// Added to what a late frame needed, so the next one like it is in time.
const MARGIN: Duration = Duration::from_millis(15);

/// A jump in timestamps this far from the time that passed starts afresh (a new stream
/// on the same m-line).
const RESYNC: Duration = Duration::from_secs(3);

/// Ticks per second of video RTP timestamps.
const VIDEO_CLOCK: f64 = 90_000.0;

pub struct Playout<T> {
    /// When a frame of timestamp `.1` would have arrived with no delay on the way: the
    /// earliest arrival seen, moved back to timestamp `.1`.
    anchor: Option<(Instant, u32)>,
    delay: Duration,
    queue: VecDeque<(Instant, T)>,
}

impl<T> Default for Playout<T> {
    fn default() -> Self {
        Playout {
            anchor: None,
            delay: Duration::ZERO,
            queue: VecDeque::new(),
        }
    }
}

impl<T> Playout<T> {
    /// The delay now.
    pub fn delay(&self) -> Duration {
        self.delay
    }

    /// Take in a frame of RTP timestamp `ts` that became complete at `now`.
    pub fn push(&mut self, now: Instant, ts: u32, item: T) {
        let (at, base) = *self.anchor.get_or_insert((now, ts));
        let media = f64::from(ts.wrapping_sub(base) as i32) / VIDEO_CLOCK;
        let nominal = if media >= 0.0 {
            at + Duration::from_secs_f64(media)
        } else {
            at.checked_sub(Duration::from_secs_f64(-media))
                .unwrap_or(at)
        };
        let (early, late) = (
            nominal.saturating_duration_since(now),
            now.saturating_duration_since(nominal),
        );
        let nominal = if early > RESYNC || late > RESYNC {
            // Not the same timeline: start afresh from this frame.
            self.anchor = Some((now, ts));
            now
        } else if early > Duration::ZERO {
            // The earliest arrival yet: everything is measured from it now.
            self.anchor = Some((at - early, base));
            now
        } else {
            nominal
        };
        let late = now.saturating_duration_since(nominal);
        // A path that got slower for good moves the anchor after it, slowly.
        if let Some((at, base)) = self.anchor {
            self.anchor = Some((at + late.mul_f64(0.002), base));
        }
        if late > self.delay {
            self.delay = (late + MARGIN).min(MAX_DELAY);
        } else {
            // About 5% a second at 30 frames a second.
            self.delay = self.delay.mul_f64(0.998);
        }
        // Never before a frame queued earlier, never later than the longest delay.
        let mut release = (nominal + self.delay).min(now + MAX_DELAY);
        if let Some((last, _)) = self.queue.back() {
            release = release.max(*last);
        }
        self.queue.push_back((release.max(now), item));
    }

    /// Take in something to hand on in order but unpaced: as soon as what is before it.
    pub fn push_unpaced(&mut self, now: Instant, item: T) {
        let release = self.queue.back().map_or(now, |(last, _)| (*last).max(now));
        self.queue.push_back((release, item));
    }

    /// The next frame due by `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<T> {
        if self.queue.front().is_some_and(|(at, _)| *at <= now) {
            self.queue.pop_front().map(|(_, item)| item)
        } else {
            None
        }
    }

    /// When the next frame is due.
    pub fn next_due(&self) -> Option<Instant> {
        self.queue.front().map(|(at, _)| *at)
    }

    /// Drop whatever is held (the decoder needs a keyframe anyway).
    pub fn clear(&mut self) {
        self.queue.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME: u32 = 3_000; // 30 fps at 90 kHz
    const MS33: Duration = Duration::from_micros(33_333);

    #[test]
    fn frames_in_time_go_out_at_once() {
        let t0 = Instant::now();
        let mut p = Playout::default();
        for i in 0..30u32 {
            let now = t0 + MS33 * i;
            p.push(now, 1_000 + i * FRAME, i);
            assert_eq!(p.pop_due(now), Some(i), "frame {i}");
        }
        assert!(p.delay() < Duration::from_millis(2), "{:?}", p.delay());
    }

    #[test]
    fn a_late_frame_grows_the_delay_and_the_frames_after_it_keep_their_pace() {
        let t0 = Instant::now();
        let mut p = Playout::default();
        // Frame 10 waits 120 ms for a retransmission; 11–13 arrive right behind it.
        let arrival = |i: u32| {
            let due = t0 + MS33 * i;
            if (10..=13).contains(&i) {
                due.max(t0 + MS33 * 10 + Duration::from_millis(120))
            } else {
                due
            }
        };
        let mut shown = Vec::new();
        for i in 0..60u32 {
            p.push(arrival(i), i * FRAME, i);
            // Whatever is due up to the next arrival.
            let next = arrival(i + 1);
            while let Some(at) = p.next_due().filter(|at| *at <= next) {
                shown.push((i, p.pop_due(at).unwrap(), at));
            }
        }
        assert!(p.delay() >= Duration::from_millis(120), "{:?}", p.delay());
        // After the late frame, frames go out about a frame apart, not in a rush.
        let after: Vec<Duration> = shown
            .windows(2)
            .filter(|w| w[0].1 >= 14)
            .map(|w| w[1].2 - w[0].2)
            .collect();
        assert!(
            after.iter().all(|gap| *gap >= Duration::from_millis(30)),
            "{after:?}"
        );
    }

    #[test]
    fn the_delay_shrinks_again_on_a_clean_link_and_never_passes_the_limit() {
        let t0 = Instant::now();
        let mut p = Playout::default();
        p.push(t0, 0, ());
        p.push(t0 + Duration::from_secs(4), FRAME, ());
        assert_eq!(
            p.delay(),
            Duration::ZERO,
            "a jump is a new start, not lateness"
        );
        let mut p = Playout::default();
        p.push(t0, 0, ());
        p.push(t0 + Duration::from_millis(900), FRAME, ());
        assert_eq!(p.delay(), MAX_DELAY);
        let grown = p.delay();
        for i in 2..600u32 {
            p.push(t0 + MS33 * i, i * FRAME, ());
        }
        assert!(p.delay() < grown / 2, "{:?}", p.delay());
    }
}
