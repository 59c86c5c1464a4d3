//! Building webrtc-rs PeerConnections the way Studyhall needs them: VP8 + Opus with
//! NACK/RTX and PLI, host candidates only, no mDNS, and keyframe requests delivered to
//! the publishing side.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use rtc::interceptor::{Attribute, Interceptor, Packet, Slot, StreamInfo, TaggedPacket};
use rtc::rtcp::payload_feedbacks::full_intra_request::FullIntraRequest;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::sansio::Protocol;
use tokio::sync::{mpsc, watch};
use webrtc::media_stream::track_remote::TrackRemote;
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCConfigurationBuilder, RTCIceGatheringState, RTCPeerConnectionState, Registry,
    SettingEngineBuilder,
};

use super::MediaError;

/// Passes keyframe requests (PLI/FIR) that arrive for our sent tracks up to the
/// application, where the encoder can act on them; everything else continues as usual.
struct KeyframeRequestTap {
    reads: VecDeque<TaggedPacket>,
    writes: VecDeque<TaggedPacket>,
}

fn asks_for_keyframe(p: &dyn rtc::rtcp::Packet) -> bool {
    let any = p.as_any();
    any.is::<PictureLossIndication>() || any.is::<FullIntraRequest>()
}

impl Protocol<TaggedPacket, TaggedPacket, ()> for KeyframeRequestTap {
    type Rout = TaggedPacket;
    type Wout = TaggedPacket;
    type Eout = ();
    type Error = rtc::shared::error::Error;
    type Time = Instant;

    fn handle_read(&mut self, mut msg: TaggedPacket) -> Result<(), Self::Error> {
        if let Packet::Rtcp(packets) = &msg.message.packet {
            let wanted: Vec<Box<dyn rtc::rtcp::Packet>> = packets
                .iter()
                .filter(|p| asks_for_keyframe(p.as_ref()))
                .cloned()
                .collect();
            if wanted.is_empty() {
                return Ok(());
            }
            msg.message.packet = Packet::Rtcp(wanted);
            msg.message.add(Attribute::DeliverToApplication);
        }
        self.reads.push_back(msg);
        Ok(())
    }

    fn poll_read(&mut self) -> Option<TaggedPacket> {
        self.reads.pop_front()
    }

    fn handle_write(&mut self, msg: TaggedPacket) -> Result<(), Self::Error> {
        self.writes.push_back(msg);
        Ok(())
    }

    fn poll_write(&mut self) -> Option<TaggedPacket> {
        self.writes.pop_front()
    }
}

impl Interceptor for KeyframeRequestTap {
    fn bind_local_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_local_stream(&mut self, _info: &StreamInfo) {}
    fn bind_remote_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_remote_stream(&mut self, _info: &StreamInfo) {}
}

/// Signals from a PeerConnection's event handler.
pub struct PeerEvents {
    pub gathered: watch::Receiver<bool>,
    pub state: watch::Receiver<RTCPeerConnectionState>,
    pub tracks: mpsc::UnboundedReceiver<Arc<dyn TrackRemote>>,
}

struct Handler {
    gathered: watch::Sender<bool>,
    state: watch::Sender<RTCPeerConnectionState>,
    tracks: mpsc::UnboundedSender<Arc<dyn TrackRemote>>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            self.gathered.send_replace(true);
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        tracing::debug!(%state, "peer connection state");
        self.state.send_replace(state);
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let _ = self.tracks.send(track);
    }
}

/// NACKs per missing packet before the receiver stops asking. webrtc-rs's generator does
/// not see packets recovered over RTX (they are unwrapped after it), so unbounded it keeps
/// asking for them every 100 ms, and the relay's retransmission budget (str0m drops queued
/// resends above its resend-ratio cap) goes to duplicates instead of fresh losses. Three
/// rounds, with the relay allowing up to 30% resends, recover 5% loss without flooding.
const MAX_NACKS_PER_PACKET: u16 = 3;

/// The RTP header extension of a packet's audio level (RFC 6464).
pub const AUDIO_LEVEL_URI: &str = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";

/// The default interceptors (NACK, RTCP reports, TWCC, simulcast headers) with a bounded
/// NACK generator.
fn interceptors(media: &mut MediaEngine) -> Result<Registry, MediaError> {
    use rtc::interceptor::{NackGeneratorBuilder, NackResponderBuilder};
    use rtc::peer_connection::configuration::interceptor_registry::{
        configure_rtcp_reports, configure_simulcast_extension_headers, configure_twcc_receiver_only,
    };
    use rtc::rtp_transceiver::rtp_sender::{RTCPFeedback, RtpCodecKind};
    for parameter in ["", "pli"] {
        media.register_feedback(
            RTCPFeedback {
                typ: "nack".into(),
                parameter: parameter.into(),
            },
            RtpCodecKind::Video,
        );
    }
    let registry = Registry::new()
        .with(Slot::NackResponder, NackResponderBuilder::new().build())
        .with(
            Slot::NackGenerator,
            NackGeneratorBuilder::new()
                .with_max_nacks_per_packet(MAX_NACKS_PER_PACKET)
                .build(),
        );
    configure_simulcast_extension_headers(media).map_err(MediaError::webrtc)?;
    // Microphone packets carry their level (RFC 6464): the relay decides from it who
    // speaks, and in large rooms which microphones are worth forwarding.
    media
        .register_header_extension(
            rtc::rtp_transceiver::rtp_sender::RTCRtpHeaderExtensionCapability {
                uri: AUDIO_LEVEL_URI.to_string(),
            },
            RtpCodecKind::Audio,
            None,
        )
        .map_err(MediaError::webrtc)?;
    let registry = configure_twcc_receiver_only(registry, media).map_err(MediaError::webrtc)?;
    Ok(configure_rtcp_reports(registry))
}

/// A PeerConnection bound to `bind_ip` (loopback included when the relay is on loopback).
pub async fn build(bind_ip: IpAddr) -> Result<(Arc<dyn PeerConnection>, PeerEvents), MediaError> {
    let mut media = MediaEngine::default();
    media
        .register_default_codecs()
        .map_err(MediaError::webrtc)?;
    let registry = interceptors(&mut media)?;
    let registry = registry.with(
        Slot::from(14_000),
        KeyframeRequestTap {
            reads: VecDeque::new(),
            writes: VecDeque::new(),
        },
    );
    let settings = SettingEngineBuilder::new()
        .with_multicast_dns_mode(rtc::ice::mdns::MulticastDnsMode::Disabled)
        .build();
    let (gathered_tx, gathered) = watch::channel(false);
    let (state_tx, state) = watch::channel(RTCPeerConnectionState::New);
    let (tracks_tx, tracks) = mpsc::unbounded_channel();
    let pc = PeerConnectionBuilder::new()
        .with_configuration(RTCConfigurationBuilder::new().build())
        .with_media_engine(media)
        .with_interceptor_registry(registry)
        .with_setting_engine(settings)
        .with_handler(Arc::new(Handler {
            gathered: gathered_tx,
            state: state_tx,
            tracks: tracks_tx,
        }))
        .with_udp_addrs(vec![format!("{}:0", bind_ip)])
        .build()
        .await
        .map_err(MediaError::webrtc)?;
    Ok((
        Arc::new(pc),
        PeerEvents {
            gathered,
            state,
            tracks,
        },
    ))
}

/// Map `a=msid` track ids to their `a=mid` in an SDP.
pub fn mids_by_track_id(sdp: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut mid: Option<String> = None;
    for line in sdp.lines() {
        let line = line.trim();
        if line.starts_with("m=") {
            mid = None;
        } else if let Some(m) = line.strip_prefix("a=mid:") {
            mid = Some(m.to_string());
        } else if let Some(msid) = line.strip_prefix("a=msid:") {
            if let (Some(m), Some(track)) = (&mid, msid.split_whitespace().nth(1)) {
                out.push((track.to_string(), m.clone()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_mids_of_tracks() {
        let sdp = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=msid:s microphone\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=msid:s camera\r\na=mid:1\r\n";
        assert_eq!(
            mids_by_track_id(sdp),
            vec![("microphone".to_string(), "0".to_string())],
            "msid before mid in a section is not matched to a stale mid"
        );
        let sdp = "m=audio 9 X 111\r\na=mid:0\r\na=msid:s microphone\r\nm=video 9 X 96\r\na=mid:1\r\na=msid:s camera\r\n";
        assert_eq!(mids_by_track_id(sdp).len(), 2);
    }
}
