//! Forwarding: each RTP packet of a publisher goes to the subscribers of its room that
//! receive its track (found through the room's subscriber list, never by walking every
//! peer of the node), renumbered per receiver ([`Rewriter`]) so that what a receiver
//! does not get (a hidden tile, a muted source) leaves no gap; keyframe requests go back
//! the other way.

use str0m::rtp::Vp8Descriptor;

use super::budget;
use super::rewrite::{self, Incoming, Rewriter};
use super::*;

/// The rewriter's index of a layer.
pub(super) fn index_of(layer: Layer) -> rewrite::Layer {
    match layer {
        Layer::Full => 0,
        Layer::Small => 1,
    }
}

/// The layer of a rewriter's index.
pub(super) fn layer_of(index: rewrite::Layer) -> Layer {
    if index == 0 {
        Layer::Full
    } else {
        Layer::Small
    }
}

/// The layer a subscriber's view wants on its m-line now, if any: nothing while the
/// source is off or the tile hidden; the small layer for a small tile when the publisher
/// sends one.
pub(super) fn wanted_layer(out: &TrackOut, enabled: bool, has_small: bool) -> Option<Layer> {
    if !enabled || (out.kind == MediaKind::Video && !out.visible) {
        return None;
    }
    Some(if out.small && has_small {
        Layer::Small
    } else {
        Layer::Full
    })
}

/// The layer the m-line gets now: what its view wants, within the upload budget's cap.
pub(super) fn sent_layer(out: &TrackOut, enabled: bool, has_small: bool) -> Option<Layer> {
    out.cap
        .apply(wanted_layer(out, enabled, has_small), has_small)
}

/// Ticks per second of a track's RTP timestamps.
pub(super) fn clock_of(kind: MediaKind) -> u32 {
    match kind {
        MediaKind::Video => 90_000,
        MediaKind::Audio => 48_000,
    }
}

/// A rewriter for a new outgoing track: it sends the full layer from the first keyframe.
pub(super) fn new_rewriter(kind: MediaKind) -> Rewriter {
    Rewriter::new(clock_of(kind), Some(index_of(Layer::Full)))
}

/// Whether a VP8 RTP payload starts a keyframe (str0m parses the payload descriptor).
fn starts_vp8_keyframe(payload: &[u8]) -> bool {
    Vp8Descriptor::parse(payload).is_ok_and(|d| d.starts_keyframe(payload))
}

impl Sfu {
    /// Forward one publisher RTP packet to every subscriber of its track that wants it
    /// now (the source is on and the subscriber shows it).
    pub(super) fn forward(&mut self, now: Instant, publisher: PeerId, packet: RtpPacket) {
        let Some(p) = self.peers.get_mut(&publisher) else {
            return;
        };
        let Some(mid) = p
            .rtc
            .direct_api()
            .stream_rx(&packet.header.ssrc)
            .map(|rx| rx.mid())
        else {
            return;
        };
        let Some(track) = p.tracks_in.get_mut(&mid) else {
            return;
        };
        let video = track.kind == MediaKind::Video;
        track.bytes += packet.payload.len() as u64 + budget::PACKET_OVERHEAD;
        if !video {
            let ext = &packet.header.ext_vals;
            track.voice.packet(now, ext.audio_level, ext.voice_activity);
        }
        // A microphone the room does not need now (see `speakers`) is paused like a
        // muted one, for everybody.
        let enabled = track.enabled && (video || track.voice.audible(now));
        let (source, layer) = (track.source, track.layer);
        let has_small = p
            .tracks_in
            .values()
            .any(|t| t.source == source && t.layer == Layer::Small);
        let Some(params) = p
            .rtc
            .codec_config()
            .params()
            .iter()
            .find(|c| c.pt() == packet.header.payload_type)
            .copied()
        else {
            debug!(pt = %packet.header.payload_type, "packet with an unknown payload type");
            return;
        };
        // What receivers may use: the codec's own extensions, not transport ones (str0m
        // sets mid, send time and transport-wide sequence numbers per connection).
        let mut ext = ExtensionValues::default();
        let inc = &packet.header.ext_vals;
        ext.audio_level = inc.audio_level;
        ext.voice_activity = inc.voice_activity;
        ext.video_orientation = inc.video_orientation;
        ext.video_content_type = inc.video_content_type;
        let incoming = Incoming {
            layer: index_of(layer),
            seq: *packet.seq_no,
            ts: packet.header.timestamp,
            arrival: packet.timestamp,
            keyframe: !video || starts_vp8_keyframe(&packet.payload),
            frame_end: !video || packet.header.marker,
        };
        let Some(subs) = self.subscribers.get(&p.group) else {
            return;
        };
        // Layers some subscriber waits for a keyframe of.
        let mut wants_keyframe = [false; 2];
        for &sub in subs {
            let Some(peer) = self.peers.get_mut(&sub).filter(|s| s.alive) else {
                continue;
            };
            // One m-line per source, whichever layer feeds it.
            let Some(out) = peer.tracks_out.iter_mut().find(|t| {
                t.publisher == publisher
                    && t.source == source
                    && matches!(t.state, OutState::Open(_))
            }) else {
                continue;
            };
            let OutState::Open(out_mid) = out.state else {
                continue;
            };
            let pt = match out.pt {
                Some(pt) => pt,
                None => match peer.rtc.codec_config().match_params(params) {
                    Some(found) => *out.pt.insert(found.pt()),
                    None => continue,
                },
            };
            let wanted = sent_layer(out, enabled, has_small);
            out.rewriter.set_target(wanted.map(index_of));
            let Some(to) = out.rewriter.rewrite(incoming) else {
                if let Some(w) = wanted.filter(|_| out.rewriter.needs_keyframe()) {
                    wants_keyframe[usize::from(index_of(w))] = true;
                }
                continue;
            };
            let write = RtpWrite::new(
                pt,
                SeqNo::from(to.seq),
                to.ts,
                packet.timestamp,
                packet.payload.clone(),
            )
            .marker(packet.header.marker)
            .nackable(video)
            .ext_vals(ext.clone());
            let known = out.ssrc;
            let written = guarded(peer, "write_rtp", |rtc| {
                let mut api = rtc.direct_api();
                let tx = match known {
                    Some(ssrc) => api.stream_tx(&ssrc),
                    None => api.stream_tx_by_mid(out_mid, None),
                };
                Ok(tx.map(|tx| {
                    tx.write_rtp(write);
                    tx.ssrc()
                }))
            });
            if let (None, Some(Some(ssrc))) = (known, written) {
                if let Some(out) = peer
                    .tracks_out
                    .iter_mut()
                    .find(|t| t.state == OutState::Open(out_mid))
                {
                    out.ssrc = Some(ssrc);
                }
            }
            if !peer.dirty {
                peer.dirty = true;
                self.dirty.push(sub);
            }
        }
        // Someone starts, resumes or switches to a layer: its decoder needs a keyframe.
        for layer in [Layer::Full, Layer::Small] {
            if wants_keyframe[usize::from(index_of(layer))] {
                if let Some(mid) = self.layer_mid(publisher, source, layer) {
                    self.request_keyframe(now, publisher, mid, false);
                }
            }
        }
    }

    /// The mid of `source`'s `layer` on a publish peer.
    pub(super) fn layer_mid(
        &self,
        publisher: PeerId,
        source: TrackSource,
        layer: Layer,
    ) -> Option<Mid> {
        self.peers
            .get(&publisher)?
            .tracks_in
            .iter()
            .find_map(|(mid, t)| (t.source == source && t.layer == layer).then_some(*mid))
    }

    pub(super) fn request_keyframe(
        &mut self,
        now: Instant,
        publisher: PeerId,
        mid: Mid,
        force: bool,
    ) {
        let Some(peer) = self.peers.get_mut(&publisher) else {
            return;
        };
        let Some(track) = peer.tracks_in.get_mut(&mid) else {
            return;
        };
        if track.kind != MediaKind::Video {
            return;
        }
        if let Some(last) = track.last_keyframe_request {
            if !force && now.saturating_duration_since(last) < KEYFRAME_REQUEST_INTERVAL {
                return;
            }
            if force && now.saturating_duration_since(last) < Duration::from_millis(50) {
                return;
            }
        }
        track.last_keyframe_request = Some(now);
        debug!(%mid, force, "asking the publisher for a keyframe");
        guarded(peer, "request_keyframe", |rtc| {
            if let Some(rx) = rtc.direct_api().stream_rx_by_mid(mid, None) {
                rx.request_keyframe(KeyframeRequestKind::Pli);
            }
            Ok(())
        });
        self.drain(now, publisher);
    }
}
