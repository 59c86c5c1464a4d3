//! Counters for `/metrics` (Prometheus text format, written by hand: a few lines do not
//! justify a dependency).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use studyhall_protocol::ErrorCode;

#[derive(Debug, Default)]
pub struct Metrics {
    pub connections_open: AtomicU64,
    pub connections_total: AtomicU64,
    pub connections_refused: AtomicU64,
    pub connections_refused_pending: AtomicU64,
    pub joins_total: AtomicU64,
    pub messages_received: AtomicU64,
    pub chat_messages: AtomicU64,
    errors: Mutex<BTreeMap<&'static str, u64>>,
}

/// Decrements the open-connection gauge when a connection ends, however it ends.
pub struct OpenConnection<'a>(&'a Metrics);

impl Drop for OpenConnection<'_> {
    fn drop(&mut self) {
        self.0.connections_open.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Metrics {
    pub fn connection_opened(&self) -> OpenConnection<'_> {
        self.connections_open.fetch_add(1, Ordering::Relaxed);
        self.connections_total.fetch_add(1, Ordering::Relaxed);
        OpenConnection(self)
    }

    pub fn error_sent(&self, code: ErrorCode) {
        let mut errors = self.errors.lock().unwrap_or_else(|p| p.into_inner());
        *errors.entry(code.as_str()).or_default() += 1;
    }

    pub fn render(&self, rooms: usize, participants: usize) -> String {
        let mut out = String::new();
        let mut gauge = |name: &str, help: &str, kind: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        };
        gauge("studyhall_rooms", "Live rooms.", "gauge", rooms as u64);
        gauge(
            "studyhall_participants",
            "Participants in live rooms.",
            "gauge",
            participants as u64,
        );
        gauge(
            "studyhall_connections",
            "Open WebSocket connections (joined or not).",
            "gauge",
            self.connections_open.load(Ordering::Relaxed),
        );
        gauge(
            "studyhall_connections_total",
            "WebSocket connections accepted since start.",
            "counter",
            self.connections_total.load(Ordering::Relaxed),
        );
        gauge(
            "studyhall_connections_refused_total",
            "WebSocket upgrades refused because max_connections was reached.",
            "counter",
            self.connections_refused.load(Ordering::Relaxed),
        );
        gauge(
            "studyhall_connections_refused_pending_total",
            "WebSocket upgrades refused because too many sockets from the same address had not joined yet (max_pending_per_address).",
            "counter",
            self.connections_refused_pending.load(Ordering::Relaxed),
        );
        gauge(
            "studyhall_joins_total",
            "Successful joins since start.",
            "counter",
            self.joins_total.load(Ordering::Relaxed),
        );
        gauge(
            "studyhall_messages_received_total",
            "Client messages received since start.",
            "counter",
            self.messages_received.load(Ordering::Relaxed),
        );
        gauge(
            "studyhall_chat_messages_total",
            "Chat messages stored since start.",
            "counter",
            self.chat_messages.load(Ordering::Relaxed),
        );
        let _ = writeln!(
            out,
            "# HELP studyhall_errors_total Error messages sent to clients, by code.\n# TYPE studyhall_errors_total counter"
        );
        let errors = self.errors.lock().unwrap_or_else(|p| p.into_inner());
        for (code, n) in errors.iter() {
            let _ = writeln!(out, "studyhall_errors_total{{code=\"{code}\"}} {n}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::default();
        {
            let _c = m.connection_opened();
            m.error_sent(ErrorCode::RateLimited);
            m.error_sent(ErrorCode::RateLimited);
            assert!(m.render(1, 2).contains("studyhall_connections 1\n"));
        }
        let text = m.render(1, 2);
        assert!(text.contains("studyhall_rooms 1\n"));
        assert!(text.contains("studyhall_participants 2\n"));
        assert!(text.contains("studyhall_connections 0\n"));
        assert!(text.contains("studyhall_errors_total{code=\"rate_limited\"} 2\n"));
    }
}
