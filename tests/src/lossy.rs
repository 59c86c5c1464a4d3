//! A shaping UDP proxy: it stands between WebRTC clients and the relay's media port and
//! plays a network link for each client: a share of the datagrams lost in each direction
//! (all but DTLS; see [`lose`]), a one-way delay, and a rate the relay → client direction
//! is held to, with a queue that drops what it cannot hold (as a home router does). The
//! kernel here has no netem, so the link is ours, in user space. Each client gets its own
//! upstream socket, so the relay sees one address per client, as behind a NAT.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

#[derive(Debug, Default)]
pub struct LossCounters {
    pub to_relay: AtomicU64,
    pub to_relay_dropped: AtomicU64,
    pub to_client: AtomicU64,
    pub to_client_dropped: AtomicU64,
    /// Datagrams toward clients dropped because the link's queue was full.
    pub to_client_queue_dropped: AtomicU64,
}

/// What a client's link does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Link {
    /// The share of datagrams lost, each direction.
    pub loss: f64,
    /// One-way delay, each direction (the round trip is twice this).
    pub delay: Duration,
    /// The relay → client rate, bits per second (IP and UDP headers included); `None`:
    /// unlimited.
    pub down_bps: Option<u64>,
    /// The most a datagram may wait in the queue for the rate before it is dropped.
    pub queue: Duration,
}

impl Link {
    /// A link that only loses `loss` of the datagrams.
    pub fn lossy(loss: f64) -> Link {
        Link {
            loss,
            delay: Duration::ZERO,
            down_bps: None,
            queue: Duration::from_millis(200),
        }
    }

    /// A link that does nothing.
    pub const CLEAR: Link = Link {
        loss: 0.0,
        delay: Duration::ZERO,
        down_bps: None,
        queue: Duration::from_millis(200),
    };
}

pub struct LossyProxy {
    /// Where clients should send: advertise this as the relay's media address.
    pub addr: SocketAddr,
    pub counters: Arc<LossCounters>,
    /// The link each new client address gets (those already seen keep theirs).
    link: Arc<Mutex<Link>>,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

/// Whether to drop `datagram`. DTLS records (first byte 20–63, RFC 7983) always pass:
/// webrtc-rs 0.21.1 can strand a handshake that loses one (its `rtc-dtls` handshaker
/// disarms the retransmit timer when a repeated flight of the peer arrives while it waits,
/// so a lost record of its own flight is never sent again), and then the connection never
/// comes up. That is the library's bug, met in about one run in eight, not what the tests
/// behind this proxy measure: media (SRTP/SRTCP) and connectivity checks (STUN) are lost.
fn lose(loss: f64, datagram: &[u8]) -> bool {
    let dtls = matches!(datagram.first(), Some(20..=63));
    !dtls && loss > 0.0 && rand::random::<f64>() < loss
}

/// IPv4 and UDP headers, which a link carries on every datagram.
const DATAGRAM_OVERHEAD: u64 = 28;

/// One direction of a link: datagrams go out of `socket` to `to` after the delay, no
/// faster than the rate.
fn one_way(
    socket: Arc<UdpSocket>,
    to: SocketAddr,
    delay: Duration,
    rate: Option<u64>,
    queue: Duration,
    queue_dropped: Option<Arc<LossCounters>>,
) -> (mpsc::UnboundedSender<(Instant, Vec<u8>)>, JoinHandle<()>) {
    let (tx, mut rx) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let task = tokio::spawn(async move {
        // When the link has sent everything queued so far.
        let mut free_at = Instant::now();
        while let Some((arrived, datagram)) = rx.recv().await {
            let mut due = arrived + delay;
            if let Some(bps) = rate {
                let start = free_at.max(arrived);
                if start.saturating_duration_since(arrived) > queue {
                    if let Some(c) = &queue_dropped {
                        c.to_client_queue_dropped.fetch_add(1, Ordering::Relaxed);
                    }
                    continue;
                }
                let bits = (datagram.len() as u64 + DATAGRAM_OVERHEAD) * 8;
                free_at = start + Duration::from_secs_f64(bits as f64 / bps as f64);
                due = free_at + delay;
            }
            tokio::time::sleep_until(due).await;
            let _ = socket.send_to(&datagram, to).await;
        }
    });
    (tx, task)
}

impl LossyProxy {
    /// Forward datagrams to `upstream`, each client over a `link`.
    pub async fn shaped(upstream: SocketAddr, link: Link) -> LossyProxy {
        let front = Arc::new(UdpSocket::bind("127.0.0.1:0").await.expect("bind proxy"));
        let addr = front.local_addr().expect("proxy address");
        let counters = Arc::new(LossCounters::default());
        let tasks = Arc::new(Mutex::new(Vec::new()));
        let link = Arc::new(Mutex::new(link));
        let main = {
            let (front, counters, tasks, link) =
                (front.clone(), counters.clone(), tasks.clone(), link.clone());
            tokio::spawn(async move {
                type Up = mpsc::UnboundedSender<(Instant, Vec<u8>)>;
                let mut clients: HashMap<SocketAddr, (Up, f64)> = HashMap::new();
                let mut buf = vec![0u8; 2048];
                while let Ok((n, client)) = front.recv_from(&mut buf).await {
                    let arrived = Instant::now();
                    let (up, loss) = match clients.get(&client) {
                        Some(c) => c.clone(),
                        None => {
                            let l = *link.lock().unwrap();
                            let s = Arc::new(
                                UdpSocket::bind("127.0.0.1:0").await.expect("bind upstream"),
                            );
                            let (up, up_task) =
                                one_way(s.clone(), upstream, l.delay, None, l.queue, None);
                            let (down, down_task) = one_way(
                                front.clone(),
                                client,
                                l.delay,
                                l.down_bps,
                                l.queue,
                                Some(counters.clone()),
                            );
                            let counters = counters.clone();
                            let t = tokio::spawn(async move {
                                let mut buf = vec![0u8; 2048];
                                while let Ok((n, _)) = s.recv_from(&mut buf).await {
                                    counters.to_client.fetch_add(1, Ordering::Relaxed);
                                    if lose(l.loss, &buf[..n]) {
                                        counters.to_client_dropped.fetch_add(1, Ordering::Relaxed);
                                        continue;
                                    }
                                    if down.send((Instant::now(), buf[..n].to_vec())).is_err() {
                                        break;
                                    }
                                }
                            });
                            tasks.lock().unwrap().extend([t, up_task, down_task]);
                            clients.insert(client, (up.clone(), l.loss));
                            (up, l.loss)
                        }
                    };
                    counters.to_relay.fetch_add(1, Ordering::Relaxed);
                    if lose(loss, &buf[..n]) {
                        counters.to_relay_dropped.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    let _ = up.send((arrived, buf[..n].to_vec()));
                }
            })
        };
        tasks.lock().unwrap().push(main);
        LossyProxy {
            addr,
            counters,
            link,
            tasks,
        }
    }

    /// The link client addresses seen from now on get (one client's publish and
    /// subscribe connections each have an address).
    pub fn set_link_for_new_clients(&self, link: Link) {
        *self.link.lock().unwrap() = link;
    }
}

impl Drop for LossyProxy {
    fn drop(&mut self) {
        for t in self.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }
}

/// A UDP port that was free a moment ago (for a relay whose media port must be known
/// before it starts).
pub fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("a free UDP port")
}
