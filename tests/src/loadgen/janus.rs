//! Janus 1.1 VideoRoom as a baseline: the same participants (str0m peers, stamped
//! synthetic media) speaking Janus's HTTP API instead of Studyhall's protocol. Each
//! participant has one publisher handle and one multistream subscriber handle, which it
//! extends as publishers appear: the same two PeerConnections as on Studyhall.
//!
//! Janus never offers a loopback candidate, so peers bind to this machine's first
//! non-loopback IPv4 address, and Janus gathers only on that interface.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use super::participant::{media_loop, Media, Negotiation, ParticipantStats, Publish, Window};

/// The interface and address Janus and the peers use.
pub fn lan_address() -> Option<(String, IpAddr)> {
    let out = Command::new("ip")
        .args(["-4", "-o", "addr", "show", "scope", "global"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().next()?;
    let mut words = line.split_whitespace();
    let iface = words.nth(1)?.to_string();
    let addr = words.nth(1)?.split('/').next()?.parse().ok()?;
    Some((iface, addr))
}

/// One HTTP/1.0 request to Janus's API; the JSON answer.
async fn http(
    api: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Result<Value, String> {
    let mut stream = tokio::net::TcpStream::connect(api)
        .await
        .map_err(|e| format!("connect to Janus: {e}"))?;
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.0\r\nHost: {api}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .await
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&response);
    let json = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .ok_or("no HTTP body from Janus")?;
    serde_json::from_str(json).map_err(|e| format!("Janus answered non-JSON: {e}"))
}

fn transaction() -> String {
    format!("t{:x}", rand::random::<u64>())
}

async fn create_session(api: SocketAddr) -> Result<u64, String> {
    let r = http(
        api,
        "POST",
        "/janus",
        Some(&json!({"janus": "create", "transaction": transaction()})),
    )
    .await?;
    r["data"]["id"]
        .as_u64()
        .ok_or_else(|| format!("create failed: {r}"))
}

async fn attach(api: SocketAddr, session: u64) -> Result<u64, String> {
    let body = json!({"janus": "attach", "plugin": "janus.plugin.videoroom", "transaction": transaction()});
    let r = http(api, "POST", &format!("/janus/{session}"), Some(&body)).await?;
    r["data"]["id"]
        .as_u64()
        .ok_or_else(|| format!("attach failed: {r}"))
}

async fn message(
    api: SocketAddr,
    session: u64,
    handle: u64,
    body: Value,
    jsep: Option<Value>,
) -> Result<Value, String> {
    let mut m = json!({"janus": "message", "transaction": transaction(), "body": body});
    if let Some(j) = jsep {
        m["jsep"] = j;
    }
    http(api, "POST", &format!("/janus/{session}/{handle}"), Some(&m)).await
}

/// End a Janus session (and its handles); errors do not matter at this point.
async fn destroy_session(api: SocketAddr, session: u64) {
    let body = json!({"janus": "destroy", "transaction": transaction()});
    let _ = http(api, "POST", &format!("/janus/{session}"), Some(&body)).await;
}

/// Make a VideoRoom room for up to 64 publishers, with no bitrate cap.
pub async fn create_room(api: SocketAddr, room: u64) -> Result<(), String> {
    let session = create_session(api).await?;
    let handle = attach(api, session).await?;
    let body = json!({
        "request": "create", "room": room, "publishers": 64, "bitrate": 0,
        "fir_freq": 0, "audiocodec": "opus", "videocodec": "vp8", "notify_joining": false
    });
    let r = message(api, session, handle, body, None).await?;
    let created = r["plugindata"]["data"]["videoroom"].as_str() == Some("created");
    destroy_session(api, session).await;
    if created {
        Ok(())
    } else {
        Err(format!("room not created: {r}"))
    }
}

/// One participant on Janus.
pub async fn participant(
    index: u32,
    api: SocketAddr,
    ip: IpAddr,
    room: u64,
    publish: Publish,
    window: Window,
    until: Instant,
) -> ParticipantStats {
    let mut stats = ParticipantStats {
        index,
        ..Default::default()
    };
    let started = Instant::now();
    if let Err(e) = session(
        index, api, ip, room, publish, window, until, started, &mut stats,
    )
    .await
    {
        stats.errors.push(e);
    }
    stats
}

#[allow(clippy::too_many_arguments)]
async fn session(
    index: u32,
    api: SocketAddr,
    ip: IpAddr,
    room: u64,
    publish: Publish,
    window: Window,
    until: Instant,
    started: Instant,
    stats: &mut ParticipantStats,
) -> Result<(), String> {
    let session = create_session(api).await?;
    let publisher = attach(api, session).await?;
    let subscriber = attach(api, session).await?;
    let (media, offer) = Media::new(ip, publish).await?;
    let join = json!({
        "request": "joinandconfigure", "room": room, "ptype": "publisher",
        "display": format!("p{index}"), "audio": publish.audio,
        "video": publish.camera_kbps.is_some() || publish.screen_kbps.is_some()
    });
    let jsep = offer.map(|(sdp, _)| json!({"type": "offer", "sdp": sdp}));
    message(api, session, publisher, join, jsep).await?;

    // Janus's events arrive by long polling, in a task of their own.
    let (poll_tx, mut polled) = mpsc::channel::<Value>(256);
    let poller = tokio::spawn(async move {
        loop {
            let path = format!("/janus/{session}?maxev=20&rid={}", rand::random::<u32>());
            match http(api, "GET", &path, None).await {
                Ok(Value::Array(events)) => {
                    for e in events {
                        if poll_tx.send(e).await.is_err() {
                            return;
                        }
                    }
                }
                Ok(e) => {
                    if poll_tx.send(e).await.is_err() {
                        return;
                    }
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    });

    let (events_tx, events) = mpsc::channel(16);
    let (answers, mut answers_rx) = mpsc::channel::<String>(16);
    let signaling = tokio::spawn(async move {
        let mut own_id: Option<u64> = None;
        let mut known: std::collections::HashSet<u64> = Default::default();
        let mut waiting: Vec<u64> = Vec::new();
        let mut joined_as_subscriber = false;
        let mut in_flight = false;
        loop {
            tokio::select! {
                event = polled.recv() => {
                    let Some(event) = event else { break };
                    let sender = event["sender"].as_u64();
                    let data = &event["plugindata"]["data"];
                    let sdp = event["jsep"]["sdp"].as_str().map(str::to_string);
                    if sender == Some(publisher) {
                        if let Some(id) = data["id"].as_u64() {
                            own_id = Some(id);
                        }
                        if let Some(list) = data["publishers"].as_array() {
                            for p in list {
                                if let Some(id) = p["id"].as_u64() {
                                    if Some(id) != own_id && known.insert(id) {
                                        waiting.push(id);
                                    }
                                }
                            }
                        }
                        if let Some(sdp) = sdp {
                            let _ = events_tx.send(Negotiation::PublishAnswer(sdp)).await;
                        }
                        if data["error"].is_string() {
                            let _ = events_tx.send(Negotiation::Failed(format!("Janus: {}", data["error"]))).await;
                        }
                    } else if sender == Some(subscriber) {
                        if let Some(sdp) = sdp {
                            let _ = events_tx.send(Negotiation::SubscribeOffer(sdp)).await;
                        } else if data["error"].is_string() {
                            in_flight = false;
                        }
                    }
                }
                answer = answers_rx.recv() => {
                    let Some(sdp) = answer else { break };
                    let jsep = json!({"type": "answer", "sdp": sdp});
                    let _ = message(api, session, subscriber, json!({"request": "start"}), Some(jsep)).await;
                    in_flight = false;
                }
            }
            // Subscribe to publishers that appeared, one negotiation at a time.
            if !in_flight && !waiting.is_empty() {
                let streams: Vec<Value> = waiting
                    .drain(..)
                    .map(|feed| json!({"feed": feed}))
                    .collect();
                let body = if joined_as_subscriber {
                    json!({"request": "subscribe", "streams": streams})
                } else {
                    joined_as_subscriber = true;
                    json!({"request": "join", "room": room, "ptype": "subscriber", "streams": streams})
                };
                in_flight = message(api, session, subscriber, body, None).await.is_ok();
            }
        }
        destroy_session(api, session).await;
    });
    let result = media_loop(index, media, events, answers, window, until, started, stats).await;
    let _ = signaling.await;
    poller.abort();
    result
}

/// A Janus process for one run: `janus -F /etc/janus` gathering only on `iface`.
pub struct JanusProcess {
    pub api: SocketAddr,
    child: Child,
}

impl JanusProcess {
    pub fn start(
        iface: &str,
        pin_core: Option<usize>,
        configs: &Path,
    ) -> std::io::Result<JanusProcess> {
        let api: SocketAddr = "127.0.0.1:8088".parse().expect("address");
        let mut cmd = match pin_core {
            Some(core) => {
                let mut c = Command::new("taskset");
                c.args(["-c", &core.to_string(), "janus"]);
                c
            }
            None => Command::new("janus"),
        };
        let child = cmd
            .arg("-F")
            .arg(configs)
            .args(["-E", iface, "-d", "2"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(api).is_err() {
            if Instant::now() > deadline {
                return Err(std::io::Error::other(
                    "Janus did not start its HTTP API on 8088",
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(JanusProcess { api, child })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for JanusProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
