//! The local video socket: encoded VP8 frames from Rust to the webview, which decodes
//! them with WebCodecs (Debian's WebKitGTK has no WebRTC; raw frames over IPC are too
//! slow). Binary message layout: see docs/app-ipc.md, "Video".
//!
//! One loopback WebSocket server per app, guarded by a random key in the URL. Frames fan
//! out to every connected socket. Each track's frames since its last keyframe are kept,
//! so a socket that connects (or falls behind) late starts decoding at once instead of
//! waiting for the next keyframe.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use studyhall_client::media::EncodedVideo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, mpsc};
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::Message;

/// Version byte of the message layout.
pub const FORMAT_VERSION: u8 = 1;
/// Frames buffered per socket before it counts as behind.
const FANOUT_CAPACITY: usize = 256;
/// Most frames kept per track since its keyframe.
const MAX_GOP: usize = 400;

/// The track key the webview draws by: `<identity>:<source>`, `self:<source>` for ours.
pub fn track_key(frame: &EncodedVideo) -> String {
    format!(
        "{}:{}",
        frame.identity.as_deref().unwrap_or("self"),
        frame.source.as_str()
    )
}

/// One binary message.
pub fn encode_message(key: &str, frame: &EncodedVideo) -> Vec<u8> {
    let key = key.as_bytes();
    let key_len = key.len().min(u16::MAX as usize);
    let mut out = Vec::with_capacity(12 + key_len + frame.data.len());
    out.push(FORMAT_VERSION);
    out.push(u8::from(frame.keyframe));
    out.extend_from_slice(&(key_len as u16).to_be_bytes());
    out.extend_from_slice(&key[..key_len]);
    out.extend_from_slice(&(frame.timestamp_us as f64).to_be_bytes());
    out.extend_from_slice(&frame.data);
    out
}

#[derive(Clone)]
struct Packet {
    key: Arc<str>,
    keyframe: bool,
    bytes: Arc<Vec<u8>>,
}

#[derive(Default)]
struct GopCache {
    tracks: HashMap<Arc<str>, Vec<Packet>>,
}

impl GopCache {
    fn push(&mut self, packet: &Packet) {
        let gop = self.tracks.entry(packet.key.clone()).or_default();
        if packet.keyframe {
            gop.clear();
        } else if gop.is_empty() {
            return; // nothing decodable yet
        }
        if gop.len() < MAX_GOP {
            gop.push(packet.clone());
        }
    }

    fn snapshot(&self) -> Vec<Packet> {
        self.tracks.values().flatten().cloned().collect()
    }
}

/// The running server. Cheap to clone.
#[derive(Clone)]
pub struct VideoHub {
    url: String,
    frames: mpsc::Sender<EncodedVideo>,
    cache: Arc<Mutex<GopCache>>,
}

/// A free loopback port for the video socket, bound now.
pub fn reserve() -> std::io::Result<std::net::TcpListener> {
    std::net::TcpListener::bind("127.0.0.1:0")
}

/// Narrow the window's `connect-src` from any loopback port (`ws://127.0.0.1:*`, which
/// the config must hold as the placeholder) to the video socket's `port`: the page may
/// open no other local socket. Returns whether the placeholder was found.
pub fn pin_csp_port(csp: &mut Option<tauri::utils::config::Csp>, port: u16) -> bool {
    use tauri::utils::config::{Csp, CspDirectiveSources};
    const ANY_LOOPBACK_PORT: &str = "ws://127.0.0.1:*";
    let Some(Csp::DirectiveMap(map)) = csp else {
        return false;
    };
    let Some(sources) = map.get_mut("connect-src") else {
        return false;
    };
    let list: Vec<String> = sources.clone().into();
    if !list.iter().any(|s| s == ANY_LOOPBACK_PORT) {
        return false;
    }
    *sources = CspDirectiveSources::List(
        list.into_iter()
            .filter(|s| !s.is_empty())
            .map(|s| {
                if s == ANY_LOOPBACK_PORT {
                    format!("ws://127.0.0.1:{port}")
                } else {
                    s
                }
            })
            .collect(),
    );
    true
}

/// The listener [`reserve`]d before the app was built, until the app's state takes it.
pub struct ReservedVideoSocket(pub std::sync::Mutex<Option<std::net::TcpListener>>);

impl VideoHub {
    /// Start serving on `listener` (from [`reserve`]: its port is known before the
    /// window's content security policy is set, which names it).
    pub async fn start_on(listener: std::net::TcpListener) -> std::io::Result<VideoHub> {
        listener.set_nonblocking(true)?;
        let listener = TcpListener::from_std(listener)?;
        let addr = listener.local_addr()?;
        let key = hex::encode(rand::random::<[u8; 16]>());
        let (frames, mut rx) = mpsc::channel::<EncodedVideo>(512);
        let (fanout, _) = broadcast::channel::<Packet>(FANOUT_CAPACITY);
        let cache = Arc::new(Mutex::new(GopCache::default()));
        {
            let (fanout, cache) = (fanout.clone(), cache.clone());
            tokio::spawn(async move {
                while let Some(frame) = rx.recv().await {
                    let key: Arc<str> = track_key(&frame).into();
                    let packet = Packet {
                        bytes: Arc::new(encode_message(&key, &frame)),
                        key,
                        keyframe: frame.keyframe,
                    };
                    // Under the cache lock, so a socket's snapshot and subscription
                    // (taken under it too) neither miss nor repeat a frame.
                    let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
                    cache.push(&packet);
                    let _ = fanout.send(packet);
                }
            });
        }
        {
            let (key, cache) = (key.clone(), cache.clone());
            tokio::spawn(async move {
                loop {
                    match listener.accept().await {
                        Ok((stream, peer)) => {
                            tokio::spawn(serve(
                                stream,
                                peer,
                                key.clone(),
                                fanout.clone(),
                                cache.clone(),
                            ));
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "video socket accept failed");
                            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                        }
                    }
                }
            });
        }
        Ok(VideoHub {
            url: format!("ws://{addr}/video?key={key}"),
            frames,
            cache,
        })
    }

    /// Where the webview connects.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Where media pipelines put frames.
    pub fn sink(&self) -> mpsc::Sender<EncodedVideo> {
        self.frames.clone()
    }

    /// Forget a track (its owner left), so late sockets do not draw a stale picture.
    pub fn forget(&self, key: &str) {
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .tracks
            .remove(key);
    }

    /// Forget every remote track (we left the room).
    pub fn forget_all(&self) {
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .tracks
            .clear();
    }
}

async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    key: String,
    fanout: broadcast::Sender<Packet>,
    cache: Arc<Mutex<GopCache>>,
) {
    let expected = format!("key={key}");
    // The callback's signature is tungstenite's; its error is an HTTP response.
    #[allow(clippy::result_large_err)]
    let check = |request: &Request, response: Response| -> Result<Response, ErrorResponse> {
        let ok = request.uri().path() == "/video"
            && request
                .uri()
                .query()
                .is_some_and(|q| q.split('&').any(|p| p == expected));
        if ok {
            Ok(response)
        } else {
            let mut refused = ErrorResponse::new(Some("unknown video key".into()));
            *refused.status_mut() = tokio_tungstenite::tungstenite::http::StatusCode::FORBIDDEN;
            Err(refused)
        }
    };
    let ws = match tokio_tungstenite::accept_hdr_async(stream, check).await {
        Ok(ws) => ws,
        Err(e) => {
            tracing::debug!(%peer, error = %e, "video socket refused");
            return;
        }
    };
    let (mut sink, mut incoming) = ws.split();
    // Each track from its keyframe, then live frames from exactly where that left off.
    let resume = || {
        let cache = cache.lock().unwrap_or_else(|p| p.into_inner());
        (cache.snapshot(), fanout.subscribe())
    };
    let (replay, mut packets) = resume();
    for packet in replay {
        if sink
            .send(Message::Binary(packet.bytes.as_ref().clone().into()))
            .await
            .is_err()
        {
            return;
        }
    }
    loop {
        tokio::select! {
            packet = packets.recv() => match packet {
                Ok(packet) => {
                    if sink.send(Message::Binary(packet.bytes.as_ref().clone().into())).await.is_err() {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(skipped)) => {
                    // Behind: start every track again from its keyframe.
                    tracing::debug!(skipped, "video socket fell behind; replaying keyframes");
                    let (replay, fresh) = resume();
                    packets = fresh;
                    for packet in replay {
                        if sink.send(Message::Binary(packet.bytes.as_ref().clone().into())).await.is_err() {
                            return;
                        }
                    }
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
            message = incoming.next() => match message {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use studyhall_protocol::TrackSource;

    fn frame(identity: Option<&str>, keyframe: bool, byte: u8) -> EncodedVideo {
        EncodedVideo {
            identity: identity.map(str::to_string),
            source: TrackSource::Camera,
            keyframe,
            timestamp_us: 1_500_000,
            data: bytes::Bytes::from(vec![byte; 3]),
        }
    }

    #[test]
    fn messages_follow_the_documented_layout() {
        let f = frame(Some("ada"), true, 9);
        let key = track_key(&f);
        assert_eq!(key, "ada:camera");
        let m = encode_message(&key, &f);
        assert_eq!(m[0], 1);
        assert_eq!(m[1], 1, "keyframe flag");
        assert_eq!(u16::from_be_bytes([m[2], m[3]]), 10);
        assert_eq!(&m[4..14], b"ada:camera");
        assert_eq!(
            f64::from_be_bytes(m[14..22].try_into().unwrap()),
            1_500_000.0
        );
        assert_eq!(&m[22..], &[9, 9, 9]);
        assert_eq!(track_key(&frame(None, false, 0)), "self:camera");
    }

    #[tokio::test]
    async fn sockets_need_the_key_and_late_ones_start_from_a_keyframe() {
        let hub = VideoHub::start_on(reserve().unwrap()).await.unwrap();
        let wrong = hub.url().replace("key=", "key=x");
        assert!(tokio_tungstenite::connect_async(&wrong).await.is_err());

        // Frames before anyone watches: a delta (dropped), a keyframe, a delta.
        let sink = hub.sink();
        sink.send(frame(Some("ada"), false, 1)).await.unwrap();
        sink.send(frame(Some("ada"), true, 2)).await.unwrap();
        sink.send(frame(Some("ada"), false, 3)).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;

        let (mut ws, _) = tokio_tungstenite::connect_async(hub.url()).await.unwrap();
        let mut got = Vec::new();
        while got.len() < 3 {
            if sink.try_send(frame(Some("ada"), false, 4)).is_err() {
                break;
            }
            let msg = tokio::time::timeout(std::time::Duration::from_secs(5), ws.next())
                .await
                .unwrap()
                .unwrap()
                .unwrap();
            if let Message::Binary(b) = msg {
                got.push(*b.last().unwrap());
            }
        }
        assert_eq!(
            &got[..2],
            &[2, 3],
            "the cached GOP first, from its keyframe"
        );
        assert_eq!(got[2], 4, "then live frames");
    }
}
