//! The host's upload budget (`upload_budget_kbps`): what the relay sends is shared out
//! among its subscribers, and each subscriber's video is fitted into its share, most
//! important first. Audio is never turned down here (see `speakers` for large rooms).
//!
//! A subscriber's video m-lines, in order of importance:
//! 1. screen shares ([`Class::Screen`]), never turned down;
//! 2. the room's active speaker's camera ([`Class::Speaker`]);
//! 3. cameras shown large, bigger than the small layer's tile ([`Class::Large`]; also every
//!    camera before the subscriber's first view);
//! 4. the rest ([`Class::Rest`]).
//!
//! Four times a second the relay measures what each publisher layer costs (its bitrate,
//! with packet headers), gives every subscriber an equal share of the budget, takes its
//! audio off, and goes down its video by importance: each gets the layer its view wants
//! if that fits in what is left, else the small layer if that fits, else nothing
//! ([`allocate`]). A tile turned down takes effect at once; one turned up again only once
//! the room for it has lasted [`STEP_UP_AFTER`]. Switches go through the rewriter like
//! any other, at keyframes and with no gaps.
//!
//! The share is the budget times a headroom, which shrinks while the measured upload is
//! over the budget anyway (resends, reports, estimates off) and grows back slowly while
//! it is well under.

use super::*;

/// How long room for a better layer must last before a tile is turned up.
pub const STEP_UP_AFTER: Duration = Duration::from_secs(5);

/// The headroom's range and start: the share of the budget handed out.
const HEADROOM_MAX: f64 = 0.98;
const HEADROOM_MIN: f64 = 0.5;
const HEADROOM_START: f64 = 0.9;

/// IPv4 and UDP headers, which the host's upload carries on every datagram too.
const DATAGRAM_OVERHEAD: u64 = 28;

/// What a forwarded packet costs beyond its payload: IP, UDP, RTP, the SRTP tag and
/// header extensions.
pub(super) const PACKET_OVERHEAD: u64 = DATAGRAM_OVERHEAD + 12 + 10 + 24;

/// What a layer is taken to cost before it was ever measured (bits per second).
pub(super) fn nominal_cost(kind: MediaKind, source: TrackSource, layer: Layer) -> f64 {
    match (kind, source, layer) {
        (MediaKind::Audio, ..) => 45_000.0,
        (_, TrackSource::Screen, _) => 1_300_000.0,
        (_, _, Layer::Small) => 130_000.0,
        _ => 600_000.0,
    }
}

/// How important a forwarded video m-line is (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Class {
    Rest,
    Large,
    Speaker,
    Screen,
}

/// The most a subscriber's m-line may get under the budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub(super) enum Cap {
    Paused,
    Small,
    #[default]
    Full,
}

impl Cap {
    /// The layer a view that wants `wanted` gets under this cap.
    pub fn apply(self, wanted: Option<Layer>, has_small: bool) -> Option<Layer> {
        match (self, wanted?) {
            (Cap::Full, w) => Some(w),
            (Cap::Small, _) if has_small => Some(Layer::Small),
            (Cap::Small, Layer::Small) => Some(Layer::Small),
            _ => None,
        }
    }
}

/// One video m-line a subscriber's view wants.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Want {
    pub class: Class,
    pub wanted: Layer,
    /// What its layers cost (bits per second); `small` when the publisher sends one.
    pub full: f64,
    pub small: Option<f64>,
}

/// Fit `wants` into `share` bits per second: first every tile its cheapest layer (the
/// small one where there is one), most important first (the order of `wants` among
/// equals), as long as they fit; then, in the same order, the full layer to those whose
/// view wants it, as long as the difference fits. So every tile is seen before any is
/// sharp. Screen shares always get what they want. The cap of each.
pub(super) fn allocate(share: f64, wants: &[Want]) -> Vec<Cap> {
    let mut order: Vec<usize> = (0..wants.len()).collect();
    order.sort_by(|a, b| wants[*b].class.cmp(&wants[*a].class));
    let mut caps = vec![Cap::Paused; wants.len()];
    let mut left = share;
    for &i in &order {
        let w = wants[i];
        let (cap, cost) = match w.small {
            _ if w.class == Class::Screen => {
                let cost = match (w.wanted, w.small) {
                    (Layer::Small, Some(small)) => small,
                    _ => w.full,
                };
                (Cap::Full, cost)
            }
            Some(small) if small <= left => (Cap::Small, small),
            None if w.full <= left => (Cap::Full, w.full),
            _ => (Cap::Paused, 0.0),
        };
        caps[i] = cap;
        left -= cost;
    }
    for &i in &order {
        let w = wants[i];
        if caps[i] != Cap::Small {
            continue;
        }
        match (w.wanted, w.small) {
            // The small layer is what the view wants: no cap.
            (Layer::Small, _) => caps[i] = Cap::Full,
            (Layer::Full, Some(small)) if w.full - small <= left => {
                caps[i] = Cap::Full;
                left -= w.full - small;
            }
            _ => {}
        }
    }
    caps
}

/// The upload the relay measures, and the share of its budget it hands out.
#[derive(Debug)]
pub struct Budget {
    /// bits per second; `None`: no budget.
    limit: Option<u64>,
    /// Bytes sent since the last check.
    bytes: u64,
    /// The upload (bits per second), smoothed over about a second.
    rate: f64,
    last_check: Option<Instant>,
    headroom: f64,
}

impl Budget {
    pub fn new(limit_bps: Option<u64>) -> Budget {
        Budget {
            limit: limit_bps.filter(|l| *l > 0),
            bytes: 0,
            rate: 0.0,
            last_check: None,
            headroom: HEADROOM_START,
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

    pub fn limit(&self) -> Option<u64> {
        self.limit
    }

    /// Each of `subscribers`' share, bits per second; `None` without a budget.
    pub fn share(&self, subscribers: usize) -> Option<f64> {
        Some(self.limit? as f64 * self.headroom / subscribers.max(1) as f64)
    }

    /// Measure the upload since the last check, and move the headroom.
    pub fn check(&mut self, now: Instant) {
        let Some(last) = self.last_check.replace(now) else {
            self.bytes = 0;
            return;
        };
        let secs = now.saturating_duration_since(last).as_secs_f64();
        if secs <= 0.0 {
            return;
        }
        let now_rate = std::mem::take(&mut self.bytes) as f64 * 8.0 / secs;
        // A quarter-second check weighs in a little over a fifth: about a second's memory.
        self.rate += (now_rate - self.rate) * (secs * 0.9).clamp(0.2, 1.0);
        let Some(limit) = self.limit.map(|l| l as f64) else {
            return;
        };
        // About 8% a second down while over, 4% a second back up while well under.
        if self.rate > limit {
            self.headroom = (self.headroom * 0.98).max(HEADROOM_MIN);
        } else if self.rate < limit * 0.9 {
            self.headroom = (self.headroom + 0.01).min(HEADROOM_MAX);
        }
    }
}

impl Sfu {
    /// Fit every subscriber's video into its share of the upload budget (see the module
    /// docs); without a budget, lift every cap.
    pub(super) fn allocate_upload(&mut self, now: Instant) {
        let subscribers = self
            .peers
            .values()
            .filter(|p| p.role == Role::Subscribe && p.alive)
            .count();
        let Some(share) = self.budget.share(subscribers) else {
            for p in self.peers.values_mut() {
                for out in &mut p.tracks_out {
                    out.cap = Cap::Full;
                    out.raise_since = None;
                }
            }
            return;
        };
        let ids: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(_, p)| p.role == Role::Subscribe && p.alive)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            let sub = &self.peers[&id];
            let active = self
                .speakers
                .get(&sub.group)
                .and_then(|t| t.active.as_deref());
            let mut audio = 0.0;
            let mut wants = Vec::new();
            let mut at = Vec::new();
            for (i, out) in sub.tracks_out.iter().enumerate() {
                if !matches!(out.state, OutState::Open(_) | OutState::Negotiating(_)) {
                    continue;
                }
                let Some(publisher) = self.peers.get(&out.publisher) else {
                    continue;
                };
                let layer = |l: Layer| {
                    publisher
                        .tracks_in
                        .values()
                        .find(|t| t.source == out.source && t.layer == l)
                };
                let Some(full) = layer(Layer::Full) else {
                    continue;
                };
                let small = layer(Layer::Small);
                if out.kind == MediaKind::Audio {
                    if full.enabled && full.voice.audible(now) {
                        audio += full.cost();
                    }
                    continue;
                }
                let Some(wanted) = forward::wanted_layer(out, full.enabled, small.is_some()) else {
                    continue;
                };
                let class = if out.source == TrackSource::Screen {
                    Class::Screen
                } else if active == Some(out.identity.as_str()) {
                    Class::Speaker
                } else if !out.small {
                    Class::Large
                } else {
                    Class::Rest
                };
                wants.push(Want {
                    class,
                    wanted,
                    full: full.cost(),
                    small: small.map(|t| t.cost()),
                });
                at.push(i);
            }
            let caps = allocate(share - audio, &wants);
            let sub = self.peers.get_mut(&id).expect("listed above");
            for (i, out) in sub.tracks_out.iter_mut().enumerate() {
                let cap = at
                    .iter()
                    .position(|j| *j == i)
                    .map_or(Cap::Full, |k| caps[k]);
                if cap < out.cap {
                    debug!(identity = %sub.identity, from = %out.identity, ?cap, "upload budget: a tile turned down");
                    out.cap = cap;
                    out.raise_since = None;
                } else if cap > out.cap {
                    let since = *out.raise_since.get_or_insert(now);
                    if now.saturating_duration_since(since) >= STEP_UP_AFTER {
                        debug!(identity = %sub.identity, from = %out.identity, ?cap, "upload budget: a tile turned up");
                        out.cap = cap;
                        out.raise_since = None;
                    }
                } else {
                    out.raise_since = None;
                }
            }
        }
    }

    /// Subscriber m-lines the budget holds below what their views want now: (sent
    /// small, paused).
    pub(super) fn turned_down(&self) -> (u64, u64) {
        let mut counts = (0, 0);
        for p in self.peers.values().filter(|p| p.role == Role::Subscribe) {
            for out in &p.tracks_out {
                match out.cap {
                    Cap::Small if !out.small => counts.0 += 1,
                    Cap::Paused if out.visible => counts.1 += 1,
                    _ => {}
                }
            }
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn want(class: Class, wanted: Layer) -> Want {
        Want {
            class,
            wanted,
            full: 500.0,
            small: Some(100.0),
        }
    }

    #[test]
    fn the_most_important_tiles_get_what_they_want_and_the_rest_what_is_left() {
        use Class::*;
        let wants = [
            want(Rest, Layer::Small),
            want(Large, Layer::Full),
            want(Speaker, Layer::Full),
            want(Screen, Layer::Full),
            want(Rest, Layer::Small),
        ];
        // Room for everything.
        assert_eq!(allocate(10_000.0, &wants), vec![Cap::Full; 5]);
        // 1,350: the screen (500), every other tile small (400), then the speaker full
        // (+400); the large tile's full layer (+400 more) does not fit.
        assert_eq!(
            allocate(1_350.0, &wants),
            vec![Cap::Full, Cap::Small, Cap::Full, Cap::Full, Cap::Full]
        );
        // 750: the screen, then small layers most important first (the speaker, the
        // large tile): the small tiles do not fit.
        assert_eq!(
            allocate(750.0, &wants),
            vec![Cap::Paused, Cap::Small, Cap::Small, Cap::Full, Cap::Paused]
        );
        // 850: one small tile fits, the first the view lists.
        assert_eq!(
            allocate(850.0, &wants),
            vec![Cap::Full, Cap::Small, Cap::Small, Cap::Full, Cap::Paused]
        );
        // Nothing left: the screen share all the same, nothing else.
        assert_eq!(
            allocate(0.0, &wants),
            vec![
                Cap::Paused,
                Cap::Paused,
                Cap::Paused,
                Cap::Full,
                Cap::Paused
            ]
        );
        // A camera with one layer is sent whole or not at all.
        let single = Want {
            small: None,
            ..want(Large, Layer::Full)
        };
        assert_eq!(allocate(400.0, &[single]), vec![Cap::Paused]);
        assert_eq!(allocate(500.0, &[single]), vec![Cap::Full]);
    }

    #[test]
    fn a_cap_gives_a_view_at_most_its_layer() {
        assert_eq!(Cap::Full.apply(Some(Layer::Full), true), Some(Layer::Full));
        assert_eq!(
            Cap::Small.apply(Some(Layer::Full), true),
            Some(Layer::Small)
        );
        assert_eq!(
            Cap::Small.apply(Some(Layer::Small), true),
            Some(Layer::Small)
        );
        assert_eq!(Cap::Small.apply(Some(Layer::Full), false), None);
        assert_eq!(Cap::Paused.apply(Some(Layer::Small), true), None);
        assert_eq!(
            Cap::Full.apply(None, true),
            None,
            "what the view hides stays hidden"
        );
    }

    #[test]
    fn the_headroom_shrinks_while_over_the_budget_and_grows_back_slowly() {
        let t0 = Instant::now();
        let mut b = Budget::new(Some(1_000_000));
        assert_eq!(b.share(2), Some(450_000.0));
        b.check(t0);
        let mut t = t0;
        for _ in 0..8 {
            t += Duration::from_millis(250);
            b.sent(2_000_000 / 8 / 4);
            b.check(t);
        }
        assert!(b.rate() > 1_000_000, "{}", b.rate());
        let squeezed = b.share(1).unwrap();
        assert!(squeezed < 850_000.0, "{squeezed}");
        for _ in 0..400 {
            t += Duration::from_millis(250);
            b.sent(300_000 / 8 / 4);
            b.check(t);
        }
        assert_eq!(b.share(1), Some(1_000_000.0 * HEADROOM_MAX));
        assert_eq!(Budget::new(None).share(3), None, "no budget, no shares");
    }
}
