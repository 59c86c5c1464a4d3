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

    /// A bucket refilled by `rate` tokens per minute (for slow limits, such as questions).
    pub fn per_minute(rate: u32, burst: u32, now: Instant) -> Self {
        TokenBucket {
            rate: f64::from(rate.max(1)) / 60.0,
            ..TokenBucket::new(1, burst, now)
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

/// Limits that follow an identity in a room across its connections, so reconnecting
/// neither resets a rate limit nor lets anyone flood the room with joins and leaves.
///
/// - **Joins** per `(room, identity)`: [`JOIN_BURST`] at once, then one every
///   [`JOIN_EVERY`]; more get `rate_limited`.
/// - **A connection's rate limits** are put aside when it ends and taken up by the next
///   connection of the same identity in the same room, for [`KEPT_FOR`].
pub struct IdentityLimits<T> {
    joins: std::sync::Mutex<std::collections::HashMap<String, TokenBucket>>,
    kept: std::sync::Mutex<std::collections::HashMap<String, (T, Instant)>>,
    /// When the maps were last swept of what no longer matters.
    swept: std::sync::Mutex<Option<Instant>>,
}

/// Joins one identity may make in a room at once…
pub const JOIN_BURST: u32 = 8;
/// …and then one per this long.
pub const JOIN_EVERY: Duration = Duration::from_secs(2);
/// How long an ended connection's rate limits wait for the identity's next one.
pub const KEPT_FOR: Duration = Duration::from_secs(600);
/// Entries kept before old ones are swept at once (each is a few dozen bytes)…
const MAX_ENTRIES: usize = 100_000;
/// …and how often they are swept anyway: every identity that ever joined would stay
/// otherwise, and an idle relay would keep growing with the people it has seen.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

fn key(room: &str, identity: &str) -> String {
    format!("{room}\n{identity}")
}

impl<T: Clone> Default for IdentityLimits<T> {
    fn default() -> Self {
        IdentityLimits {
            joins: Default::default(),
            kept: Default::default(),
            swept: Default::default(),
        }
    }
}

impl<T: Clone> IdentityLimits<T> {
    /// May `identity` join `room` now? `Err` says how long to wait.
    pub fn join(&self, room: &str, identity: &str, now: Instant) -> Result<(), Duration> {
        self.sweep(now);
        let mut joins = crate::room::lock(&self.joins);
        if joins.len() > MAX_ENTRIES {
            // A bucket full again forgets nothing worth keeping.
            joins.retain(|_, b| now.saturating_duration_since(b.last) < JOIN_EVERY * JOIN_BURST);
        }
        let rate = 1.0 / JOIN_EVERY.as_secs_f64();
        joins
            .entry(key(room, identity))
            .or_insert_with(|| TokenBucket {
                rate,
                burst: f64::from(JOIN_BURST),
                tokens: f64::from(JOIN_BURST),
                last: now,
            })
            .try_take(now)
    }

    /// The rate limits the identity's last connection in `room` left, if recent.
    pub fn take(&self, room: &str, identity: &str, now: Instant) -> Option<T> {
        let (limits, at) = crate::room::lock(&self.kept).remove(&key(room, identity))?;
        (now.saturating_duration_since(at) < KEPT_FOR).then_some(limits)
    }

    /// A connection ended: keep its rate limits for the identity's next one.
    pub fn keep(&self, room: &str, identity: &str, limits: T, now: Instant) {
        self.sweep(now);
        let mut kept = crate::room::lock(&self.kept);
        if kept.len() > MAX_ENTRIES {
            kept.retain(|_, (_, at)| now.saturating_duration_since(*at) < KEPT_FOR);
        }
        kept.insert(key(room, identity), (limits, now));
    }

    /// Forget, at most once per [`SWEEP_EVERY`], join buckets that are full again and
    /// limits kept longer than [`KEPT_FOR`].
    fn sweep(&self, now: Instant) {
        {
            let mut swept = crate::room::lock(&self.swept);
            if swept.is_some_and(|t| now.saturating_duration_since(t) < SWEEP_EVERY) {
                return;
            }
            *swept = Some(now);
        }
        crate::room::lock(&self.joins)
            .retain(|_, b| now.saturating_duration_since(b.last) < JOIN_EVERY * JOIN_BURST);
        crate::room::lock(&self.kept)
            .retain(|_, (_, at)| now.saturating_duration_since(*at) < KEPT_FOR);
    }

    /// Entries held: (join buckets, kept limits).
    #[cfg(test)]
    fn held(&self) -> (usize, usize) {
        (
            crate::room::lock(&self.joins).len(),
            crate::room::lock(&self.kept).len(),
        )
    }
}

#[cfg(test)]
mod identity_tests {
    use super::*;

    #[test]
    fn joins_are_limited_per_identity_and_room() {
        let limits = IdentityLimits::<u32>::default();
        let t = Instant::now();
        for _ in 0..JOIN_BURST {
            limits.join("r", "ada", t).unwrap();
        }
        let wait = limits.join("r", "ada", t).unwrap_err();
        assert!(wait > Duration::ZERO && wait <= JOIN_EVERY);
        limits.join("r", "bob", t).unwrap();
        limits.join("other", "ada", t).unwrap();
        limits.join("r", "ada", t + JOIN_EVERY).unwrap();
    }

    #[test]
    fn an_ended_connections_limits_go_to_the_next_one() {
        let limits = IdentityLimits::<u32>::default();
        let t = Instant::now();
        assert_eq!(limits.take("r", "ada", t), None);
        limits.keep("r", "ada", 7, t);
        assert_eq!(limits.take("r", "bob", t), None);
        assert_eq!(limits.take("r", "ada", t), Some(7));
        assert_eq!(limits.take("r", "ada", t), None, "taken once");
        limits.keep("r", "ada", 8, t);
        assert_eq!(limits.take("r", "ada", t + KEPT_FOR), None, "too old");
    }

    #[test]
    fn what_no_longer_matters_is_forgotten_while_people_keep_coming() {
        let limits = IdentityLimits::<u32>::default();
        let t = Instant::now();
        for i in 0..1000 {
            let who = format!("visitor-{i}");
            limits.join("r", &who, t).unwrap();
            limits.keep("r", &who, i, t);
        }
        assert_eq!(limits.held(), (1000, 1000));
        // Later, one more visitor: the join buckets are full again, the kept limits
        // are old; only the newcomer's are held.
        let later = t + KEPT_FOR + SWEEP_EVERY;
        limits.join("r", "late", later).unwrap();
        limits.keep("r", "late", 1, later);
        assert_eq!(limits.held(), (1, 1));
        // Within a sweep interval nothing is swept again; the newcomer's limits stay.
        limits.keep("r", "later", 2, later + Duration::from_secs(1));
        assert_eq!(limits.take("r", "late", later), Some(1));
    }
}
