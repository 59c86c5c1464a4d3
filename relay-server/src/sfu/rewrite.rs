//! One outgoing stream, whatever feeds it. A subscriber's m-line carries one stream
//! (one SSRC, one sequence of numbers and timestamps) while what the relay sends on it
//! changes: nothing while the tile is hidden or the source is muted, then the
//! publisher's packets again, and (with layers) one layer or another. The receiver must
//! never see a gap it would ask to be resent, nor time going backwards, so each m-line
//! has a [`Rewriter`]:
//!
//! - a change of what is wanted (its *target*) takes effect at a clean point: a pause
//!   at the end of the frame being sent, a start or a switch at the first packet of a
//!   keyframe of the target (its decoder needs nothing before it);
//! - outgoing sequence numbers go on from the last one sent, with no gap for what was
//!   left out;
//! - outgoing timestamps keep the publisher's timing within one incoming stream, and
//!   move on by the time that passed across a switch between streams (whose timestamp
//!   bases need not agree).
//!
//! Pure: it takes what a packet says and when it arrived, and answers what to write.

use std::time::Instant;

/// Which incoming stream of a published track: 0 is the full one.
pub(crate) type Layer = u8;

/// What the rewriter needs of an incoming packet.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Incoming {
    pub(crate) layer: Layer,
    /// Extended sequence number (str0m's, without rollover gaps).
    pub(crate) seq: u64,
    pub(crate) ts: u32,
    pub(crate) arrival: Instant,
    /// The first packet of a keyframe: a decoder can start here. Every audio packet.
    pub(crate) keyframe: bool,
    /// The last packet of a frame (RTP marker). Every audio packet.
    pub(crate) frame_end: bool,
}

/// The number and timestamp to write a packet with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Outgoing {
    pub(crate) seq: u64,
    pub(crate) ts: u32,
}

#[derive(Debug, Clone, Copy)]
struct Mapping {
    layer: Layer,
    /// The first incoming number of this mapping (older packets are not sent), and the
    /// outgoing number it got.
    first_in: u64,
    first_out: u64,
    ts_offset: u32,
}

#[derive(Debug, Clone, Copy)]
struct Last {
    seq: u64,
    ts: u32,
    arrival: Instant,
    frame_end: bool,
    layer: Layer,
    ts_offset: u32,
}

/// Renumbers one outgoing stream. See the module docs.
#[derive(Debug, Clone)]
pub(crate) struct Rewriter {
    /// Ticks per second of the stream's timestamps (90 000 for video, 48 000 for Opus).
    clock: u32,
    target: Option<Layer>,
    current: Option<Mapping>,
    /// The highest-numbered packet written.
    last: Option<Last>,
}

impl Rewriter {
    /// A stream of `clock` ticks a second that starts with layer `target` (`None`:
    /// nothing until [`Rewriter::set_target`]).
    pub(crate) fn new(clock: u32, target: Option<Layer>) -> Self {
        Rewriter {
            clock,
            target,
            current: None,
            last: None,
        }
    }

    /// What should be sent from now: a layer, or nothing.
    pub(crate) fn set_target(&mut self, target: Option<Layer>) {
        self.target = target;
    }

    /// Whether the target is waiting for a keyframe: someone should ask for one.
    pub(crate) fn needs_keyframe(&self) -> bool {
        self.target
            .is_some_and(|t| self.current.is_none_or(|c| c.layer != t))
    }

    /// The layer being sent now, if any (the target once it has started).
    pub(crate) fn sending(&self) -> Option<Layer> {
        self.current.map(|c| c.layer)
    }

    /// Where `p` goes out, or `None` when it is not sent.
    pub(crate) fn rewrite(&mut self, p: Incoming) -> Option<Outgoing> {
        let switch_to_target = self.target == Some(p.layer)
            && p.keyframe
            && self.current.is_none_or(|c| c.layer != p.layer);
        if switch_to_target {
            self.start(p);
        }
        let cur = self.current.filter(|c| c.layer == p.layer)?;
        if p.seq < cur.first_in {
            return None;
        }
        if self.target.is_none() {
            // Pausing: the frame being sent is finished, nothing after it goes out.
            let at_boundary = self
                .last
                .is_some_and(|l| l.frame_end && l.layer == p.layer && p.seq > l.seq);
            if at_boundary {
                self.current = None;
                return None;
            }
        }
        let out = Outgoing {
            seq: cur.first_out + (p.seq - cur.first_in),
            ts: p.ts.wrapping_add(cur.ts_offset),
        };
        if self.last.is_none_or(|l| out.seq > l.seq) {
            self.last = Some(Last {
                seq: out.seq,
                ts: out.ts,
                arrival: p.arrival,
                frame_end: p.frame_end,
                layer: p.layer,
                ts_offset: cur.ts_offset,
            });
        }
        if self.target.is_none() && p.frame_end {
            self.current = None;
        }
        Some(out)
    }

    /// Map `p`'s stream from `p` on, continuing from what was last sent.
    fn start(&mut self, p: Incoming) {
        let (first_out, ts_offset) = match self.last {
            // The very first packet: the low 16 bits stay the publisher's, the
            // rollover count starts at 0 (what a fresh SRTP receiver expects).
            None => (p.seq & 0xffff, 0),
            // The same stream again after a pause: its own timing still holds.
            Some(l) if l.layer == p.layer => (l.seq + 1, l.ts_offset),
            // Another stream: time moves on by what passed since the last packet.
            Some(l) => {
                let elapsed = p.arrival.saturating_duration_since(l.arrival);
                let ticks = (elapsed.as_micros() * u128::from(self.clock) / 1_000_000)
                    .clamp(1, u128::from(u32::MAX / 2)) as u32;
                let want = l.ts.wrapping_add(ticks);
                (l.seq + 1, want.wrapping_sub(p.ts))
            }
        };
        self.current = Some(Mapping {
            layer: p.layer,
            first_in: p.seq,
            first_out,
            ts_offset,
        });
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// Frames of `per_frame` packets from one stream: the first of a keyframe where
    /// `key(frame)`, 3000 ticks (33 ms) apart.
    struct Stream {
        layer: Layer,
        seq: u64,
        ts: u32,
        per_frame: u64,
    }

    impl Stream {
        fn frame(&mut self, at: Instant, key: bool) -> Vec<Incoming> {
            let packets = (0..self.per_frame)
                .map(|i| Incoming {
                    layer: self.layer,
                    seq: self.seq + i,
                    ts: self.ts,
                    arrival: at,
                    keyframe: key && i == 0,
                    frame_end: i + 1 == self.per_frame,
                })
                .collect();
            self.seq += self.per_frame;
            self.ts = self.ts.wrapping_add(3000);
            packets
        }
    }

    fn send(r: &mut Rewriter, packets: &[Incoming]) -> Vec<Outgoing> {
        packets.iter().filter_map(|p| r.rewrite(*p)).collect()
    }

    fn assert_continuous(out: &[Outgoing]) {
        for w in out.windows(2) {
            assert_eq!(w[1].seq, w[0].seq + 1, "a gap or a repeat: {out:?}");
            assert!(
                (w[1].ts.wrapping_sub(w[0].ts) as i32) >= 0,
                "time went backwards: {out:?}"
            );
        }
    }

    #[test]
    fn a_stream_starts_at_a_keyframe_with_the_publishers_low_bits_and_rollover_zero() {
        let t0 = Instant::now();
        let mut s = Stream {
            layer: 0,
            seq: 3 * 65_536 + 100,
            ts: 7,
            per_frame: 3,
        };
        let mut r = Rewriter::new(90_000, Some(0));
        assert!(
            send(&mut r, &s.frame(t0, false)).is_empty(),
            "not a keyframe"
        );
        assert!(r.needs_keyframe());
        let out = send(&mut r, &s.frame(t0, true));
        assert!(!r.needs_keyframe());
        assert_eq!(out[0].seq, 103);
        assert_eq!(out[0].ts, 7 + 3000);
        let more = send(&mut r, &s.frame(t0, false));
        assert_continuous(&[out, more].concat());
    }

    #[test]
    fn a_pause_ends_with_the_frame_and_a_resume_waits_for_a_keyframe_with_no_gap() {
        let t0 = Instant::now();
        let mut s = Stream {
            layer: 0,
            seq: 10,
            ts: 0,
            per_frame: 4,
        };
        let mut r = Rewriter::new(90_000, Some(0));
        let mut out = send(&mut r, &s.frame(t0, true));
        // Hidden halfway through a frame: its rest is sent, then nothing.
        let frame = s.frame(t0, false);
        out.extend(send(&mut r, &frame[..2]));
        r.set_target(None);
        out.extend(send(&mut r, &frame[2..]));
        assert_eq!(out.len(), 8);
        for _ in 0..5 {
            assert!(send(&mut r, &s.frame(t0, false)).is_empty());
        }
        assert!(send(&mut r, &s.frame(t0, true)).is_empty(), "still hidden");
        // Shown again: the next keyframe, numbered right after the last packet sent.
        r.set_target(Some(0));
        assert!(send(&mut r, &s.frame(t0, false)).is_empty());
        assert!(r.needs_keyframe());
        let resumed = send(&mut r, &s.frame(t0, true));
        assert_eq!(resumed.len(), 4);
        assert_eq!(resumed[0].seq, out.last().unwrap().seq + 1);
        // Same stream: its timing holds (8 frames of 3000 ticks later).
        assert_eq!(resumed[0].ts, out.last().unwrap().ts + 8 * 3000);
        assert_continuous(&[out, resumed].concat());
    }

    #[test]
    fn a_pause_at_a_frame_boundary_sends_nothing_more() {
        let t0 = Instant::now();
        let mut s = Stream {
            layer: 0,
            seq: 0,
            ts: 0,
            per_frame: 2,
        };
        let mut r = Rewriter::new(90_000, Some(0));
        assert_eq!(send(&mut r, &s.frame(t0, true)).len(), 2);
        r.set_target(None);
        assert!(send(&mut r, &s.frame(t0, false)).is_empty());
        assert_eq!(r.sending(), None);
    }

    #[test]
    fn a_switch_between_layers_happens_at_the_targets_keyframe_and_time_moves_on() {
        let t0 = Instant::now();
        let mut full = Stream {
            layer: 0,
            seq: 1000,
            ts: 1_000_000,
            per_frame: 5,
        };
        // The small layer has its own numbers and timestamp base.
        let mut small = Stream {
            layer: 1,
            seq: 50,
            ts: 4_000_000_000,
            per_frame: 1,
        };
        let mut r = Rewriter::new(90_000, Some(0));
        let mut out = Vec::new();
        let mut at = t0;
        out.extend(send(&mut r, &full.frame(at, true)));
        out.extend(send(&mut r, &small.frame(at, true)));
        assert_eq!(out.len(), 5, "the small layer is not the target");
        r.set_target(Some(1));
        for _ in 0..3 {
            at += Duration::from_millis(33);
            // The full layer goes on until the small one has a keyframe.
            out.extend(send(&mut r, &full.frame(at, false)));
            out.extend(send(&mut r, &small.frame(at, false)));
        }
        assert_eq!(out.len(), 20);
        assert_eq!(r.sending(), Some(0));
        at += Duration::from_millis(33);
        out.extend(send(&mut r, &small.frame(at, true)));
        assert_eq!(r.sending(), Some(1));
        out.extend(send(&mut r, &full.frame(at, false)));
        assert_eq!(out.len(), 21, "the full layer stopped at the switch");
        // 33 ms after the last packet: 2970 ticks on.
        assert_eq!(out[20].ts.wrapping_sub(out[19].ts), 2970);
        at += Duration::from_millis(33);
        out.extend(send(&mut r, &small.frame(at, false)));
        assert_eq!(out[21].ts.wrapping_sub(out[20].ts), 3000);
        assert_continuous(&out);
    }

    #[test]
    fn late_packets_of_a_stream_fill_their_own_gap_and_older_ones_are_dropped() {
        let t0 = Instant::now();
        let mut s = Stream {
            layer: 0,
            seq: 500,
            ts: 0,
            per_frame: 3,
        };
        let mut r = Rewriter::new(90_000, Some(0));
        let key = s.frame(t0, true);
        let first = r.rewrite(key[1]);
        assert_eq!(first, None, "not the keyframe's first packet");
        let out0 = r.rewrite(key[0]).unwrap();
        let out2 = r.rewrite(key[2]).unwrap();
        assert_eq!(out2.seq, out0.seq + 2);
        // key[1] arrives again (a resend): it gets the number between.
        assert_eq!(r.rewrite(key[1]).unwrap().seq, out0.seq + 1);
        // Something from before the mapping started cannot be numbered.
        let older = Incoming { seq: 499, ..key[0] };
        assert_eq!(r.rewrite(older), None);
    }

    #[test]
    fn timestamps_wrap_without_going_backwards() {
        let t0 = Instant::now();
        let mut s = Stream {
            layer: 0,
            seq: 0,
            ts: u32::MAX - 4000,
            per_frame: 1,
        };
        let mut r = Rewriter::new(90_000, Some(0));
        let mut out = send(&mut r, &s.frame(t0, true));
        for _ in 0..4 {
            out.extend(send(&mut r, &s.frame(t0, false)));
        }
        assert_continuous(&out);
        assert!(out.last().unwrap().ts < 20_000, "wrapped");
    }
}
