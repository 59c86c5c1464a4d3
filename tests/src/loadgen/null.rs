//! The "null relay": the floor this machine allows for an SFU. It receives UDP, opens
//! each datagram with the sender's AES-128-GCM key and seals it again for every other
//! participant: exactly the per-packet work no SFU can avoid (the kernel's UDP path and
//! SRTP-grade crypto), and nothing else — no ICE, no RTCP, no congestion control.
//!
//! Datagram: `u32 key id (LE) | 12-byte nonce | ciphertext + 16-byte tag`, where the key
//! id is the participant whose key sealed it: the sender's on the way in, the receiver's
//! on the way out. An empty plaintext registers the sender's address. Keys are derived from the participant
//! number on both sides (this is a measurement, not a security boundary).

use std::collections::BTreeMap;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM};

use super::participant::{ParticipantStats, Publish, Window};
use super::{frame_bytes, now_us, read_stamp, Stamp, AUDIO_INTERVAL, VIDEO_FPS};

/// Largest media payload per datagram (like an RTP packet on a 1500-byte path).
const CHUNK: usize = 1100;

pub fn key_for(participant: u32) -> LessSafeKey {
    let mut raw = [0x5au8; 16];
    raw[..4].copy_from_slice(&participant.to_le_bytes());
    LessSafeKey::new(UnboundKey::new(&AES_128_GCM, &raw).expect("16-byte key"))
}

fn seal(key: &LessSafeKey, from: u32, counter: &mut u64, plain: &[u8]) -> Vec<u8> {
    *counter += 1;
    let mut nonce = [0u8; 12];
    nonce[4..].copy_from_slice(&counter.to_le_bytes());
    let mut out = Vec::with_capacity(4 + 12 + plain.len() + 16);
    out.extend_from_slice(&from.to_le_bytes());
    out.extend_from_slice(&nonce);
    let mut body = plain.to_vec();
    key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut body)
        .expect("seal");
    out.extend_from_slice(&body);
    out
}

/// Open a datagram: the sender and the plaintext.
fn open<'a>(keys: &mut BTreeMap<u32, LessSafeKey>, data: &'a mut [u8]) -> Option<(u32, &'a [u8])> {
    if data.len() < 4 + 12 + 16 {
        return None;
    }
    let from = u32::from_le_bytes(data[..4].try_into().ok()?);
    let nonce = Nonce::try_assume_unique_for_key(&data[4..16]).ok()?;
    let key = keys.entry(from).or_insert_with(|| key_for(from));
    let plain = key
        .open_in_place(nonce, Aad::empty(), &mut data[16..])
        .ok()?;
    Some((from, plain))
}

/// Serve forever on `socket` (one thread: the floor for one core).
pub fn serve(socket: UdpSocket) -> std::io::Result<()> {
    let mut keys = BTreeMap::new();
    let mut peers: BTreeMap<u32, SocketAddr> = BTreeMap::new();
    let mut counter = 0u64;
    let mut buf = vec![0u8; 2048];
    loop {
        let (n, from_addr) = socket.recv_from(&mut buf)?;
        let Some((from, plain)) = open(&mut keys, &mut buf[..n]) else {
            continue;
        };
        peers.insert(from, from_addr);
        if plain.is_empty() {
            continue;
        }
        let plain = plain.to_vec();
        for (&to, addr) in peers.iter().filter(|(to, _)| **to != from) {
            let key = keys.entry(to).or_insert_with(|| key_for(to));
            // Sealed with the receiver's key (the stamp inside names the sender).
            let sealed = seal(key, to, &mut counter, &plain);
            let _ = socket.send_to(&sealed, addr);
        }
    }
}

/// One participant of the null relay: same media and stamps as a Studyhall participant,
/// cut into datagrams; every part carries the frame's stamp, the last part counts it.
pub async fn participant(
    index: u32,
    relay: SocketAddr,
    publish: Publish,
    window: Window,
    until: Instant,
) -> ParticipantStats {
    let mut stats = ParticipantStats {
        index,
        ..Default::default()
    };
    let started = Instant::now();
    let socket = match tokio::net::UdpSocket::bind("127.0.0.1:0").await {
        Ok(s) => s,
        Err(e) => {
            stats.errors.push(e.to_string());
            return stats;
        }
    };
    let own = key_for(index);
    let mut counter = 0u64;
    let _ = socket
        .send_to(&seal(&own, index, &mut counter, &[]), relay)
        .await;
    // (track, interval, bytes)
    let mut tracks: Vec<(u8, Duration, usize, Instant, u64)> = Vec::new();
    let now = Instant::now();
    if let Some(kbps) = publish.camera_kbps {
        tracks.push((
            0,
            Duration::from_secs(1) / VIDEO_FPS,
            frame_bytes(kbps, VIDEO_FPS),
            now,
            0,
        ));
    }
    if publish.audio {
        tracks.push((1, AUDIO_INTERVAL, 80, now, 0));
    }
    if let Some(kbps) = publish.screen_kbps {
        tracks.push((
            2,
            Duration::from_secs(1) / VIDEO_FPS,
            frame_bytes(kbps, VIDEO_FPS),
            now,
            0,
        ));
    }
    let mut keys = BTreeMap::new();
    let mut buf = vec![0u8; 2048];
    loop {
        let now = Instant::now();
        if now >= until {
            break;
        }
        for (track, interval, bytes, next, seq) in tracks.iter_mut() {
            while *next <= now {
                let stamp = Stamp {
                    publisher: index,
                    track: *track,
                    seq: *seq,
                    sent_us: now_us(),
                };
                let frame = if *track == 1 {
                    super::opus_packet(stamp, *bytes)
                } else {
                    super::vp8_frame(stamp, false, *bytes)
                };
                let parts = frame.len().div_ceil(CHUNK).max(1);
                for part in 0..parts {
                    // Each part: [part, parts] then the frame's header + stamp, then its slice.
                    let mut plain = Vec::with_capacity(CHUNK + 64);
                    plain.push(part as u8);
                    plain.push(parts as u8);
                    plain.extend_from_slice(&frame[..super::VP8_DELTA_HEADER.max(1) + 25]);
                    let lo = part * CHUNK;
                    plain.extend_from_slice(&frame[lo..(lo + CHUNK).min(frame.len())]);
                    let _ = socket.try_send_to(&seal(&own, index, &mut counter, &plain), relay);
                }
                stats.sent_total[*track as usize] += 1;
                if window.holds(stamp.sent_us) {
                    stats.sent_in_window[*track as usize] += 1;
                }
                *seq += 1;
                *next += *interval;
            }
        }
        let wake = tracks.iter().map(|t| t.3).min().unwrap_or(until).min(until);
        tokio::select! {
            r = socket.recv_from(&mut buf) => {
                let Ok((n, _)) = r else { continue };
                let Some((_, plain)) = open(&mut keys, &mut buf[..n]) else { continue };
                if plain.len() < 2 {
                    continue;
                }
                let (part, parts) = (plain[0], plain[1]);
                // The stamp sits after the codec header (audio: 1 byte, video: 3).
                let Some(stamp) = read_stamp(&plain[2..]) else { continue };
                if stats.join_time.is_none() {
                    stats.join_time = Some(started.elapsed());
                }
                let t = stats.received.entry((stamp.publisher, stamp.track)).or_default();
                t.packets += 1;
                t.bytes += plain.len() as u64;
                let in_window = window.holds(stamp.sent_us);
                if in_window {
                    t.packets_in_window += 1;
                    t.bytes_in_window += plain.len() as u64;
                }
                if part + 1 == parts {
                    t.frames += 1;
                    if in_window {
                        t.frames_in_window += 1;
                        let latency = now_us().saturating_sub(stamp.sent_us);
                        stats.latencies_us.push(latency.min(u64::from(u32::MAX)) as u32);
                    }
                }
            }
            _ = tokio::time::sleep_until(wake.into()) => {}
        }
    }
    stats
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_datagrams_open_with_the_senders_key() {
        let mut counter = 0;
        let mut d = seal(&key_for(3), 3, &mut counter, b"hello");
        let mut keys = BTreeMap::new();
        assert_eq!(open(&mut keys, &mut d), Some((3, &b"hello"[..])));
        let mut forged = seal(&key_for(4), 3, &mut counter, b"hello");
        assert_eq!(open(&mut keys, &mut forged), None, "wrong key");
    }
}
