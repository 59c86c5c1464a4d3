//! Moves bytes for the [`Sfu`](super::Sfu): one task owns the core and the UDP socket,
//! takes commands from signaling, and hands notices back.

use std::net::SocketAddr;
use std::time::Instant;

use studyhall_protocol::{PublishedTrack, TileView, TrackSource};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};
use tracing::{info, warn};

use super::{Notice, Sfu, SfuError};

enum Command {
    Join {
        group: String,
        identity: String,
        conn: u64,
        wants_media: bool,
    },
    Leave {
        group: String,
        identity: String,
        conn: u64,
    },
    Publish {
        group: String,
        identity: String,
        conn: u64,
        sdp: String,
        tracks: Vec<PublishedTrack>,
        reply: oneshot::Sender<Result<String, SfuError>>,
    },
    SubscribeAnswer {
        group: String,
        identity: String,
        conn: u64,
        sdp: String,
        reply: oneshot::Sender<Result<(), SfuError>>,
    },
    SetEnabled {
        group: String,
        identity: String,
        conn: u64,
        source: TrackSource,
        enabled: bool,
    },
    SetView {
        group: String,
        identity: String,
        conn: u64,
        tiles: Vec<TileView>,
        reply: oneshot::Sender<Result<(), SfuError>>,
    },
    Counts {
        reply: oneshot::Sender<(usize, usize, usize)>,
    },
    Upload {
        reply: oneshot::Sender<super::Upload>,
    },
}

/// How signaling talks to the media task. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SfuHandle {
    tx: mpsc::Sender<Command>,
    local: SocketAddr,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("sfu::Command")
    }
}

impl SfuHandle {
    /// The UDP address peers send media to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// `identity` joined `group` on signaling connection `conn`. Every later command
    /// names its connection: one from a connection that was replaced does nothing.
    pub async fn join(&self, group: &str, identity: &str, conn: u64, wants_media: bool) {
        let _ = self
            .tx
            .send(Command::Join {
                group: group.into(),
                identity: identity.into(),
                conn,
                wants_media,
            })
            .await;
    }

    pub async fn leave(&self, group: &str, identity: &str, conn: u64) {
        let _ = self
            .tx
            .send(Command::Leave {
                group: group.into(),
                identity: identity.into(),
                conn,
            })
            .await;
    }

    pub async fn publish(
        &self,
        group: &str,
        identity: &str,
        conn: u64,
        sdp: String,
        tracks: Vec<PublishedTrack>,
    ) -> Result<String, SfuError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Command::Publish {
                group: group.into(),
                identity: identity.into(),
                conn,
                sdp,
                tracks,
                reply,
            })
            .await
            .map_err(|_| SfuError::Unavailable)?;
        rx.await.map_err(|_| SfuError::Unavailable)?
    }

    pub async fn subscribe_answer(
        &self,
        group: &str,
        identity: &str,
        conn: u64,
        sdp: String,
    ) -> Result<(), SfuError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Command::SubscribeAnswer {
                group: group.into(),
                identity: identity.into(),
                conn,
                sdp,
                reply,
            })
            .await
            .map_err(|_| SfuError::Unavailable)?;
        rx.await.map_err(|_| SfuError::Unavailable)?
    }

    pub async fn set_enabled(
        &self,
        group: &str,
        identity: &str,
        conn: u64,
        source: TrackSource,
        enabled: bool,
    ) {
        let _ = self
            .tx
            .send(Command::SetEnabled {
                group: group.into(),
                identity: identity.into(),
                conn,
                source,
                enabled,
            })
            .await;
    }

    /// Which forwarded video tracks `identity` shows ([`Sfu::set_view`]).
    pub async fn set_view(
        &self,
        group: &str,
        identity: &str,
        conn: u64,
        tiles: Vec<TileView>,
    ) -> Result<(), SfuError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Command::SetView {
                group: group.into(),
                identity: identity.into(),
                conn,
                tiles,
                reply,
            })
            .await
            .map_err(|_| SfuError::Unavailable)?;
        rx.await.map_err(|_| SfuError::Unavailable)?
    }

    /// (publish peers, subscribe peers, published tracks)
    pub async fn counts(&self) -> (usize, usize, usize) {
        let (reply, rx) = oneshot::channel();
        if self.tx.send(Command::Counts { reply }).await.is_err() {
            return (0, 0, 0);
        }
        rx.await.unwrap_or((0, 0, 0))
    }

    /// The media upload, its budget, and what the budget turns down (see
    /// [`super::budget`]).
    pub async fn upload(&self) -> super::Upload {
        let (reply, rx) = oneshot::channel();
        if self.tx.send(Command::Upload { reply }).await.is_err() {
            return Default::default();
        }
        rx.await.unwrap_or_default()
    }
}

/// A handle with no media task behind it, for the session's tests: each command is
/// recorded as one line (`join r ann`, `set_enabled r ann microphone false`, ...), and
/// requests that want an answer get [`SfuError::Unavailable`].
#[cfg(test)]
pub(crate) fn recording() -> (SfuHandle, SfuRecording) {
    let (tx, rx) = mpsc::channel(1024);
    let local = SocketAddr::from(([127, 0, 0, 1], 9));
    (SfuHandle { tx, local }, SfuRecording(rx))
}

/// What a [`recording`] handle was asked.
#[cfg(test)]
pub(crate) struct SfuRecording(mpsc::Receiver<Command>);

#[cfg(test)]
impl SfuRecording {
    /// The commands sent since the last call, one line each.
    pub(crate) fn drain(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        while let Ok(command) = self.0.try_recv() {
            out.push(match command {
                Command::Join {
                    group,
                    identity,
                    wants_media,
                    ..
                } => format!(
                    "join {group} {identity}{}",
                    if wants_media { "" } else { " (no media)" }
                ),
                Command::Leave {
                    group, identity, ..
                } => format!("leave {group} {identity}"),
                Command::SetEnabled {
                    group,
                    identity,
                    source,
                    enabled,
                    ..
                } => format!(
                    "set_enabled {group} {identity} {} {enabled}",
                    source.as_str()
                ),
                Command::Publish {
                    group,
                    identity,
                    reply,
                    ..
                } => {
                    let _ = reply.send(Err(SfuError::Unavailable));
                    format!("publish {group} {identity}")
                }
                Command::SubscribeAnswer {
                    group,
                    identity,
                    reply,
                    ..
                } => {
                    let _ = reply.send(Err(SfuError::Unavailable));
                    format!("subscribe_answer {group} {identity}")
                }
                Command::SetView {
                    group,
                    identity,
                    tiles,
                    reply,
                    ..
                } => {
                    let _ = reply.send(Err(SfuError::Unavailable));
                    let mids: Vec<_> = tiles.iter().map(|t| t.mid.as_str()).collect();
                    format!("set_view {group} {identity} [{}]", mids.join(" "))
                }
                Command::Counts { reply } => {
                    let _ = reply.send((0, 0, 0));
                    "counts".into()
                }
                Command::Upload { reply } => {
                    let _ = reply.send(Default::default());
                    "upload".into()
                }
            });
        }
        out
    }
}

/// Start the media task on `socket`. `advertised` is the address peers are told to send
/// to (default: the socket's own). Notices for participants come out of the returned
/// receiver; the task ends when every handle is dropped.
pub fn spawn(
    socket: UdpSocket,
    advertised: Option<SocketAddr>,
    connect_timeout: std::time::Duration,
    upload_budget_bps: Option<u64>,
    downlink_estimates: bool,
) -> std::io::Result<(SfuHandle, mpsc::UnboundedReceiver<Notice>)> {
    let local = advertised.unwrap_or(socket.local_addr()?);
    let (tx, rx) = mpsc::channel(1024);
    let (notices_tx, notices_rx) = mpsc::unbounded_channel();
    info!(%local, "media relay (SFU) listening on UDP");
    let sfu = Sfu::new(local)
        .with_connect_timeout(connect_timeout)
        .with_upload_budget(upload_budget_bps)
        .with_downlink_estimates(downlink_estimates);
    tokio::spawn(run(socket, sfu, rx, notices_tx));
    Ok((SfuHandle { tx, local }, notices_rx))
}

/// Datagrams taken from the socket in one go before the transmits they cause are sent.
const RECEIVE_BATCH: usize = 64;

async fn run(
    socket: UdpSocket,
    mut sfu: Sfu,
    mut commands: mpsc::Receiver<Command>,
    notices: mpsc::UnboundedSender<Notice>,
) {
    let mut buf = vec![0u8; 2048];
    loop {
        let deadline = sfu.next_timeout(Instant::now());
        tokio::select! {
            received = socket.recv_from(&mut buf) => match received {
                Ok((n, source)) => {
                    sfu.handle_receive(Instant::now(), source, &buf[..n]);
                    // Whatever else is already queued is handled before sending, so one
                    // wake-up serves a burst.
                    for _ in 1..RECEIVE_BATCH {
                        match socket.try_recv_from(&mut buf) {
                            Ok((n, source)) => sfu.handle_receive(Instant::now(), source, &buf[..n]),
                            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                            Err(e) => {
                                warn!(error = %e, "udp receive error");
                                break;
                            }
                        }
                    }
                }
                // ICMP port unreachable and the like surface here; they are not fatal.
                Err(e) => warn!(error = %e, "udp receive error"),
            },
            command = commands.recv() => {
                let Some(command) = command else { break };
                apply(&mut sfu, command);
            }
            _ = tokio::time::sleep_until(deadline.into()) => {}
        }
        let now = Instant::now();
        if now >= deadline {
            sfu.handle_timeout(now);
        }
        send_all(&socket, &mut sfu).await;
        while let Some(n) = sfu.poll_notice() {
            let _ = notices.send(n);
        }
    }
    info!("media relay stopped");
}

/// Send every queued transmit; waits only when the socket's send buffer is full.
async fn send_all(socket: &UdpSocket, sfu: &mut Sfu) {
    while let Some((dest, bytes)) = sfu.poll_transmit() {
        loop {
            match socket.try_send_to(&bytes, dest) {
                Ok(_) => break,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    if let Err(e) = socket.writable().await {
                        warn!(error = %e, "udp socket failed");
                        break;
                    }
                }
                Err(e) => {
                    warn!(%dest, error = %e, "udp send failed");
                    break;
                }
            }
        }
        sfu.recycle(bytes);
    }
}

fn apply(sfu: &mut Sfu, command: Command) {
    let now = Instant::now();
    match command {
        Command::Join {
            group,
            identity,
            conn,
            wants_media,
        } => sfu.join(now, &group, &identity, conn, wants_media),
        Command::Leave {
            group,
            identity,
            conn,
        } => sfu.leave(now, &group, &identity, conn),
        Command::Publish {
            group,
            identity,
            conn,
            sdp,
            tracks,
            reply,
        } => {
            let _ = reply.send(sfu.publish(now, &group, &identity, conn, &sdp, &tracks));
        }
        Command::SubscribeAnswer {
            group,
            identity,
            conn,
            sdp,
            reply,
        } => {
            let _ = reply.send(sfu.subscribe_answer(now, &group, &identity, conn, &sdp));
        }
        Command::SetEnabled {
            group,
            identity,
            conn,
            source,
            enabled,
        } => sfu.set_enabled(now, &group, &identity, conn, source, enabled),
        Command::SetView {
            group,
            identity,
            conn,
            tiles,
            reply,
        } => {
            let _ = reply.send(sfu.set_view(now, &group, &identity, conn, &tiles));
        }
        Command::Counts { reply } => {
            let _ = reply.send(sfu.counts());
        }
        Command::Upload { reply } => {
            let _ = reply.send(sfu.upload());
        }
    }
}
