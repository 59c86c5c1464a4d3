//! VP8 frame assembly from RTP packets: reorders by sequence number, waits a bounded time
//! for retransmissions to fill holes, and completes a frame at its marker bit (so no
//! frame waits for the next one to begin).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rtc::rtp::codec::vp8::Vp8Packet;
use rtc::rtp::packetizer::Depacketizer;
use rtc::rtp::Packet;

/// How long a hole may stay open waiting for a retransmission.
pub const DEFAULT_WAIT: Duration = Duration::from_millis(300);

/// Most packets held while waiting.
const MAX_HELD: usize = 1024;

/// What the assembler produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assembled {
    /// A complete frame (payload descriptors removed), and its RTP timestamp.
    Frame {
        data: Vec<u8>,
        keyframe: bool,
        timestamp: u32,
    },
    /// Packets were given up on: frames were lost, decoding needs a keyframe.
    Lost { packets: u64 },
}

struct Held {
    packet: Packet,
    arrived: Instant,
}

pub struct Vp8Assembler {
    wait: Duration,
    held: BTreeMap<u64, Held>,
    /// Extended sequence number of the next packet we expect to consume.
    cursor: Option<u64>,
    highest: Option<u64>,
    /// RTP timestamp of the last frame emitted: older frames are stale and dropped.
    last_timestamp: Option<u32>,
    depacketizer: Vp8Packet,
}

/// The extended (64-bit, wrap-free) form of RTP sequence number `seq`, as the one
/// nearest to the highest extended number seen so far.
pub(crate) fn extend_seq(highest: Option<u64>, seq: u16) -> u64 {
    match highest {
        None => u64::from(seq) + (1 << 16),
        Some(h) => {
            let base = h & !0xffff;
            [base.saturating_sub(1 << 16), base, base + (1 << 16)]
                .iter()
                .map(|b| b + u64::from(seq))
                .min_by_key(|c| c.abs_diff(h))
                .unwrap_or(h)
        }
    }
}

fn is_keyframe(frame: &[u8]) -> bool {
    // VP8 frame tag: bit 0 of the first byte is 0 for a keyframe.
    frame.first().is_some_and(|b| b & 0x01 == 0)
}

impl Vp8Assembler {
    pub fn new(wait: Duration) -> Self {
        Vp8Assembler {
            wait,
            held: BTreeMap::new(),
            cursor: None,
            highest: None,
            last_timestamp: None,
            depacketizer: Vp8Packet::default(),
        }
    }

    /// Add a packet; returns whatever became complete (or was given up on).
    pub fn push(&mut self, now: Instant, packet: Packet) -> Vec<Assembled> {
        let ext = extend_seq(self.highest, packet.header.sequence_number);
        if self.cursor.is_some_and(|c| ext < c) {
            return Vec::new(); // already consumed or given up: a late duplicate
        }
        self.highest = Some(self.highest.map_or(ext, |h| h.max(ext)));
        self.held.entry(ext).or_insert(Held {
            packet,
            arrived: now,
        });
        self.drain(now)
    }

    /// Give up on holes older than the wait (call periodically when no packets arrive).
    pub fn poll(&mut self, now: Instant) -> Vec<Assembled> {
        self.drain(now)
    }

    fn is_head(&self, p: &Packet) -> bool {
        self.depacketizer.is_partition_head(&p.payload)
    }

    fn drain(&mut self, now: Instant) -> Vec<Assembled> {
        let mut out = Vec::new();
        loop {
            // Start at the first frame head we hold.
            let cursor = match self.cursor {
                Some(c) => c,
                None => match self.held.iter().find(|(_, h)| self.is_head(&h.packet)) {
                    Some((s, _)) => {
                        self.cursor = Some(*s);
                        *s
                    }
                    None => return out,
                },
            };
            // Walk consecutive packets from the cursor up to a marker bit.
            let mut seq = cursor;
            let mut end = None;
            while let Some(h) = self.held.get(&seq) {
                if seq == cursor && !self.is_head(&h.packet) {
                    break; // the frame's first packet is missing
                }
                if h.packet.header.marker {
                    end = Some(seq);
                    break;
                }
                seq += 1;
            }
            if let Some(end) = end {
                let mut data = Vec::new();
                let mut ok = true;
                let timestamp = self.held[&cursor].packet.header.timestamp;
                for s in cursor..=end {
                    let h = self.held.remove(&s).expect("walked above");
                    match self.depacketizer.depacketize(&h.packet.payload) {
                        Ok(b) => data.extend_from_slice(&b),
                        Err(_) => ok = false,
                    }
                }
                self.cursor = Some(end + 1);
                // A frame older than one already emitted (a late duplicate) would break
                // the decoder's references: drop it.
                let stale = self
                    .last_timestamp
                    .is_some_and(|last| (timestamp.wrapping_sub(last) as i32) < 0);
                if stale {
                    continue;
                }
                self.last_timestamp = Some(timestamp);
                if ok {
                    let keyframe = is_keyframe(&data);
                    out.push(Assembled::Frame {
                        data,
                        keyframe,
                        timestamp,
                    });
                } else {
                    out.push(Assembled::Lost { packets: 0 });
                }
                continue;
            }
            // A hole (or an unfinished frame). Wait, unless it is too old or too much is held.
            let oldest = self.held.values().map(|h| h.arrived).min();
            let stale = oldest.is_some_and(|t| now.duration_since(t) > self.wait);
            if !(stale || self.held.len() > MAX_HELD) {
                return out;
            }
            // Give up up to the next frame head after the hole.
            let next_head = self
                .held
                .iter()
                .filter(|(s, _)| **s > cursor)
                .find(|(_, h)| self.is_head(&h.packet))
                .map(|(s, _)| *s);
            let Some(next) = next_head else {
                if stale
                    && self
                        .held
                        .values()
                        .all(|h| now.duration_since(h.arrived) > self.wait)
                {
                    let lost = self.held.len() as u64;
                    self.held.clear();
                    self.cursor = None;
                    out.push(Assembled::Lost { packets: lost });
                }
                return out;
            };
            tracing::debug!(
                missing_from = cursor & 0xffff,
                resume_at = next & 0xffff,
                held = self.held.len(),
                "giving up on a hole"
            );
            let dropped: Vec<u64> = self.held.range(..next).map(|(s, _)| *s).collect();
            for s in &dropped {
                self.held.remove(s);
            }
            out.push(Assembled::Lost {
                packets: (next - cursor).max(dropped.len() as u64),
            });
            self.cursor = Some(next);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use rtc::rtp::header::Header;

    /// A VP8 RTP packet: descriptor byte with S set on a frame's first packet, then data.
    fn pkt(seq: u16, ts: u32, first: bool, last: bool, body: &[u8]) -> Packet {
        let mut payload = vec![if first { 0x10 } else { 0x00 }];
        payload.extend_from_slice(body);
        Packet {
            header: Header {
                version: 2,
                sequence_number: seq,
                timestamp: ts,
                marker: last,
                ..Default::default()
            },
            payload: Bytes::from(payload),
        }
    }

    fn frames(out: &[Assembled]) -> Vec<Vec<u8>> {
        out.iter()
            .filter_map(|a| match a {
                Assembled::Frame { data, .. } => Some(data.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn completes_at_the_marker_and_reorders() {
        let t = Instant::now();
        let mut a = Vp8Assembler::new(DEFAULT_WAIT);
        assert!(a.push(t, pkt(10, 0, true, false, &[0, 1, 2])).is_empty());
        let out = a.push(t, pkt(11, 0, false, true, &[3, 4, 5]));
        assert_eq!(frames(&out), vec![vec![0, 1, 2, 3, 4, 5]]);
        assert!(matches!(out[0], Assembled::Frame { keyframe: true, .. }));
        // The next frame arrives out of order.
        assert!(a.push(t, pkt(13, 1, false, true, &[7, 7, 7])).is_empty());
        let out = a.push(t, pkt(12, 1, true, false, &[1, 6, 6]));
        assert_eq!(frames(&out), vec![vec![1, 6, 6, 7, 7, 7]]);
        assert!(matches!(
            out[0],
            Assembled::Frame {
                keyframe: false,
                ..
            }
        ));
    }

    #[test]
    fn waits_for_a_retransmission_then_gives_up() {
        let t = Instant::now();
        let mut a = Vp8Assembler::new(Duration::from_millis(300));
        a.push(t, pkt(1, 0, true, true, &[1, 1, 1]));
        // Packet 2 (first of frame 2) is lost; frame 3 is complete.
        assert!(a.push(t, pkt(3, 1, false, true, &[3, 3, 3])).is_empty());
        assert!(
            a.push(t, pkt(4, 2, true, true, &[9, 9, 9])).is_empty(),
            "held behind the hole"
        );
        // The retransmission arrives within the wait: everything completes in order.
        let out = a.push(
            t + Duration::from_millis(100),
            pkt(2, 1, true, false, &[2, 2, 2]),
        );
        assert_eq!(frames(&out), vec![vec![2, 2, 2, 3, 3, 3], vec![9, 9, 9]]);

        // Another hole that is never filled: given up after the wait.
        a.push(t, pkt(6, 3, false, true, &[6, 6, 6]));
        a.push(t, pkt(7, 4, true, true, &[7, 7, 7]));
        let out = a.poll(t + Duration::from_millis(400));
        assert!(matches!(out[0], Assembled::Lost { .. }), "{out:?}");
        assert_eq!(frames(&out), vec![vec![7, 7, 7]]);
        // A complete frame older than one already emitted is stale and dropped.
        let out = a.push(t, pkt(8, 3, true, true, &[8, 8, 8]));
        assert!(frames(&out).is_empty(), "{out:?}");
        // A late copy of what was given up is ignored.
        assert!(a.push(t, pkt(5, 3, true, false, &[5, 5, 5])).is_empty());
    }
}
