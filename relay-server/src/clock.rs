//! The relay's clock for what clients count down to (the focus timer): wall-clock ms,
//! read through tokio's monotonic clock from an anchor taken at start. So setting the
//! system clock back while the relay runs moves no deadline, and tests run it in tokio's
//! paused time. The monotonic clock stops while the machine sleeps: when the wall clock is
//! found ahead, the relay's clock jumps forward to it (a host's laptop that slept through
//! a phase's end moves the timer on when it wakes).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

/// A wall clock this far ahead of the relay's clock means the machine was asleep (the
/// monotonic clock stops then) or the clock was set forward: the relay's clock follows.
pub const FOLLOW_AHEAD_MS: u64 = 2_000;

#[derive(Debug, Clone)]
pub struct Clock(Arc<Mutex<Anchor>>);

#[derive(Debug)]
struct Anchor {
    ms: u64,
    at: Instant,
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new()
    }
}

impl Clock {
    /// Anchored at the system's wall clock now.
    pub fn new() -> Self {
        Clock(Arc::new(Mutex::new(Anchor {
            ms: crate::ids::now_ms(),
            at: Instant::now(),
        })))
    }

    /// Wall-clock ms since the Unix epoch. It never goes backwards; it follows the wall
    /// clock forwards when that runs ahead (after the machine slept).
    pub fn now_ms(&self) -> u64 {
        let mut anchor = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let mono = anchor.ms + anchor.at.elapsed().as_millis() as u64;
        let wall = crate::ids::now_ms();
        if wall > mono + FOLLOW_AHEAD_MS {
            *anchor = Anchor {
                ms: wall,
                at: Instant::now(),
            };
            return wall;
        }
        mono
    }

    /// The tokio instant at which this clock reads `ms` (now, if that has passed), as
    /// far as the monotonic clock can tell: a sleep of the machine makes it come early
    /// in wall-clock terms, so waiters re-read [`Clock::now_ms`] when they wake.
    pub fn instant_at(&self, ms: u64) -> Instant {
        let now = Instant::now();
        now + Duration::from_millis(ms.saturating_sub(self.now_ms()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn it_follows_tokio_time() {
        let clock = Clock::new();
        let start = clock.now_ms();
        tokio::time::sleep(Duration::from_secs(90)).await;
        assert_eq!(clock.now_ms() - start, 90_000);
        let at = clock.instant_at(start + 100_000);
        assert_eq!(at - Instant::now(), Duration::from_secs(10));
        assert!(clock.instant_at(0) <= Instant::now());
    }

    #[test]
    fn it_follows_the_wall_clock_forwards_but_never_back() {
        let clock = Clock::new();
        let now = clock.now_ms();
        // As if the machine had slept for an hour: the anchor is an hour behind.
        clock.0.lock().unwrap().ms -= 3_600_000;
        let after = clock.now_ms();
        assert!(
            after >= now,
            "caught up with the wall clock: {after} vs {now}"
        );
        // As if the wall clock had been set back an hour: the relay's clock stays.
        clock.0.lock().unwrap().ms += 3_600_000;
        assert!(clock.now_ms() >= now + 3_600_000);
    }
}
