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
//! with packet headers) and shares the budget out among the subscribers, max-min fairly
//! ([`water_fill`]): nobody gets more than its view wants, and what one leaves goes to the
//! others equally. From its share each subscriber's audio is taken off, and its video
//! goes by importance: every tile gets its small layer while that fits, then the full one
//! where its view wants it and the difference fits ([`allocate`]). A tile turned down takes effect at once; one turned up again only once
//! the room for it has lasted [`STEP_UP_AFTER`]. Switches go through the rewriter like
//! any other, at keyframes and with no gaps.
//!
//! Each subscriber's own downlink bounds its share too, when the SFU estimates it
//! (`with_downlink_estimates`): a [`Downlink`] ceiling, moved by the loss its client's
//! receiver reports say, though never below its audio, screen shares and every other
//! tile's cheapest layer (a ceiling holds tiles small, it does not pause them). Without
//! a budget the same fitting applies with the ceilings alone. (Not str0m's TWCC
//! estimator: it paces everything sent to the estimate, which for forwarded media sits
//! at about twice what is sent, so keyframes and tiles made larger would queue.)
//!
//! What is shared out is the budget times a headroom, which shrinks while the measured
//! upload is over the budget anyway (resends, reports, costs measured low) and grows back
//! slowly while it is under [`RISE_BELOW`] of it.

use super::*;

/// How long room for a better layer must last before a tile is turned up.
pub const STEP_UP_AFTER: Duration = Duration::from_secs(5);

/// The headroom's range and start: the share of the budget handed out.
const HEADROOM_MAX: f64 = 0.98;
const HEADROOM_MIN: f64 = 0.5;
const HEADROOM_START: f64 = 0.9;
/// The headroom grows while the measured upload is under this share of the budget. It
/// is above the starting headroom: a room that wants more than the budget is allocated
/// about the headroom's share of it, and that must not hold the headroom where it is.
pub const RISE_BELOW: f64 = 0.95;

/// How often a subscriber's statistics (with what its receiver reports say) come.
pub const REPORTS_EVERY: Duration = Duration::from_secs(1);

/// Loss a subscriber's client reports above which, two seconds running, its downlink is
/// taken as full: what it is sent is cut to [`CUT_TO`] of itself.
const CONGESTED_ABOVE: f32 = 0.10;
const CUT_TO: f64 = 0.85;
/// Loss below which the link is taken as having room: the ceiling rises by [`RAISE_BY`]
/// a second, and goes once it is above what the view wants. Between the two (a lossy
/// radio link that is not full: resends cover it) it holds, for [`HOLD_AT_MOST`].
const CLEAR_BELOW: f32 = 0.02;
const RAISE_BY: f64 = 1.08;
const HOLD_AT_MOST: Duration = Duration::from_secs(10);

/// What a subscriber's downlink takes, from the loss its client reports (the fraction
/// lost in RTCP receiver reports, before resends, weighted by each m-line's packets): a
/// loss-based controller of the kind congestion control has long used. No ceiling:
/// nothing seen yet, or the link has room.
#[derive(Debug, Default)]
pub(super) struct Downlink {
    /// Packets sent on each m-line at its last statistics.
    packets: HashMap<Mid, u64>,
    /// Loss reported since the last second closed, times packets, and the packets.
    lost: f64,
    sent: f64,
    /// The loss of the last closed second, and when it closed.
    loss: Option<f32>,
    closed: Option<Instant>,
    /// Seconds running over [`CONGESTED_ABOVE`].
    over: u32,
    /// The most its media may take, bits per second.
    ceiling: Option<f64>,
    /// When the ceiling was last cut.
    cut: Option<Instant>,
}

impl Downlink {
    /// An m-line's statistics: `packets` sent on it so far, and the fraction `loss`
    /// (0–1) its receiver reports said was lost.
    pub fn reported(&mut self, mid: Mid, packets: u64, loss: f32) {
        let last = self.packets.insert(mid, packets).unwrap_or(0);
        let sent = packets.saturating_sub(last) as f64;
        self.lost += f64::from(loss.clamp(0.0, 1.0)) * sent;
        self.sent += sent;
    }

    /// The loss reported over the last second closed.
    pub fn loss(&self) -> Option<f32> {
        self.loss
    }

    /// Close a second of reports when one has passed, and move the ceiling by the loss
    /// reported beyond `upstream` (loss that is not this link's: what every subscriber
    /// of the room sees, lost before the relay), for a subscriber sent `receiving` and
    /// wanting `demand` (bits per second).
    pub fn update(&mut self, now: Instant, upstream: f32, receiving: f64, demand: f64) {
        if self
            .closed
            .is_some_and(|t| now.saturating_duration_since(t) < REPORTS_EVERY)
        {
            return;
        }
        self.closed = Some(now);
        let (lost, sent) = (
            std::mem::take(&mut self.lost),
            std::mem::take(&mut self.sent),
        );
        self.loss = (sent > 0.0).then(|| (lost / sent) as f32);
        let Some(loss) = self.loss.map(|l| (l - upstream).max(0.0)) else {
            return;
        };
        if loss > CONGESTED_ABOVE {
            self.over += 1;
            if self.over >= 2 {
                let from = self.ceiling.map_or(receiving, |c| c.min(receiving));
                self.ceiling = Some(from * CUT_TO);
                self.cut = Some(now);
                self.over = 0;
            }
            return;
        }
        self.over = 0;
        let held_long = self
            .cut
            .is_none_or(|t| now.saturating_duration_since(t) >= HOLD_AT_MOST);
        if let Some(c) = self.ceiling.filter(|_| loss < CLEAR_BELOW || held_long) {
            let raised = c * RAISE_BY;
            self.ceiling = (raised < demand).then_some(raised);
        }
    }

    pub fn ceiling(&self) -> Option<f64> {
        self.ceiling
    }
}

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
        // The reference client's 90 kbit/s, with headers.
        (_, _, Layer::Small) => 110_000.0,
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

impl Want {
    /// What the layer its view wants costs.
    fn cost(&self) -> f64 {
        match (self.wanted, self.small) {
            (Layer::Small, Some(small)) => small,
            _ => self.full,
        }
    }
}

/// Max-min fair shares of `total` bits per second among subscribers that want
/// `demands`: in order of demand, each gets what it wants or an equal part of what is
/// left, whichever is less. So nobody gets more than it wants, and what one does not
/// need goes to the others. An infinite `total` gives everyone its demand.
pub(super) fn water_fill(total: f64, demands: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..demands.len()).collect();
    order.sort_by(|a, b| demands[*a].total_cmp(&demands[*b]));
    let mut shares = vec![0.0; demands.len()];
    let mut left = total;
    for (k, &i) in order.iter().enumerate() {
        let part = left / (demands.len() - k) as f64;
        shares[i] = demands[i].max(0.0).min(part);
        left -= shares[i];
    }
    shares
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
        // The cheapest layer first: the small one, unless the full one costs no more
        // (a camera's encoder starting up, or a small layer not measured yet).
        let (cap, cost) = match w.small {
            _ if w.class == Class::Screen => (Cap::Full, w.cost()),
            Some(small) if small < w.full => (Cap::Small, small),
            _ => (Cap::Full, w.cost()),
        };
        let (cap, cost) = if cost <= left || w.class == Class::Screen {
            (cap, cost)
        } else {
            (Cap::Paused, 0.0)
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

    /// What is shared out among the subscribers, bits per second; `None` without a
    /// budget.
    pub fn total(&self) -> Option<f64> {
        Some(self.limit? as f64 * self.headroom)
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
        // About 8% a second down while over, 4% a second back up while under.
        if self.rate > limit {
            self.headroom = (self.headroom * 0.98).max(HEADROOM_MIN);
        } else if self.rate < limit * RISE_BELOW {
            self.headroom = (self.headroom + 0.01).min(HEADROOM_MAX);
        }
    }
}

/// What one subscriber's view wants: its audio's cost, and its video m-lines' wants
/// with their indexes in its `tracks_out`.
#[derive(Default)]
struct Wanted {
    audio: f64,
    wants: Vec<Want>,
    at: Vec<usize>,
    /// What it is sent now: its audio and the layers its m-lines get.
    receiving: f64,
}

impl Wanted {
    /// What the view wants, with its audio. A bit per second over: what fits exactly
    /// must not miss by a rounding.
    fn demand(&self) -> f64 {
        self.audio + self.wants.iter().map(Want::cost).sum::<f64>() + 1.0
    }

    /// Its audio, screen shares, and every other tile's cheapest layer.
    fn floor(&self) -> f64 {
        let cheapest = |w: &Want| match w.class {
            Class::Screen => w.cost(),
            _ => w.small.unwrap_or(w.full).min(w.cost()),
        };
        self.audio + self.wants.iter().map(cheapest).sum::<f64>() + 1.0
    }
}

impl Sfu {
    /// Fit every subscriber's video into its share of the upload budget (see the module
    /// docs); without a budget, lift every cap.
    pub(super) fn allocate_upload(&mut self, now: Instant) {
        if self.budget.total().is_none() && !self.estimates {
            self.lift_caps();
            return;
        }
        let ids: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(_, p)| p.role == Role::Subscribe && p.alive)
            .map(|(id, _)| *id)
            .collect();
        let wanted: Vec<Wanted> = ids.iter().map(|id| self.wanted(now, *id)).collect();
        // Loss every subscriber of a room reports was not their links' doing: a
        // publisher's uplink lost it. Each is held by what it reports beyond the least
        // the others of its room do.
        let losses: Vec<(&str, Option<f32>)> = ids
            .iter()
            .map(|id| {
                let p = &self.peers[id];
                (p.group.as_str(), p.downlink.loss())
            })
            .collect();
        let upstream: Vec<f32> = (0..ids.len())
            .map(|i| {
                losses
                    .iter()
                    .enumerate()
                    .filter(|(j, (g, _))| *j != i && *g == losses[i].0)
                    .filter_map(|(_, (_, l))| *l)
                    .reduce(f32::min)
                    .unwrap_or(0.0)
            })
            .collect();
        let mut limited = false;
        for ((id, w), upstream) in ids.iter().zip(&wanted).zip(upstream) {
            let p = self.peers.get_mut(id).expect("listed above");
            let before = p.downlink.ceiling();
            p.downlink.update(now, upstream, w.receiving, w.demand());
            let ceiling = p.downlink.ceiling();
            if ceiling != before {
                debug!(identity = %p.identity, ?ceiling, receiving = w.receiving, "downlink: what it takes");
            }
            limited |= ceiling.is_some();
        }
        let total = match self.budget.total() {
            Some(total) => total,
            None if limited => f64::INFINITY,
            None => {
                self.lift_caps();
                return;
            }
        };
        // What each may have: what its view wants, within what its downlink takes (but
        // never below every tile's cheapest layer: a downlink holds tiles small, it does
        // not pause them).
        let limits: Vec<f64> = ids
            .iter()
            .zip(&wanted)
            .map(|(id, w)| match self.peers[id].downlink.ceiling() {
                Some(ceiling) => w.demand().min(ceiling.max(w.floor())),
                None => w.demand(),
            })
            .collect();
        let shares = water_fill(total, &limits);
        for (
            (
                id,
                Wanted {
                    audio, wants, at, ..
                },
            ),
            share,
        ) in ids.into_iter().zip(wanted).zip(shares)
        {
            let caps = allocate(share - audio, &wants);
            tracing::trace!(identity = %self.peers[&id].identity, share, audio, ?wants, ?caps, "allocated");
            let sub = self.peers.get_mut(&id).expect("listed above");
            for (i, out) in sub.tracks_out.iter_mut().enumerate() {
                let cap = at
                    .iter()
                    .position(|j| *j == i)
                    .map_or(Cap::Full, |k| caps[k]);
                if cap < out.cap {
                    debug!(identity = %sub.identity, from = %out.identity, ?cap, share, audio, ?wants, "upload budget: a tile turned down");
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

    fn lift_caps(&mut self) {
        for p in self.peers.values_mut() {
            for out in &mut p.tracks_out {
                out.cap = Cap::Full;
                out.raise_since = None;
            }
        }
    }

    /// What subscriber `id` receives now: its audio's cost and its video m-lines' wants.
    fn wanted(&self, now: Instant, id: PeerId) -> Wanted {
        let sub = &self.peers[&id];
        let active = self
            .speakers
            .get(&sub.group)
            .and_then(|t| t.active.as_deref());
        let mut w = Wanted::default();
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
                    w.audio += full.cost();
                    w.receiving += full.cost();
                }
                continue;
            }
            if let Some(index) = out.rewriter.sending() {
                let sent = layer(forward::layer_of(index));
                w.receiving += sent.map_or(0.0, |t| t.cost());
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
            w.wants.push(Want {
                class,
                wanted,
                full: full.cost(),
                small: small.map(|t| t.cost()),
            });
            w.at.push(i);
        }
        w
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
    fn a_full_layer_that_costs_less_than_the_small_one_is_taken_first() {
        // The camera's encoder is starting up (56 kbit/s measured) and its small layer
        // was never measured (its nominal cost): the full layer fits, nothing is paused.
        let w = Want {
            class: Class::Large,
            wanted: Layer::Full,
            full: 56_000.0,
            small: Some(130_000.0),
        };
        assert_eq!(allocate(60_000.0, &[w]), [Cap::Full]);
        assert_eq!(allocate(50_000.0, &[w]), [Cap::Paused]);
        // A small tile sends the small layer, whatever the full one costs.
        let small_tile = Want {
            wanted: Layer::Small,
            ..w
        };
        assert_eq!(allocate(140_000.0, &[small_tile]), [Cap::Full]);
        assert_eq!(allocate(100_000.0, &[small_tile]), [Cap::Paused]);
    }

    #[test]
    fn a_downlink_is_cut_while_full_and_raised_while_clear() {
        let t0 = Instant::now();
        let second = |n: u64| t0 + Duration::from_secs(n);
        let (video, audio) = (Mid::from("v"), Mid::from("a"));
        let mut d = Downlink::default();
        let mut packets = 0;
        // Each second: 100 video packets with `loss`, 50 audio packets with none.
        let mut report = |d: &mut Downlink, loss: f32| {
            packets += 100;
            d.reported(video, packets, loss);
            d.reported(audio, packets / 2, 0.0);
        };
        d.update(second(0), 0.0, 1e6, 1e6);
        assert_eq!(d.ceiling(), None, "no reports, no ceiling");
        // 5% (a radio link): held, whatever its noise.
        for n in 1..=5 {
            report(&mut d, if n % 2 == 0 { 0.16 } else { 0.05 });
            d.update(second(n), 0.0, 1e6, 1e6);
        }
        assert_eq!(
            d.ceiling(),
            None,
            "a lossy link that is not full keeps what it gets"
        );
        // Full: 30% of the video lost (20% of all packets), two seconds running.
        report(&mut d, 0.3);
        d.update(second(6), 0.0, 1e6, 1e6);
        assert_eq!(d.loss(), Some(0.2));
        assert_eq!(d.ceiling(), None, "one second is not yet congestion");
        report(&mut d, 0.3);
        d.update(second(7), 0.0, 1e6, 1e6);
        assert_eq!(d.ceiling(), Some(850_000.0));
        d.update(second(7) + Duration::from_millis(500), 0.0, 850_000.0, 1e6);
        report(&mut d, 0.3);
        d.update(second(8), 0.0, 800_000.0, 1e6);
        report(&mut d, 0.3);
        d.update(second(9), 0.0, 800_000.0, 1e6);
        assert_eq!(d.ceiling(), Some(800_000.0 * 0.85), "cut from what is sent");
        // Clear: raised 8% a second until it covers what the view wants, then gone.
        for n in 10..40 {
            report(&mut d, 0.0);
            d.update(second(n), 0.0, 500_000.0, 1e6);
        }
        assert_eq!(d.ceiling(), None);
        // Loss the whole room reports (a publisher's uplink) is not this link's.
        let mut d = Downlink::default();
        for n in 1..=3 {
            d.reported(video, 100 * n, 0.3);
            d.update(second(n), 0.25, 1e6, 1e6);
        }
        assert_eq!(d.ceiling(), None);
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
        assert_eq!(b.total(), Some(900_000.0));
        b.check(t0);
        let mut t = t0;
        for _ in 0..8 {
            t += Duration::from_millis(250);
            b.sent(2_000_000 / 8 / 4);
            b.check(t);
        }
        assert!(b.rate() > 1_000_000, "{}", b.rate());
        let squeezed = b.total().unwrap();
        assert!(squeezed < 850_000.0, "{squeezed}");
        for _ in 0..400 {
            t += Duration::from_millis(250);
            b.sent(300_000 / 8 / 4);
            b.check(t);
        }
        assert_eq!(b.total(), Some(1_000_000.0 * HEADROOM_MAX));
        assert_eq!(Budget::new(None).total(), None, "no budget, no shares");
    }

    #[test]
    fn the_headroom_grows_while_the_room_is_held_to_it() {
        // A room that wants more than the budget is allocated the headroom's share of
        // it, and measures about that: the headroom still grows, up to where the upload
        // is nearly the budget.
        let t0 = Instant::now();
        let mut b = Budget::new(Some(1_000_000));
        b.check(t0);
        let mut t = t0;
        for _ in 0..200 {
            t += Duration::from_millis(250);
            let allocated = b.total().unwrap();
            b.sent((allocated / 8.0 / 4.0) as usize);
            b.check(t);
        }
        let total = b.total().unwrap();
        assert!(
            total >= 1_000_000.0 * RISE_BELOW && b.rate() <= 1_000_000,
            "{total} {}",
            b.rate()
        );
    }

    #[test]
    fn what_one_subscriber_leaves_goes_to_the_others() {
        let shares = water_fill(300.0, &[50.0, 200.0, 200.0]);
        assert_eq!(shares, [50.0, 125.0, 125.0]);
        // Everyone fits: each gets its demand, and the rest is left.
        assert_eq!(water_fill(1000.0, &[50.0, 200.0]), [50.0, 200.0]);
        // Equal demands over the total: equal shares.
        assert_eq!(water_fill(300.0, &[400.0, 400.0, 400.0]), [100.0; 3]);
        assert_eq!(water_fill(f64::INFINITY, &[7.0, 9.0]), [7.0, 9.0]);
        assert!(water_fill(100.0, &[]).is_empty());
    }
}
