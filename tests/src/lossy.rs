//! A lossy UDP proxy: the drop shim that stands between WebRTC clients and the relay's
//! media port and drops a share of the datagrams in each direction (all but DTLS; see
//! [`lose`]). Each client gets its
//! own upstream socket, so the relay sees one address per client, as behind a NAT.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::UdpSocket;
use tokio::task::JoinHandle;

#[derive(Debug, Default)]
pub struct LossCounters {
    pub to_relay: AtomicU64,
    pub to_relay_dropped: AtomicU64,
    pub to_client: AtomicU64,
    pub to_client_dropped: AtomicU64,
}

pub struct LossyProxy {
    /// Where clients should send: advertise this as the relay's media address.
    pub addr: SocketAddr,
    pub counters: Arc<LossCounters>,
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
    !dtls && rand::random::<f64>() < loss
}

impl LossyProxy {
    /// Forward datagrams to `upstream`, dropping each with probability `loss`.
    pub async fn start(upstream: SocketAddr, loss: f64) -> LossyProxy {
        let front = Arc::new(UdpSocket::bind("127.0.0.1:0").await.expect("bind proxy"));
        let addr = front.local_addr().expect("proxy address");
        let counters = Arc::new(LossCounters::default());
        let tasks = Arc::new(Mutex::new(Vec::new()));
        let main = {
            let (front, counters, tasks) = (front.clone(), counters.clone(), tasks.clone());
            tokio::spawn(async move {
                let mut clients: HashMap<SocketAddr, Arc<UdpSocket>> = HashMap::new();
                let mut buf = vec![0u8; 2048];
                while let Ok((n, client)) = front.recv_from(&mut buf).await {
                    let back = match clients.get(&client) {
                        Some(s) => s.clone(),
                        None => {
                            let s = Arc::new(
                                UdpSocket::bind("127.0.0.1:0").await.expect("bind upstream"),
                            );
                            clients.insert(client, s.clone());
                            let (front, s2, counters) =
                                (front.clone(), s.clone(), counters.clone());
                            let t = tokio::spawn(async move {
                                let mut buf = vec![0u8; 2048];
                                while let Ok((n, _)) = s2.recv_from(&mut buf).await {
                                    counters.to_client.fetch_add(1, Ordering::Relaxed);
                                    if lose(loss, &buf[..n]) {
                                        counters.to_client_dropped.fetch_add(1, Ordering::Relaxed);
                                        continue;
                                    }
                                    let _ = front.send_to(&buf[..n], client).await;
                                }
                            });
                            tasks.lock().unwrap().push(t);
                            s
                        }
                    };
                    counters.to_relay.fetch_add(1, Ordering::Relaxed);
                    if lose(loss, &buf[..n]) {
                        counters.to_relay_dropped.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    let _ = back.send_to(&buf[..n], upstream).await;
                }
            })
        };
        tasks.lock().unwrap().push(main);
        LossyProxy {
            addr,
            counters,
            tasks,
        }
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
