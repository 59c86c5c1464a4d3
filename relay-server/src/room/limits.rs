//! Per-connection rate limiting: token buckets and the violation count that decides when
//! a client that keeps flooding is disconnected. Time comes in as `Instant`.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// A token bucket: `rate` tokens per second up to `burst`.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    pub fn new(rate: u32, burst: u32, now: Instant) -> Self {
        TokenBucket {
            rate: f64::from(rate.max(1)),
            burst: f64::from(burst.max(1)),
            tokens: f64::from(burst.max(1)),
            last: now,
        }
    }

    /// Take one token, or say how long until one is available.
    pub fn try_take(&mut self, now: Instant) -> Result<(), Duration> {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) / self.rate))
        }
    }
}

/// What to do about a rejected message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// First rejection in this one-second window: tell the client.
    Warn,
    /// Further rejection in a window already warned about: stay quiet, don't amplify.
    Quiet,
    /// Too many windows with rejections: disconnect.
    Disconnect,
}

/// Counts one-second windows in which messages were rejected. A client is disconnected
/// once `limit` such windows fall within [`Violations::SPAN`].
#[derive(Debug, Clone)]
pub struct Violations {
    limit: usize,
    windows: VecDeque<Instant>,
}

impl Violations {
    pub const WINDOW: Duration = Duration::from_secs(1);
    pub const SPAN: Duration = Duration::from_secs(30);

    pub fn new(limit: u32) -> Self {
        Violations {
            limit: limit.max(1) as usize,
            windows: VecDeque::new(),
        }
    }

    pub fn record(&mut self, now: Instant) -> Verdict {
        while let Some(&start) = self.windows.front() {
            if now.saturating_duration_since(start) > Self::SPAN {
                self.windows.pop_front();
            } else {
                break;
            }
        }
        if let Some(&current) = self.windows.back() {
            if now.saturating_duration_since(current) < Self::WINDOW {
                return Verdict::Quiet;
            }
        }
        self.windows.push_back(now);
        if self.windows.len() >= self.limit {
            Verdict::Disconnect
        } else {
            Verdict::Warn
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_burst_then_rate() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(10, 5, t0);
        for _ in 0..5 {
            assert!(b.try_take(t0).is_ok());
        }
        let wait = b.try_take(t0).unwrap_err();
        assert!(wait <= Duration::from_millis(100) && wait > Duration::ZERO);
        assert!(b.try_take(t0 + Duration::from_millis(100)).is_ok());
        assert!(b.try_take(t0 + Duration::from_millis(100)).is_err());
        // Refill is capped at the burst.
        let later = t0 + Duration::from_secs(60);
        for _ in 0..5 {
            assert!(b.try_take(later).is_ok());
        }
        assert!(b.try_take(later).is_err());
    }

    #[test]
    fn violations_escalate_per_window() {
        let t0 = Instant::now();
        let mut v = Violations::new(3);
        assert_eq!(v.record(t0), Verdict::Warn);
        assert_eq!(v.record(t0 + Duration::from_millis(500)), Verdict::Quiet);
        assert_eq!(v.record(t0 + Duration::from_millis(1001)), Verdict::Warn);
        assert_eq!(
            v.record(t0 + Duration::from_millis(2100)),
            Verdict::Disconnect
        );
    }

    #[test]
    fn old_violations_are_forgiven() {
        let t0 = Instant::now();
        let mut v = Violations::new(2);
        assert_eq!(v.record(t0), Verdict::Warn);
        assert_eq!(v.record(t0 + Duration::from_secs(40)), Verdict::Warn);
    }
}
