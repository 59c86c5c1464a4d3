//! The host's upload budget: when what the relay sends passes `upload_budget_kbps`, video
//! is turned down step by step, least important first, and turned back up only after
//! the upload has stayed well under the budget for a while.
//!
//! What a subscriber's video m-line is, in order of importance (audio is never touched
//! here; see `speakers` for large rooms' audio):
//! 1. a screen share ([`Class::Screen`]), never turned down;
//! 2. the room's active speaker's camera ([`Class::Speaker`]);
//! 3. a camera the subscriber shows large, bigger than the small layer's tile
//!    ([`Class::Large`]; also every camera before the subscriber's first view);
//! 4. the rest ([`Class::Rest`]).
//!
//! The steps ([`Budget::level`]), each keeping the ones before it:
//! 1. the rest get the small layer; 2. so do large tiles; 3. the rest are paused;
//! 4. large tiles are paused; 5. the active speaker gets the small layer.
//!
//! A camera published in one layer only skips the small-layer steps. A step down happens
//! at once when the upload is over the budget (then waits [`SETTLE`] for the switches to
//! take effect before another); a step up after [`STEP_UP_AFTER`] below
//! [`STEP_UP_BELOW`] of the budget. Switches go through the rewriter like any other, at
//! keyframes and with no gaps.

use super::*;

/// The deepest step.
pub const MAX_LEVEL: u8 = 5;

/// How long the upload must stay low before a step up.
pub const STEP_UP_AFTER: Duration = Duration::from_secs(5);

/// The share of the budget the upload must stay below for a step up.
pub const STEP_UP_BELOW: f64 = 0.75;

/// How long after a step down before another: long enough for the layers to switch
/// (each waits for a keyframe) and the rate to show it.
pub const SETTLE: Duration = Duration::from_millis(1_000);

/// IPv4 and UDP headers, which the host's upload carries on every datagram too.
const DATAGRAM_OVERHEAD: u64 = 28;

/// How important a forwarded video m-line is (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Class {
    Rest,
    Large,
    Speaker,
    Screen,
}

/// The layer a video m-line of `class` gets at budget `level`, when its view would give
/// it `wanted` (`None`: nothing). `has_small`: its publisher sends a small layer.
pub(super) fn squeeze(
    class: Class,
    level: u8,
    wanted: Option<Layer>,
    has_small: bool,
) -> Option<Layer> {
    let wanted = wanted?;
    let (small_at, pause_at) = match class {
        Class::Screen => return Some(wanted),
        Class::Rest => (1, 3),
        Class::Large => (2, 4),
        Class::Speaker => (5, u8::MAX),
    };
    if level >= pause_at {
        None
    } else if level >= small_at && has_small {
        Some(Layer::Small)
    } else {
        Some(wanted)
    }
}

/// The upload the relay measures and the step it is at.
#[derive(Debug)]
pub struct Budget {
    /// bits per second; `None`: no budget.
    limit: Option<u64>,
    /// Bytes sent since the last check.
    bytes: u64,
    /// The upload (bits per second), smoothed over about a second.
    rate: f64,
    last_check: Option<Instant>,
    level: u8,
    /// Since when the upload has been low enough to step up.
    calm_since: Option<Instant>,
    last_step_down: Option<Instant>,
}

impl Budget {
    pub fn new(limit_bps: Option<u64>) -> Budget {
        Budget {
            limit: limit_bps.filter(|l| *l > 0),
            bytes: 0,
            rate: 0.0,
            last_check: None,
            level: 0,
            calm_since: None,
            last_step_down: None,
        }
    }

    /// A datagram of `len` bytes was sent.
    pub fn sent(&mut self, len: usize) {
        self.bytes += len as u64 + DATAGRAM_OVERHEAD;
    }

    /// The upload, bits per second.
    pub fn rate(&self) -> u64 {
        self.rate as u64
    }

    pub fn level(&self) -> u8 {
        self.level
    }

    pub fn limit(&self) -> Option<u64> {
        self.limit
    }

    /// Measure the upload since the last check and step down or up; whether the step
    /// changed.
    pub fn check(&mut self, now: Instant) -> bool {
        let Some(last) = self.last_check.replace(now) else {
            self.bytes = 0;
            return false;
        };
        let secs = now.saturating_duration_since(last).as_secs_f64();
        if secs <= 0.0 {
            return false;
        }
        let now_rate = std::mem::take(&mut self.bytes) as f64 * 8.0 / secs;
        // A quarter-second check weighs in a little over a fifth: about a second's memory.
        let weight = (secs * 0.9).clamp(0.2, 1.0);
        self.rate += (now_rate - self.rate) * weight;
        let Some(limit) = self.limit.map(|l| l as f64) else {
            return false;
        };
        let before = self.level;
        if self.rate > limit {
            self.calm_since = None;
            let settled = self
                .last_step_down
                .is_none_or(|t| now.saturating_duration_since(t) >= SETTLE);
            if settled && self.level < MAX_LEVEL {
                self.level += 1;
                self.last_step_down = Some(now);
            }
        } else if self.rate < limit * STEP_UP_BELOW {
            let since = *self.calm_since.get_or_insert(now);
            if self.level > 0 && now.saturating_duration_since(since) >= STEP_UP_AFTER {
                self.level -= 1;
                self.calm_since = Some(now);
            }
        } else {
            self.calm_since = None;
        }
        if self.level != before {
            info!(
                level = self.level,
                upload_kbps = self.rate() / 1000,
                budget_kbps = limit as u64 / 1000,
                "upload budget: video {}",
                if self.level > before {
                    "turned down"
                } else {
                    "turned up"
                }
            );
        }
        self.level != before
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_steps_turn_down_the_least_important_first() {
        let f = Some(Layer::Full);
        let at = |class, level| squeeze(class, level, f, true);
        assert_eq!(at(Class::Rest, 0), f);
        assert_eq!(at(Class::Rest, 1), Some(Layer::Small));
        assert_eq!(at(Class::Large, 1), f);
        assert_eq!(at(Class::Large, 2), Some(Layer::Small));
        assert_eq!(at(Class::Rest, 3), None);
        assert_eq!(at(Class::Large, 3), Some(Layer::Small));
        assert_eq!(at(Class::Large, 4), None);
        assert_eq!(at(Class::Speaker, 4), f);
        assert_eq!(at(Class::Speaker, 5), Some(Layer::Small));
        assert_eq!(
            at(Class::Screen, MAX_LEVEL),
            f,
            "a screen share is never turned down"
        );
        // One layer only: no small-layer step, straight to the pause.
        assert_eq!(squeeze(Class::Rest, 2, f, false), f);
        assert_eq!(squeeze(Class::Rest, 3, f, false), None);
        // What the view hides stays hidden.
        assert_eq!(squeeze(Class::Screen, 0, None, true), None);
    }

    #[test]
    fn down_at_once_up_only_after_a_calm_while() {
        let t0 = Instant::now();
        let mut b = Budget::new(Some(1_000_000));
        b.check(t0);
        let mut t = t0;
        // 2 Mbit/s against a 1 Mbit/s budget: a step down as soon as the rate shows it,
        // then one per SETTLE.
        let step = |b: &mut Budget, t: &mut Instant, bps: u64| {
            *t += Duration::from_millis(250);
            b.sent((bps / 8 / 4) as usize);
            b.check(*t)
        };
        let mut downs = Vec::new();
        for i in 0..12 {
            if step(&mut b, &mut t, 2_000_000) {
                downs.push((i, b.level()));
            }
        }
        assert_eq!(downs.first().map(|d| d.1), Some(1), "{downs:?}");
        assert!(downs.len() >= 2, "{downs:?}");
        for w in downs.windows(2) {
            assert!(w[1].0 - w[0].0 >= 4, "steps down a SETTLE apart: {downs:?}");
        }
        // Near the budget (once the rate has come down to it): no step either way.
        for _ in 0..20 {
            step(&mut b, &mut t, 900_000);
        }
        let level = b.level();
        for _ in 0..40 {
            assert!(!step(&mut b, &mut t, 900_000));
        }
        assert_eq!(b.level(), level);
        // Well under it: one step up per STEP_UP_AFTER, not before.
        let calm = t;
        let mut ups = Vec::new();
        for _ in 0..(MAX_LEVEL as usize + 1) * 5 * 4 {
            if step(&mut b, &mut t, 300_000) {
                ups.push(t.duration_since(calm));
            }
        }
        assert!(!ups.is_empty(), "it steps up again");
        assert!(ups[0] >= STEP_UP_AFTER, "{ups:?}");
        assert_eq!(b.level(), 0, "all the way back up after long enough");
    }

    #[test]
    fn no_budget_never_steps() {
        let t0 = Instant::now();
        let mut b = Budget::new(None);
        b.check(t0);
        b.sent(10_000_000);
        assert!(!b.check(t0 + Duration::from_millis(250)));
        assert_eq!(b.level(), 0);
        assert!(b.rate() > 0, "the upload is measured all the same");
    }
}
