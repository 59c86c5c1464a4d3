//! The SFU core without sockets: str0m `Rtc`s play the clients, and datagrams are handed
//! between them and the core in memory, in virtual time.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use str0m::change::{SdpAnswer, SdpOffer};
use str0m::media::{Direction, MediaKind, Mid};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc};
use studyhall_protocol::{Layer, PublishedTrack, TrackSource};

use super::{Notice, Sfu, SfuError};

const RELAY: &str = "10.0.0.1:7451";

/// A client: a str0m peer at its own address.
struct Client {
    rtc: Rtc,
    addr: SocketAddr,
    media: Vec<(Mid, usize)>,
    /// Every frame received: its first and last sequence number, whether it is a
    /// keyframe, and its last byte.
    frames: Vec<(Mid, u64, u64, bool, u8)>,
    /// Keyframe requests received (as a publisher).
    keyframe_requests: usize,
    connected: bool,
}

impl Client {
    fn new(now: Instant, addr: &str) -> Client {
        let addr: SocketAddr = addr.parse().unwrap();
        let mut rtc = Rtc::builder()
            .clear_codecs()
            .enable_vp8(true)
            .enable_opus(true, false)
            .build(now);
        rtc.add_local_candidate(Candidate::host(addr, "udp").unwrap());
        Client {
            rtc,
            addr,
            media: Vec::new(),
            frames: Vec::new(),
            keyframe_requests: 0,
            connected: false,
        }
    }

    /// Answer a subscribe offer from the SFU.
    fn answer(&mut self, offer: &str) -> String {
        self.rtc
            .sdp_api()
            .accept_offer(SdpOffer::from_sdp_string(offer).unwrap())
            .unwrap()
            .to_sdp_string()
    }

    /// A publish offer with two sendonly video m-lines (a camera's full and small
    /// layers).
    fn publish_two_layers(&mut self) -> (String, Mid, Mid, str0m::change::SdpPendingOffer) {
        let mut api = self.rtc.sdp_api();
        let full = api.add_media(MediaKind::Video, Direction::SendOnly, None, None, None);
        let small = api.add_media(MediaKind::Video, Direction::SendOnly, None, None, None);
        let (offer, pending) = api.apply().unwrap();
        (offer.to_sdp_string(), full, small, pending)
    }

    /// A publish offer with one sendonly video m-line.
    fn publish_offer(&mut self) -> (String, Mid, str0m::change::SdpPendingOffer) {
        let mut api = self.rtc.sdp_api();
        let mid = api.add_media(MediaKind::Video, Direction::SendOnly, None, None, None);
        let (offer, pending) = api.apply().unwrap();
        (offer.to_sdp_string(), mid, pending)
    }
}

/// Move datagrams both ways and advance time until nothing is left to do.
fn pump(sfu: &mut Sfu, clients: &mut [&mut Client], now: &mut Instant, rounds: usize) {
    let relay: SocketAddr = RELAY.parse().unwrap();
    for _ in 0..rounds {
        *now += Duration::from_millis(10);
        for c in clients.iter_mut() {
            c.rtc.handle_input(Input::Timeout(*now)).unwrap();
            while let Ok(out) = c.rtc.poll_output() {
                match out {
                    Output::Timeout(_) => break,
                    Output::Transmit(t) => sfu.handle_receive(*now, c.addr, &t.contents),
                    Output::Event(Event::Connected) => c.connected = true,
                    Output::Event(Event::KeyframeRequest(_)) => c.keyframe_requests += 1,
                    Output::Event(Event::MediaData(d)) => {
                        c.frames.push((
                            d.mid,
                            **d.seq_range.start(),
                            **d.seq_range.end(),
                            d.is_keyframe(),
                            d.data.last().copied().unwrap_or_default(),
                        ));
                        if let Some(m) = c.media.iter_mut().find(|(mid, _)| *mid == d.mid) {
                            m.1 += 1;
                        } else {
                            c.media.push((d.mid, 1));
                        }
                    }
                    Output::Event(_) => {}
                }
            }
        }
        sfu.handle_timeout(*now);
        while let Some((dest, bytes)) = sfu.poll_transmit() {
            if let Some(c) = clients.iter_mut().find(|c| c.addr == dest) {
                let input = Input::Receive(
                    *now,
                    Receive {
                        proto: Protocol::Udp,
                        source: relay,
                        destination: c.addr,
                        contents: bytes.as_slice().try_into().unwrap(),
                    },
                );
                c.rtc.handle_input(input).unwrap();
            }
        }
    }
}

/// A publish offer of one camera track from a client at 10.0.0.2, and the track.
fn camera_offer(now: Instant) -> (String, [PublishedTrack; 1]) {
    let mut ada = Client::new(now, "10.0.0.2:5000");
    let (sdp, mid, _) = ada.publish_offer();
    let tracks = [PublishedTrack {
        mid: mid.to_string(),
        source: TrackSource::Camera,
        layer: Default::default(),
    }];
    (sdp, tracks)
}

#[test]
fn publishing_requires_a_member_and_a_valid_offer() {
    let now = Instant::now();
    let mut sfu = Sfu::new(RELAY.parse().unwrap());
    let (sdp, tracks) = camera_offer(now);
    assert_eq!(
        sfu.publish(now, "r", "ada", 1, &sdp, &tracks),
        Err(SfuError::NotJoined)
    );
    sfu.join(now, "r", "ada", 1, true);
    assert!(matches!(
        sfu.publish(now, "r", "ada", 1, "v=garbage", &tracks),
        Err(SfuError::BadSdp(_))
    ));
    let wrong = [PublishedTrack {
        mid: "nope".into(),
        source: TrackSource::Camera,
        layer: Default::default(),
    }];
    assert_eq!(
        sfu.publish(now, "r", "ada", 1, &sdp, &wrong),
        Err(SfuError::UnknownMid("nope".into()))
    );
    assert_eq!(
        sfu.subscribe_answer(now, "r", "ada", 1, "v=0"),
        Err(SfuError::NoPendingOffer),
        "no subscribe offer was made"
    );
}

#[test]
fn a_published_track_is_offered_to_others_and_media_flows() {
    let mut now = Instant::now();
    let mut sfu = Sfu::new(RELAY.parse().unwrap());
    let mut ada = Client::new(now, "10.0.0.2:5000");
    let mut bob = Client::new(now, "10.0.0.3:5000");
    sfu.join(now, "r", "ada", 1, true);
    sfu.join(now, "r", "bob", 1, true);

    let (sdp, mid, pending) = ada.publish_offer();
    let tracks = [PublishedTrack {
        mid: mid.to_string(),
        source: TrackSource::Camera,
        layer: Default::default(),
    }];
    let answer = sfu.publish(now, "r", "ada", 1, &sdp, &tracks).unwrap();
    ada.rtc
        .sdp_api()
        .accept_answer(pending, SdpAnswer::from_sdp_string(&answer).unwrap())
        .unwrap();

    // Bob (not ada) is offered ada's camera.
    let notice = sfu.poll_notice().expect("a subscribe offer");
    let Notice::SubscribeOffer {
        identity,
        sdp,
        tracks,
        ..
    } = notice
    else {
        panic!("{notice:?}")
    };
    assert_eq!(identity, "bob");
    assert_eq!(tracks.len(), 1);
    assert_eq!(
        (tracks[0].identity.as_str(), tracks[0].source),
        ("ada", TrackSource::Camera)
    );
    assert!(
        sfu.poll_notice().is_none(),
        "ada is not offered her own track"
    );
    let answer = bob.answer(&sdp);
    sfu.subscribe_answer(now, "r", "bob", 1, &answer).unwrap();

    // ICE and DTLS complete in memory.
    pump(&mut sfu, &mut [&mut ada, &mut bob], &mut now, 100);
    assert!(ada.connected && bob.connected);

    // Ada sends frames; bob receives them on the offered mid.
    let pt = ada
        .rtc
        .writer(mid)
        .unwrap()
        .payload_params()
        .next()
        .unwrap()
        .pt();
    for i in 0..10u32 {
        let frame = vec![
            0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00, i as u8,
        ];
        let t = str0m::media::MediaTime::from_90khz(u64::from(i) * 3000);
        ada.rtc
            .writer(mid)
            .unwrap()
            .write(pt, now, t, frame)
            .unwrap();
        pump(&mut sfu, &mut [&mut ada, &mut bob], &mut now, 5);
    }
    let got: usize = bob.media.iter().map(|(_, n)| n).sum();
    assert!(got >= 8, "bob received {got} frames");
    assert_eq!(sfu.counts(), (1, 1, 1));

    // Muting stops forwarding.
    sfu.set_enabled(now, "r", "ada", 1, TrackSource::Camera, false);
    for i in 10..20u32 {
        let t = str0m::media::MediaTime::from_90khz(u64::from(i) * 3000);
        ada.rtc
            .writer(mid)
            .unwrap()
            .write(pt, now, t, vec![0x11, 0, 0, 0, i as u8])
            .unwrap();
        pump(&mut sfu, &mut [&mut ada, &mut bob], &mut now, 5);
    }
    let after: usize = bob.media.iter().map(|(_, n)| n).sum();
    assert!(
        after <= got + 1,
        "frames kept coming while muted: {got} → {after}"
    );
    // Nobody receives the muted camera: ada may stop encoding it.
    assert_eq!(
        told_layers(&mut sfu, "ada"),
        Some(vec![(mid.to_string(), false)])
    );

    // Ada leaves: bob gets a new offer without her track.
    sfu.leave(now, "r", "ada", 1);
    let Some(Notice::SubscribeOffer { tracks, .. }) = sfu.poll_notice() else {
        panic!("no new offer")
    };
    assert!(tracks.is_empty());
    assert_eq!(sfu.counts(), (0, 1, 0));
}

#[test]
fn a_subscriber_connection_does_not_grow_without_bound() {
    let now = Instant::now();
    let mut sfu = Sfu::new(RELAY.parse().unwrap());
    let mut bob = Client::new(now, "10.0.0.3:5000");
    sfu.join(now, "r", "bob", 1, true);
    let mut ufrags = std::collections::HashSet::new();
    let mut largest = 0;
    // Someone publishes, leaves, comes back: 40 times.
    for round in 0..40 {
        sfu.join(now, "r", "ada", 1, true);
        let mut ada = Client::new(now, "10.0.0.2:5000");
        let (sdp, mid, _) = ada.publish_offer();
        let tracks = [PublishedTrack {
            mid: mid.to_string(),
            source: TrackSource::Camera,
            layer: Default::default(),
        }];
        sfu.publish(now, "r", "ada", 1, &sdp, &tracks).unwrap();
        sfu.leave(now, "r", "ada", 1);
        // Bob answers whatever he is offered (a new connection needs a new peer).
        while let Some(notice) = sfu.poll_notice() {
            let Notice::SubscribeOffer { identity, sdp, .. } = notice else {
                continue;
            };
            if identity != "bob" {
                continue;
            }
            let ufrag = sdp
                .lines()
                .find_map(|l| l.strip_prefix("a=ice-ufrag:"))
                .unwrap()
                .to_string();
            if ufrags.insert(ufrag) && round > 0 {
                bob = Client::new(now, "10.0.0.3:5000");
            }
            largest = largest.max(sdp.matches("\nm=").count());
            let answer = bob.answer(&sdp);
            sfu.subscribe_answer(now, "r", "bob", 1, &answer).unwrap();
        }
    }
    assert!(
        largest <= super::MAX_INACTIVE_MLINES + 2,
        "an offer had {largest} m-lines"
    );
    assert!(ufrags.len() >= 2, "the subscribe connection was replaced");
}

/// Every `MediaFailed` notice so far, as (identity, message).
/// The latest `PublishLayers` for `who` among the notices (which are all taken):
/// (mid, active) of each track.
fn told_layers(sfu: &mut Sfu, who: &str) -> Option<Vec<(String, bool)>> {
    let mut told = None;
    while let Some(n) = sfu.poll_notice() {
        if let Notice::PublishLayers {
            identity, tracks, ..
        } = n
        {
            if identity == who {
                told = Some(tracks.into_iter().map(|t| (t.mid, t.active)).collect());
            }
        }
    }
    told
}

fn media_failures(sfu: &mut Sfu) -> Vec<(String, String)> {
    let mut out = Vec::new();
    while let Some(n) = sfu.poll_notice() {
        if let Notice::MediaFailed {
            identity, message, ..
        } = n
        {
            out.push((identity, message));
        }
    }
    out
}

/// Ada publishes one camera track and bob subscribes; both connect.
fn connected_pair(sfu: &mut Sfu, now: &mut Instant) -> (Client, Client) {
    let (ada, bob, _) = connected_pair_on(sfu, now);
    (ada, bob)
}

/// [`connected_pair`], and the mid of ada's camera on her publish connection.
fn connected_pair_on(sfu: &mut Sfu, now: &mut Instant) -> (Client, Client, Mid) {
    let mut ada = Client::new(*now, "10.0.0.2:5000");
    let mut bob = Client::new(*now, "10.0.0.3:5000");
    sfu.join(*now, "r", "ada", 1, true);
    sfu.join(*now, "r", "bob", 1, true);
    let (sdp, mid, pending) = ada.publish_offer();
    let tracks = [PublishedTrack {
        mid: mid.to_string(),
        source: TrackSource::Camera,
        layer: Default::default(),
    }];
    let answer = sfu.publish(*now, "r", "ada", 1, &sdp, &tracks).unwrap();
    ada.rtc
        .sdp_api()
        .accept_answer(pending, SdpAnswer::from_sdp_string(&answer).unwrap())
        .unwrap();
    let Some(Notice::SubscribeOffer { sdp, .. }) = sfu.poll_notice() else {
        panic!("bob is offered ada's camera")
    };
    let answer = bob.answer(&sdp);
    sfu.subscribe_answer(*now, "r", "bob", 1, &answer).unwrap();
    pump(sfu, &mut [&mut ada, &mut bob], now, 100);
    assert!(ada.connected && bob.connected);
    (ada, bob, mid)
}

#[test]
fn a_connection_that_never_connects_is_dropped_and_its_participant_told() {
    let mut now = Instant::now();
    let mut sfu = Sfu::new(RELAY.parse().unwrap()).with_connect_timeout(Duration::from_secs(5));
    let mut ada = Client::new(now, "10.0.0.2:5000");
    sfu.join(now, "r", "ada", 1, true);
    let (sdp, mid, _) = ada.publish_offer();
    let tracks = [PublishedTrack {
        mid: mid.to_string(),
        source: TrackSource::Camera,
        layer: Default::default(),
    }];
    sfu.publish(now, "r", "ada", 1, &sdp, &tracks).unwrap();
    // Nothing ever reaches the relay from ada (her UDP is blocked).
    let start = now;
    while now < start + Duration::from_millis(4900) {
        now += Duration::from_millis(100);
        sfu.handle_timeout(now);
    }
    assert!(media_failures(&mut sfu).is_empty(), "not before the limit");
    assert_eq!(sfu.counts().0, 1);
    now += Duration::from_millis(200);
    sfu.handle_timeout(now);
    let failed = media_failures(&mut sfu);
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].0, "ada");
    assert!(
        failed[0].1.contains("publish media connection failed")
            && failed[0].1.contains("did not connect within 5s"),
        "{}",
        failed[0].1
    );
    assert_eq!(sfu.counts(), (0, 0, 0), "the peer and its track are gone");
}

#[test]
fn connected_peers_are_not_dropped_by_the_connect_limit() {
    let mut now = Instant::now();
    let mut sfu = Sfu::new(RELAY.parse().unwrap()).with_connect_timeout(Duration::from_secs(2));
    let (mut ada, mut bob) = connected_pair(&mut sfu, &mut now);
    // Long past the limit, both keep talking (ICE consent checks): nothing is dropped.
    for _ in 0..40 {
        pump(&mut sfu, &mut [&mut ada, &mut bob], &mut now, 10);
    }
    assert!(media_failures(&mut sfu).is_empty());
    assert_eq!(sfu.counts(), (1, 1, 1));
}

#[test]
fn a_connection_that_goes_quiet_is_dropped_and_others_keep_theirs() {
    let mut now = Instant::now();
    let mut sfu = Sfu::new(RELAY.parse().unwrap());
    let (_ada, mut bob) = connected_pair(&mut sfu, &mut now);
    // Ada's network goes away; bob's stays.
    for _ in 0..220 {
        pump(&mut sfu, &mut [&mut bob], &mut now, 10);
    }
    let failed = media_failures(&mut sfu);
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].0, "ada");
    assert!(failed[0].1.contains("no ICE traffic"), "{}", failed[0].1);
    assert_eq!(
        sfu.counts(),
        (0, 1, 0),
        "ada's publish peer and track are gone"
    );
}

#[test]
fn packets_find_subscribers_through_their_room_only() {
    let mut now = Instant::now();
    let mut sfu = Sfu::new(RELAY.parse().unwrap());
    let (_ada, _bob) = connected_pair(&mut sfu, &mut now);
    // Someone in another room gets a subscribe peer of their own once a track is there.
    sfu.join(now, "other", "cat", 1, true);
    let listed = |sfu: &Sfu, group: &str| sfu.subscribers.get(group).map_or(0, Vec::len);
    assert_eq!(listed(&sfu, "r"), 1, "bob's subscribe peer, in room r");
    assert_eq!(
        listed(&sfu, "other"),
        0,
        "nothing published in the other room"
    );
    let bob_sub = sfu.subscribers["r"][0];
    assert_eq!(sfu.peers[&bob_sub].identity, "bob");
    sfu.leave(now, "r", "bob", 1);
    assert_eq!(
        listed(&sfu, "r"),
        0,
        "a peer that leaves is no longer listed"
    );
    assert!(
        !sfu.subscribers.contains_key("r"),
        "no empty lists are kept"
    );
}

#[test]
fn commands_and_notices_of_a_replaced_connection_do_not_touch_its_successor() {
    let now = Instant::now();
    let mut sfu = Sfu::new(RELAY.parse().unwrap());
    sfu.join(now, "r", "bob", 7, true);
    // Ada joins on connection 1, then again on connection 2 (a reconnect); the first
    // connection's leave and requests come late.
    sfu.join(now, "r", "ada", 1, true);
    sfu.join(now, "r", "ada", 2, true);
    sfu.leave(now, "r", "ada", 1);
    let (sdp, tracks) = camera_offer(now);
    assert_eq!(
        sfu.publish(now, "r", "ada", 1, &sdp, &tracks),
        Err(SfuError::Replaced),
        "the old connection may not publish"
    );
    // A stale mute does nothing either: bob is still offered the camera below.
    sfu.set_enabled(now, "r", "ada", 1, TrackSource::Camera, false);
    sfu.publish(now, "r", "ada", 2, &sdp, &tracks)
        .expect("the stale leave left the new connection's membership alone");
    let Some(Notice::SubscribeOffer {
        identity,
        conn,
        tracks: offered,
        ..
    }) = sfu.poll_notice()
    else {
        panic!("bob is offered ada's camera")
    };
    assert_eq!((identity.as_str(), conn, offered.len()), ("bob", 7, 1));
    assert_eq!(
        sfu.subscribe_answer(now, "r", "bob", 6, "v=0"),
        Err(SfuError::Replaced)
    );
    // Ada's own leave, on her current connection, removes her.
    sfu.leave(now, "r", "ada", 2);
    assert_eq!(
        sfu.publish(now, "r", "ada", 2, &sdp, &tracks),
        Err(SfuError::NotJoined)
    );
    assert_eq!(sfu.counts(), (0, 1, 0), "bob's subscribe peer stays");
}

/// Ada sends `n` one-packet VP8 frames on `mid`, keyframes where `key(i)`.
fn send_frames(
    sfu: &mut Sfu,
    ada: &mut Client,
    bob: &mut Client,
    mid: Mid,
    now: &mut Instant,
    frames: std::ops::Range<u32>,
    key: impl Fn(u32) -> bool,
) {
    let pt = ada
        .rtc
        .writer(mid)
        .unwrap()
        .payload_params()
        .next()
        .unwrap()
        .pt();
    for i in frames {
        // The VP8 header's first bit is clear on a keyframe.
        let first = if key(i) { 0x10 } else { 0x11 };
        let t = str0m::media::MediaTime::from_90khz(u64::from(i) * 3000);
        ada.rtc
            .writer(mid)
            .unwrap()
            .write(
                pt,
                *now,
                t,
                vec![first, 0x02, 0x00, 0x9d, 0x01, 0x2a, i as u8],
            )
            .unwrap();
        pump(sfu, &mut [ada, bob], now, 4);
    }
}

#[test]
fn a_track_the_subscriber_hides_is_not_sent_and_comes_back_at_a_keyframe_with_no_gap() {
    let mut now = Instant::now();
    let mut sfu = Sfu::new(RELAY.parse().unwrap());
    let (mut ada, mut bob, mid) = connected_pair_on(&mut sfu, &mut now);
    let shown = sfu.peers[&sfu.subscribers["r"][0]].tracks_out[0]
        .state
        .clone();
    let super::OutState::Open(bob_mid) = shown else {
        panic!("{shown:?}")
    };
    let view = |mids: &[&str]| {
        mids.iter()
            .map(|m| studyhall_protocol::TileView {
                mid: m.to_string(),
                width: 320,
                height: 180,
            })
            .collect::<Vec<_>>()
    };
    let (a, b) = (&mut ada, &mut bob);
    send_frames(&mut sfu, a, b, mid, &mut now, 0..5, |i| i == 0);
    let n = b.frames.len();
    assert!(n >= 4, "shown until a view says otherwise: {n} frames");
    let before = b.frames.last().unwrap().2;

    // Hidden: nothing at all, keyframes included.
    sfu.set_view(now, "r", "bob", 1, &view(&[])).unwrap();
    send_frames(&mut sfu, a, b, mid, &mut now, 5..15, |i| i == 10);
    assert_eq!(b.frames.len(), n, "frames of a hidden track were sent");

    // Shown again: the publisher is asked for a keyframe; nothing goes out before it.
    let asked = a.keyframe_requests;
    sfu.set_view(now, "r", "bob", 1, &view(&[&bob_mid]))
        .unwrap();
    pump(&mut sfu, &mut [&mut *a, &mut *b], &mut now, 5);
    assert!(a.keyframe_requests > asked, "no keyframe request");
    send_frames(&mut sfu, a, b, mid, &mut now, 15..17, |_| false);
    assert_eq!(b.frames.len(), n, "a delta frame cannot start a stream");
    send_frames(&mut sfu, a, b, mid, &mut now, 17..20, |i| i == 17);
    let resumed = &b.frames[n..];
    assert_eq!(resumed.len(), 3);
    assert!(resumed[0].3, "the first frame back is a keyframe");
    assert_eq!(resumed[0].1, before + 1, "numbers go on with no gap");

    // Muting the source pauses it for everyone the same way; unmuting resumes it.
    let before = b.frames.last().unwrap().2;
    sfu.set_enabled(now, "r", "ada", 1, TrackSource::Camera, false);
    send_frames(&mut sfu, a, b, mid, &mut now, 20..25, |i| i == 22);
    assert_eq!(b.frames.len(), n + 3, "frames of a muted source were sent");
    sfu.set_enabled(now, "r", "ada", 1, TrackSource::Camera, true);
    send_frames(&mut sfu, a, b, mid, &mut now, 25..28, |i| i == 26);
    assert_eq!(b.frames.len(), n + 5);
    assert!(b.frames[n + 3].3);
    assert_eq!(b.frames[n + 3].1, before + 1);

    // A view naming a track that is not offered is applied for the rest, and said.
    assert_eq!(
        sfu.set_view(now, "r", "bob", 1, &view(&["nope"])),
        Err(SfuError::UnknownMid("nope".into()))
    );
    send_frames(&mut sfu, a, b, mid, &mut now, 28..30, |_| true);
    assert_eq!(
        b.frames.len(),
        n + 5,
        "the rest (nothing shown) was applied"
    );
    assert_eq!(
        sfu.set_view(now, "r", "bob", 2, &view(&[&bob_mid])),
        Err(SfuError::Replaced)
    );
    assert_eq!(
        sfu.set_view(now, "r", "eve", 1, &view(&[])),
        Err(SfuError::NotJoined)
    );

    // A track offered after a view is paused until a view names it: cyd's camera.
    sfu.join(now, "r", "cyd", 1, true);
    let (sdp, tracks) = camera_offer(now);
    sfu.publish(now, "r", "cyd", 1, &sdp, &tracks).unwrap();
    let bob_sub = sfu.members[&super::key("r", "bob")].subscribe.unwrap();
    let cyd_cam = sfu.peers[&bob_sub]
        .tracks_out
        .iter()
        .find(|t| t.identity == "cyd")
        .expect("cyd's camera is offered to bob");
    assert!(!cyd_cam.visible);
    // Cyd has sent no view: ada's camera is hers to see.
    let cyd_sub = sfu.members[&super::key("r", "cyd")].subscribe.unwrap();
    assert!(sfu.peers[&cyd_sub].tracks_out.iter().all(|t| t.visible));
}

/// Ada publishes her camera's two layers (`offer`, from [`Client::publish_two_layers`])
/// and bob, who joined, subscribes; both connect. The camera's payload type, and the
/// tracks bob was offered.
fn two_layers_to_bob(
    sfu: &mut Sfu,
    now: &mut Instant,
    ada: &mut Client,
    bob: &mut Client,
    offer: (&str, Mid, Mid, str0m::change::SdpPendingOffer),
) -> (str0m::media::Pt, Vec<studyhall_protocol::ForwardedTrack>) {
    let (sdp, full, small, pending) = offer;
    let track = |mid: Mid, layer| PublishedTrack {
        mid: mid.to_string(),
        source: TrackSource::Camera,
        layer,
    };
    let tracks = [track(full, Layer::Full), track(small, Layer::Small)];
    let answer = sfu.publish(*now, "r", "ada", 1, sdp, &tracks).unwrap();
    ada.rtc
        .sdp_api()
        .accept_answer(pending, SdpAnswer::from_sdp_string(&answer).unwrap())
        .unwrap();
    let Some(Notice::SubscribeOffer {
        sdp,
        tracks: offered,
        ..
    }) = sfu.poll_notice()
    else {
        panic!("bob is offered ada's camera")
    };
    let answer = bob.answer(&sdp);
    sfu.subscribe_answer(*now, "r", "bob", 1, &answer).unwrap();
    pump(sfu, &mut [ada, bob], now, 100);
    assert!(ada.connected && bob.connected);
    let pt = ada
        .rtc
        .writer(full)
        .unwrap()
        .payload_params()
        .next()
        .unwrap()
        .pt();
    (pt, offered)
}

#[test]
fn a_small_tile_gets_the_small_layer_switches_are_clean_and_publishers_hear_what_nobody_gets() {
    let mut now = Instant::now();
    let mut sfu = Sfu::new(RELAY.parse().unwrap());
    let mut ada = Client::new(now, "10.0.0.2:5000");
    let mut bob = Client::new(now, "10.0.0.3:5000");
    sfu.join(now, "r", "ada", 1, true);
    sfu.join(now, "r", "bob", 1, true);
    let (sdp, full, small, pending) = ada.publish_two_layers();
    let track = |mid: Mid, layer| PublishedTrack {
        mid: mid.to_string(),
        source: TrackSource::Camera,
        layer,
    };
    // A small layer alone, or on the screen, is refused.
    for bad in [
        vec![track(small, Layer::Small)],
        vec![
            PublishedTrack {
                source: TrackSource::Screen,
                ..track(full, Layer::Full)
            },
            PublishedTrack {
                source: TrackSource::Screen,
                ..track(small, Layer::Small)
            },
        ],
        vec![track(full, Layer::Full), track(small, Layer::Full)],
    ] {
        assert!(
            matches!(
                sfu.publish(now, "r", "ada", 1, &sdp, &bad),
                Err(SfuError::Invalid(_))
            ),
            "{bad:?}"
        );
    }
    let (pt, offered) = two_layers_to_bob(
        &mut sfu,
        &mut now,
        &mut ada,
        &mut bob,
        (&sdp, full, small, pending),
    );
    assert_eq!(
        offered.len(),
        1,
        "one m-line for the camera, whatever its layers"
    );
    const FULL: u8 = 0xF0;
    const SMALL: u8 = 0x5A;
    // Frame `i` on both layers; keyframes where `key` says, per layer.
    let send = |sfu: &mut Sfu,
                ada: &mut Client,
                bob: &mut Client,
                now: &mut Instant,
                frames: std::ops::Range<u32>,
                key: &dyn Fn(u32, u8) -> bool| {
        for i in frames {
            for (mid, layer) in [(full, FULL), (small, SMALL)] {
                let first = if key(i, layer) { 0x10 } else { 0x11 };
                let t = str0m::media::MediaTime::from_90khz(u64::from(i) * 3000);
                ada.rtc
                    .writer(mid)
                    .unwrap()
                    .write(
                        pt,
                        *now,
                        t,
                        vec![first, 0x02, 0x00, 0x9d, 0x01, 0x2a, layer],
                    )
                    .unwrap();
            }
            pump(sfu, &mut [&mut *ada, &mut *bob], now, 4);
        }
    };
    send(&mut sfu, &mut ada, &mut bob, &mut now, 0..6, &|i, _| i == 0);
    assert!(bob.frames.len() >= 5);
    assert!(
        bob.frames.iter().all(|f| f.4 == FULL),
        "without a view, the full layer"
    );

    // A small tile: the small layer from its next keyframe, numbered on with no gap.
    let tile = |w, h| {
        vec![studyhall_protocol::TileView {
            mid: offered[0].mid.clone(),
            width: w,
            height: h,
        }]
    };
    sfu.set_view(now, "r", "bob", 1, &tile(320, 180)).unwrap();
    let n = bob.frames.len();
    send(&mut sfu, &mut ada, &mut bob, &mut now, 6..9, &|_, _| false);
    send(&mut sfu, &mut ada, &mut bob, &mut now, 9..14, &|i, l| {
        i == 9 && l == SMALL
    });
    // The full layer goes on until the small one's keyframe, then only the small one.
    let after = &bob.frames[n..];
    let at = after.iter().position(|f| f.4 == SMALL).expect("switched");
    assert!(
        at >= 2 && after[..at].iter().all(|f| f.4 == FULL),
        "{after:?}"
    );
    assert!(after[at].3, "the switch is at a keyframe: {after:?}");
    assert!(
        after[at..].len() >= 4 && after[at..].iter().all(|f| f.4 == SMALL),
        "{after:?}"
    );
    for w in bob.frames.windows(2) {
        assert_eq!(w[1].1, w[0].2 + 1, "a gap: {:?}", bob.frames);
    }
    // Nobody gets the full layer now: ada hears so.
    pump(&mut sfu, &mut [&mut ada, &mut bob], &mut now, 30);
    let mut expect = vec![(full.to_string(), false), (small.to_string(), true)];
    expect.sort();
    assert_eq!(told_layers(&mut sfu, "ada"), Some(expect));

    // A large tile: back to the full layer at its keyframe (ada is asked for one).
    let asked = ada.keyframe_requests;
    let n = bob.frames.len();
    sfu.set_view(now, "r", "bob", 1, &tile(1280, 720)).unwrap();
    send(&mut sfu, &mut ada, &mut bob, &mut now, 14..16, &|_, _| {
        false
    });
    assert!(ada.keyframe_requests > asked);
    send(&mut sfu, &mut ada, &mut bob, &mut now, 16..19, &|i, l| {
        i == 16 && l == FULL
    });
    // The small layer until the full one's keyframe, then only the full one.
    let after = &bob.frames[n..];
    let at = after
        .iter()
        .position(|f| f.4 == FULL)
        .expect("the full layer is back");
    assert!(after[..at].iter().all(|f| f.4 == SMALL), "{after:?}");
    assert!(after[at].3, "at a keyframe: {after:?}");
    assert!(
        after[at..].len() >= 3 && after[at..].iter().all(|f| f.4 == FULL),
        "{after:?}"
    );
    for w in bob.frames.windows(2) {
        assert_eq!(w[1].1, w[0].2 + 1, "a gap: {:?}", bob.frames);
    }

    // Hidden: nobody gets either layer.
    sfu.set_view(now, "r", "bob", 1, &[]).unwrap();
    send(&mut sfu, &mut ada, &mut bob, &mut now, 19..20, &|_, _| {
        false
    });
    pump(&mut sfu, &mut [&mut ada, &mut bob], &mut now, 30);
    let mut expect = vec![(full.to_string(), false), (small.to_string(), false)];
    expect.sort();
    assert_eq!(told_layers(&mut sfu, "ada"), Some(expect));
}

#[test]
fn a_publish_of_several_tracks_offers_each_once() {
    let now = Instant::now();
    let mut sfu = Sfu::new(RELAY.parse().unwrap());
    sfu.join(now, "r", "bob", 1, true);
    sfu.join(now, "r", "ada", 1, true);
    let mut ada = Client::new(now, "10.0.0.2:5000");
    let mut api = ada.rtc.sdp_api();
    let mic = api.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None);
    let cam = api.add_media(MediaKind::Video, Direction::SendOnly, None, None, None);
    let (offer, _) = api.apply().unwrap();
    let tracks = [
        PublishedTrack {
            mid: mic.to_string(),
            source: TrackSource::Microphone,
            layer: Layer::Full,
        },
        PublishedTrack {
            mid: cam.to_string(),
            source: TrackSource::Camera,
            layer: Layer::Full,
        },
    ];
    sfu.publish(now, "r", "ada", 1, &offer.to_sdp_string(), &tracks)
        .unwrap();
    // Bob had no subscribe connection: the first track made it, with both tracks.
    let Some(Notice::SubscribeOffer { tracks, .. }) = sfu.poll_notice() else {
        panic!("bob is offered ada's tracks")
    };
    assert_eq!(tracks.len(), 2, "{tracks:?}");
    let bob_sub = sfu.members[&super::key("r", "bob")].subscribe.unwrap();
    assert_eq!(sfu.peers[&bob_sub].tracks_out.len(), 2, "each track once");
}

/// The speaker notices among the notices (which are all taken): (active, speaking).
fn speaker_notices(sfu: &mut Sfu) -> Vec<(Option<String>, Vec<String>)> {
    let mut out = Vec::new();
    while let Some(n) = sfu.poll_notice() {
        if let Notice::Speakers {
            active, speaking, ..
        } = n
        {
            out.push((active, speaking));
        }
    }
    out
}

#[test]
fn in_a_room_of_many_microphones_only_speech_and_the_loudest_are_forwarded_and_the_relay_names_the_speaker(
) {
    let mut now = Instant::now();
    let mut sfu = Sfu::new(RELAY.parse().unwrap());
    // Six microphones (more than ALL_AUDIO_UP_TO), then bob, who listens.
    let mut mics: Vec<(String, Client, Mid)> = Vec::new();
    for i in 0..6 {
        let name = format!("m{i}");
        let mut c = Client::new(now, &format!("10.0.1.{}:5000", i + 2));
        sfu.join(now, "r", &name, 1, false);
        let mut api = c.rtc.sdp_api();
        let mid = api.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None);
        let (offer, pending) = api.apply().unwrap();
        let tracks = [PublishedTrack {
            mid: mid.to_string(),
            source: TrackSource::Microphone,
            layer: Default::default(),
        }];
        let answer = sfu
            .publish(now, "r", &name, 1, &offer.to_sdp_string(), &tracks)
            .unwrap();
        c.rtc
            .sdp_api()
            .accept_answer(pending, SdpAnswer::from_sdp_string(&answer).unwrap())
            .unwrap();
        mics.push((name, c, mid));
    }
    let mut bob = Client::new(now, "10.0.0.3:5000");
    sfu.join(now, "r", "bob", 1, true);
    let offer = loop {
        match sfu.poll_notice() {
            Some(Notice::SubscribeOffer { sdp, tracks, .. }) => break (sdp, tracks),
            Some(_) => continue,
            None => panic!("bob is offered the microphones"),
        }
    };
    let answer = bob.answer(&offer.0);
    sfu.subscribe_answer(now, "r", "bob", 1, &answer).unwrap();
    // Bob's m-line of each microphone.
    let bob_mid = |name: &str| -> Mid {
        let identity = offer.1.iter().find(|t| t.identity == name).unwrap();
        identity.mid.as_str().into()
    };
    {
        let mut all: Vec<&mut Client> = mics.iter_mut().map(|m| &mut m.1).collect();
        all.push(&mut bob);
        pump(&mut sfu, &mut all, &mut now, 100);
    }
    assert!(bob.connected && mics.iter().all(|m| m.1.connected));
    speaker_notices(&mut sfu);

    // 20 ms of audio from every microphone: `level(i)` is microphone i's (dBov).
    let mut seq = 0u64;
    let mut talk = |sfu: &mut Sfu,
                    mics: &mut Vec<(String, Client, Mid)>,
                    bob: &mut Client,
                    now: &mut Instant,
                    packets: usize,
                    level: &dyn Fn(usize) -> i8| {
        for _ in 0..packets {
            for (i, (_, c, mid)) in mics.iter_mut().enumerate() {
                let pt = c
                    .rtc
                    .writer(*mid)
                    .unwrap()
                    .payload_params()
                    .next()
                    .unwrap()
                    .pt();
                let t = str0m::media::MediaTime::new(
                    seq * 960,
                    str0m::media::Frequency::FORTY_EIGHT_KHZ,
                );
                let l = level(i);
                c.rtc
                    .writer(*mid)
                    .unwrap()
                    .audio_level(l, l > -50)
                    .write(pt, *now, t, vec![0xf8, 0xff, 0xfe, i as u8])
                    .unwrap();
            }
            seq += 1;
            let mut all: Vec<&mut Client> = mics.iter_mut().map(|m| &mut m.1).collect();
            all.push(bob);
            pump(sfu, &mut all, now, 2);
        }
    };
    let heard = |bob: &Client, name: &str| {
        let mid = bob_mid(name);
        bob.frames.iter().filter(|f| f.0 == mid).count()
    };

    // m0 speaks, the others are silent: after the first check, only m0 is heard.
    talk(&mut sfu, &mut mics, &mut bob, &mut now, 20, &|i| {
        if i == 0 {
            -20
        } else {
            -127
        }
    });
    let notices = speaker_notices(&mut sfu);
    assert_eq!(
        notices.last(),
        Some(&(Some("m0".to_string()), vec!["m0".to_string()])),
        "{notices:?}"
    );
    let before: Vec<usize> = (0..6).map(|i| heard(&bob, &format!("m{i}"))).collect();
    talk(&mut sfu, &mut mics, &mut bob, &mut now, 25, &|i| {
        if i == 0 {
            -20
        } else {
            -127
        }
    });
    let after: Vec<usize> = (0..6).map(|i| heard(&bob, &format!("m{i}"))).collect();
    assert!(
        after[0] >= before[0] + 20,
        "the speaker is heard: {before:?} → {after:?}"
    );
    for i in 1..6 {
        assert_eq!(
            after[i], before[i],
            "silent m{i} is not forwarded: {before:?} → {after:?}"
        );
    }

    // m3 starts speaking, 10 dB louder: its very first packets are heard, with no
    // sequence gap, and it becomes the active speaker while m0 still speaks.
    let m3_before = heard(&bob, "m3");
    let last_seq = bob
        .frames
        .iter()
        .rev()
        .find(|f| f.0 == bob_mid("m3"))
        .map(|f| f.2);
    talk(&mut sfu, &mut mics, &mut bob, &mut now, 1, &|i| match i {
        0 => -20,
        3 => -10,
        _ => -127,
    });
    assert_eq!(
        heard(&bob, "m3"),
        m3_before + 1,
        "the first loud packet is forwarded at once"
    );
    if let Some(last) = last_seq {
        let first = bob
            .frames
            .iter()
            .rev()
            .find(|f| f.0 == bob_mid("m3"))
            .unwrap()
            .1;
        assert_eq!(first, last + 1, "no sequence gap across the pause");
    }
    talk(&mut sfu, &mut mics, &mut bob, &mut now, 20, &|i| match i {
        0 => -20,
        3 => -10,
        _ => -127,
    });
    let notices = speaker_notices(&mut sfu);
    assert_eq!(
        notices.last(),
        Some(&(
            Some("m3".to_string()),
            vec!["m0".to_string(), "m3".to_string()]
        )),
        "{notices:?}"
    );

    // m0 falls silent: after the hangover only m3 speaks, and m0 is not forwarded
    // (nor counted among the loudest, being silent).
    talk(&mut sfu, &mut mics, &mut bob, &mut now, 100, &|i| {
        if i == 3 {
            -10
        } else {
            -127
        }
    });
    let notices = speaker_notices(&mut sfu);
    assert_eq!(
        notices.last(),
        Some(&(Some("m3".to_string()), vec!["m3".to_string()])),
        "{notices:?}"
    );
    let m0 = heard(&bob, "m0");
    talk(&mut sfu, &mut mics, &mut bob, &mut now, 10, &|i| {
        if i == 3 {
            -10
        } else {
            -127
        }
    });
    assert_eq!(heard(&bob, "m0"), m0, "m0 is silent and not forwarded");

    // Quiet speech below the speaking level is still heard: it is among the loudest.
    let m5 = heard(&bob, "m5");
    talk(&mut sfu, &mut mics, &mut bob, &mut now, 30, &|i| match i {
        3 => -10,
        5 => -60,
        _ => -127,
    });
    assert!(
        heard(&bob, "m5") > m5 + 10,
        "a quiet voice among the loudest is heard"
    );
}

#[test]
fn the_upload_budget_fits_each_subscriber_in_its_share_at_keyframes_and_turns_up_when_calm() {
    let mut now = Instant::now();
    // 150 kbit/s among the subscribers: one gets the small layer (about 120 kbit/s
    // with headers) but not the full one (about 210); two get nothing.
    let mut sfu = Sfu::new(RELAY.parse().unwrap()).with_upload_budget(Some(150_000));
    let mut ada = Client::new(now, "10.0.0.2:5000");
    let mut bob = Client::new(now, "10.0.0.3:5000");
    sfu.join(now, "r", "ada", 1, true);
    sfu.join(now, "r", "bob", 1, true);
    let (sdp, full, small, pending) = ada.publish_two_layers();
    let (pt, _) = two_layers_to_bob(
        &mut sfu,
        &mut now,
        &mut ada,
        &mut bob,
        (&sdp, full, small, pending),
    );
    const FULL: u8 = 0xF0;
    const SMALL: u8 = 0x5A;
    // 25 frames a second on both layers (1000 and 550 bytes), a keyframe every 10th;
    // the layers of what each of `subs` got in that second.
    let mut frame = 0u32;
    let mut second =
        |sfu: &mut Sfu, ada: &mut Client, subs: &mut [&mut Client], now: &mut Instant| {
            let start: Vec<usize> = subs.iter().map(|c| c.frames.len()).collect();
            for _ in 0..25 {
                for (mid, layer, bytes) in [(full, FULL, 1000), (small, SMALL, 550)] {
                    let first = if frame % 10 == 0 { 0x10 } else { 0x11 };
                    let t = str0m::media::MediaTime::from_90khz(u64::from(frame) * 3600);
                    let mut data = vec![first, 0x02, 0x00, 0x9d, 0x01, 0x2a];
                    data.resize(bytes - 1, 0x33);
                    data.push(layer);
                    ada.rtc
                        .writer(mid)
                        .unwrap()
                        .write(pt, *now, t, data)
                        .unwrap();
                }
                frame += 1;
                let mut all: Vec<&mut Client> = vec![&mut *ada];
                all.extend(subs.iter_mut().map(|c| &mut **c));
                pump(sfu, &mut all, now, 4);
            }
            subs.iter()
                .zip(start)
                .map(|(c, from)| c.frames[from..].iter().map(|f| f.4).collect::<Vec<u8>>())
                .collect::<Vec<_>>()
        };
    let layers = |got: &[u8]| {
        let full = got.iter().filter(|l| **l == FULL).count();
        (full, got.len() - full)
    };
    // Alone, bob gets the small layer: the full one does not fit his share.
    let mut alone = Vec::new();
    for _ in 0..4 {
        alone.push(layers(
            &second(&mut sfu, &mut ada, &mut [&mut bob], &mut now)[0],
        ));
    }
    assert_eq!(alone[3], (0, 25), "{alone:?}");
    assert_eq!(sfu.upload().held_small, 1, "{:?}", sfu.upload());
    assert!(
        sfu.upload().bits_per_second <= 150_000,
        "{:?}",
        sfu.upload()
    );

    // Cyd subscribes too: the shares halve, and the camera no longer fits either: paused
    // for both, at once.
    let mut cyd = Client::new(now, "10.0.0.4:5000");
    sfu.join(now, "r", "cyd", 1, true);
    let offer = loop {
        match sfu.poll_notice() {
            Some(Notice::SubscribeOffer { sdp, identity, .. }) if identity == "cyd" => break sdp,
            Some(_) => continue,
            None => panic!("cyd is offered ada's camera"),
        }
    };
    let answer = cyd.answer(&offer);
    sfu.subscribe_answer(now, "r", "cyd", 1, &answer).unwrap();
    pump(&mut sfu, &mut [&mut ada, &mut bob, &mut cyd], &mut now, 50);
    assert!(cyd.connected);
    second(&mut sfu, &mut ada, &mut [&mut bob, &mut cyd], &mut now);
    let shared = second(&mut sfu, &mut ada, &mut [&mut bob, &mut cyd], &mut now);
    assert!(shared.iter().all(|got| got.is_empty()), "{shared:?}");
    assert_eq!(sfu.upload().paused, 2, "{:?}", sfu.upload());

    // Cyd goes: room for bob again, but only after 5 calm seconds.
    sfu.leave(now, "r", "cyd", 1);
    let mut back = Vec::new();
    for _ in 0..8 {
        back.push(layers(
            &second(&mut sfu, &mut ada, &mut [&mut bob], &mut now)[0],
        ));
    }
    let resumed = back.iter().position(|l| l.1 > 0);
    assert!(
        resumed.is_some_and(|s| s >= 4),
        "the small layer again after about 5 s, not before: {back:?}"
    );
    assert!(
        back.iter().all(|l| l.0 == 0),
        "never the full layer: {back:?}"
    );
    // Every switch was clean: bob's stream numbers on with no gap.
    for w in bob.frames.windows(2) {
        assert_eq!(w[1].1, w[0].2 + 1, "a gap in bob's stream");
    }
    // Nobody gets the full layer: ada is told so.
    let told = told_layers(&mut sfu, "ada").expect("ada is told which layers are received");
    assert!(told.contains(&(full.to_string(), false)), "{told:?}");
}
