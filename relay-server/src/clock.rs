//! The relay's clock for what clients count down to (the focus timer): wall-clock ms,
//! read through tokio's monotonic clock from an anchor taken at start. So a step of the
//! system clock while the relay runs moves no deadline, and tests run it in tokio's
//! paused time.

use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug, Clone, Copy)]
pub struct Clock {
    anchor_ms: u64,
    anchor: Instant,
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new()
    }
}

impl Clock {
    /// Anchored at the system's wall clock now.
    pub fn new() -> Self {
        Clock {
            anchor_ms: crate::ids::now_ms(),
            anchor: Instant::now(),
        }
    }

    /// Wall-clock ms since the Unix epoch.
    pub fn now_ms(&self) -> u64 {
        self.anchor_ms + self.anchor.elapsed().as_millis() as u64
    }

    /// The tokio instant at which this clock reads `ms` (now, if that has passed).
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
}
