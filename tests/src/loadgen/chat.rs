//! Chat load: every user sends at a fixed rate and receives everyone's messages; each
//! text carries its send time, so delivery latency (send → every other user's socket,
//! through the store) is measured at the receivers.

use std::time::{Duration, Instant};

use studyhall_client::SignalClient;
use studyhall_protocol::{ClientMessage, Grants, MediaState, ServerMessage};
use studyhall_relay::auth::TokenKeys;

use super::relay::cpu_time;
use super::{now_us, percentile};

#[derive(Debug, Clone, Default)]
pub struct ChatReport {
    pub users: usize,
    pub per_second: u32,
    pub sent: u64,
    pub acked: u64,
    /// Messages received by others ÷ (acked × (users − 1)).
    pub delivery: f64,
    pub latency_p50_us: Option<u32>,
    pub latency_p99_us: Option<u32>,
    pub latency_p999_us: Option<u32>,
    /// Relay CPU per delivered message.
    pub cpu_us_per_delivery: Option<f64>,
    pub errors: Vec<String>,
}

struct UserStats {
    sent: u64,
    acked: u64,
    received: u64,
    latencies: Vec<u32>,
    errors: Vec<String>,
}

/// `users` users each send `per_second` messages for `measure`.
pub async fn run(
    url: &str,
    secret: &str,
    pid: u32,
    room: &str,
    users: usize,
    per_second: u32,
    measure: Duration,
) -> ChatReport {
    let keys = TokenKeys::new(secret.as_bytes(), Duration::from_secs(30));
    let mut clients = Vec::new();
    for i in 0..users {
        let id = format!("c{i}");
        let token = keys
            .issue(room, &id, &id, Grants::member(), Duration::from_secs(3600))
            .expect("token");
        match SignalClient::join(url, room, &token, MediaState::default()).await {
            Ok((c, _)) => clients.push(c),
            Err(e) => {
                return ChatReport {
                    errors: vec![format!("{id} cannot join: {e}")],
                    ..Default::default()
                }
            }
        }
    }
    let start = Instant::now() + Duration::from_millis(500);
    let stop = start + measure;
    let drain = stop + Duration::from_secs(2);
    let cpu_from = cpu_time(pid);
    let mut tasks = Vec::new();
    for (i, mut client) in clients.into_iter().enumerate() {
        tasks.push(tokio::spawn(async move {
            let mut s = UserStats {
                sent: 0,
                acked: 0,
                received: 0,
                latencies: Vec::new(),
                errors: Vec::new(),
            };
            let interval = Duration::from_secs(1) / per_second.max(1);
            // Spread the users' send times over one interval.
            let mut next = start + interval.mul_f64(i as f64 / users as f64);
            let me = format!("c{i}");
            loop {
                let now = Instant::now();
                if now >= drain {
                    break;
                }
                if now >= next && now < stop {
                    let msg = ClientMessage::ChatSend {
                        client_msg_id: format!("{me}-{}", s.sent),
                        text: now_us().to_string(),
                    };
                    if let Err(e) = client.send(msg).await {
                        s.errors.push(e.to_string());
                        break;
                    }
                    s.sent += 1;
                    next += interval;
                }
                let wake = if now < stop { next.min(drain) } else { drain };
                match tokio::time::timeout_at(wake.into(), client.recv()).await {
                    Ok(Ok(ServerMessage::ChatAck { .. })) => s.acked += 1,
                    Ok(Ok(ServerMessage::ChatMessage { message })) if message.from != me => {
                        s.received += 1;
                        if let Ok(sent) = message.text.parse::<u64>() {
                            let l = now_us().saturating_sub(sent);
                            s.latencies.push(l.min(u64::from(u32::MAX)) as u32);
                        }
                    }
                    Ok(Ok(ServerMessage::Error { code, message, .. })) => {
                        s.errors.push(format!("{code}: {message}"))
                    }
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => {
                        s.errors.push(e.to_string());
                        break;
                    }
                    Err(_) => {}
                }
            }
            client.close().await;
            s
        }));
    }
    let mut report = ChatReport {
        users,
        per_second,
        ..Default::default()
    };
    let mut latencies = Vec::new();
    let mut received = 0;
    for t in tasks {
        if let Ok(s) = t.await {
            report.sent += s.sent;
            report.acked += s.acked;
            received += s.received;
            latencies.extend(s.latencies);
            report.errors.extend(s.errors);
        }
    }
    let cpu = match (cpu_from, cpu_time(pid)) {
        (Some(a), Some(b)) => b.saturating_sub(a),
        _ => Duration::ZERO,
    };
    let expected = report.acked * (users.saturating_sub(1) as u64);
    report.delivery = if expected == 0 {
        0.0
    } else {
        received as f64 / expected as f64
    };
    if received > 0 {
        report.cpu_us_per_delivery = Some(cpu.as_micros() as f64 / received as f64);
    }
    latencies.sort_unstable();
    report.latency_p50_us = percentile(&latencies, 0.5);
    report.latency_p99_us = percentile(&latencies, 0.99);
    report.latency_p999_us = percentile(&latencies, 0.999);
    report
}

impl ChatReport {
    pub const MARKDOWN_HEADER: &'static str = "| chat | store | sent | acked | delivery | latency p50 / p99 / p99.9 (µs) | relay CPU µs per delivered message |\n|---|---|---|---|---|---|---|";

    pub fn markdown_row(&self, store: &str) -> String {
        let o = |v: Option<u32>| v.map_or("–".to_string(), |v| v.to_string());
        format!(
            "| {} users × {}/s | {store} | {} | {} | {:.4} | {} / {} / {} | {} |",
            self.users,
            self.per_second,
            self.sent,
            self.acked,
            self.delivery,
            o(self.latency_p50_us),
            o(self.latency_p99_us),
            o(self.latency_p999_us),
            self.cpu_us_per_delivery
                .map_or("–".into(), |v| format!("{v:.1}")),
        )
    }
}
