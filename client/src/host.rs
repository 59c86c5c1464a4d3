//! Hosting a room from this machine: start the bundled `studyhall-relay` binary as a
//! child process in embedded mode, learn where it listens, mint tokens with its own
//! secret, and stop it (draining) when the room ends.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};

/// File name of the relay binary.
pub const RELAY_BINARY: &str = "studyhall-relay";

#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error("cannot find the {RELAY_BINARY} binary (looked in: {looked})")]
    BinaryNotFound { looked: String },
    #[error("cannot start {path}: {source}")]
    Spawn {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the relay stopped before it was ready: {stderr}")]
    ExitedEarly { stderr: String },
    #[error("the relay did not report its address within {0:?}")]
    NotReady(Duration),
    #[error("{RELAY_BINARY} token failed: {0}")]
    Token(String),
    #[error("cannot read the relay's upload: {0}")]
    Metrics(String),
}

/// Where to look for the relay: beside this executable (installed app, `target/<profile>`
/// for binaries), one level up (test binaries live in `target/<profile>/deps`), then
/// `PATH`.
pub fn find_relay_binary() -> Result<PathBuf, HostError> {
    let mut candidates = Vec::new();
    if let Ok(exe) = std::env::current_exe() {
        if let Some(dir) = exe.parent() {
            candidates.push(dir.join(RELAY_BINARY));
            if let Some(up) = dir.parent() {
                candidates.push(up.join(RELAY_BINARY));
            }
        }
    }
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path).map(|d| d.join(RELAY_BINARY)));
    }
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or_else(|| HostError::BinaryNotFound {
            looked: candidates
                .iter()
                .take(3)
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// How to start the hosted relay.
#[derive(Debug, Clone)]
pub struct HostOptions {
    /// The relay binary; found with [`find_relay_binary`] when `None`.
    pub binary: Option<PathBuf>,
    /// The address to serve on: the LAN address so others can join, or loopback.
    pub ip: IpAddr,
    /// TCP port for signaling (0 = any free port) and UDP port for media (0 = any).
    pub port: u16,
    pub media_port: u16,
    /// Where the relay keeps chat and its secret.
    pub data_dir: PathBuf,
    /// The media upload the relay keeps within (kbit/s; see the relay's
    /// `upload_budget_kbps`); `None`: no budget.
    pub upload_budget_kbps: Option<u64>,
}

/// A member's laptop hosting a room of 25 is asked to upload no more than this (kbit/s):
/// what a good home or campus uplink carries, with some left for everything else.
pub const DEFAULT_UPLOAD_BUDGET_KBPS: u64 = 25_000;

/// What the hosted relay uploads now, from its `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct HostUpload {
    /// Bits per second, over about the last second.
    pub bits_per_second: u64,
    /// The budget, bits per second (0: none).
    pub budget_bits_per_second: u64,
    /// Video tiles the budget sends at the small layer where the viewer wants the full
    /// one, and tiles on screen it pauses.
    pub held_small: u64,
    pub paused: u64,
}

impl HostUpload {
    /// Ask the relay serving at `addr` (its `/metrics`).
    pub async fn fetch(addr: SocketAddr) -> Result<HostUpload, HostError> {
        let url = format!("http://{addr}/metrics");
        let text = async {
            reqwest::Client::new()
                .get(&url)
                .timeout(Duration::from_secs(2))
                .send()
                .await?
                .error_for_status()?
                .text()
                .await
        }
        .await
        .map_err(|e| HostError::Metrics(e.to_string()))?;
        HostUpload::from_metrics(&text)
            .ok_or_else(|| HostError::Metrics("the relay's metrics have no upload gauges".into()))
    }

    /// Read the gauges out of a `/metrics` text.
    pub fn from_metrics(text: &str) -> Option<HostUpload> {
        let gauge = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        };
        Some(HostUpload {
            bits_per_second: gauge("studyhall_media_upload_bits_per_second")?,
            budget_bits_per_second: gauge("studyhall_media_upload_budget_bits_per_second")?,
            held_small: gauge("studyhall_media_budget_held_small")?,
            paused: gauge("studyhall_media_budget_paused")?,
        })
    }
}

/// A relay running as our child process.
pub struct HostedRelay {
    child: Child,
    binary: PathBuf,
    data_dir: PathBuf,
    addr: SocketAddr,
}

/// Reads the relay's log line "listening on http://ADDR".
fn listening_addr(line: &str) -> Option<SocketAddr> {
    let rest = line.split("listening on http://").nth(1)?;
    rest.split_whitespace().next()?.parse().ok()
}

impl HostedRelay {
    /// Start the relay and wait (up to 15 s) until it listens.
    pub async fn start(options: HostOptions) -> Result<HostedRelay, HostError> {
        let binary = match options.binary {
            Some(b) => b,
            None => find_relay_binary()?,
        };
        let mut cmd = Command::new(&binary);
        // Our own STUDYHALL_* settings are not the relay's: it refuses unknown keys.
        for (key, _) in std::env::vars() {
            if key.starts_with("STUDYHALL_") {
                cmd.env_remove(key);
            }
        }
        if let Some(kbps) = options.upload_budget_kbps {
            cmd.env("STUDYHALL_UPLOAD_BUDGET_KBPS", kbps.to_string());
        }
        cmd.arg("serve")
            .arg("--listen")
            .arg(SocketAddr::new(options.ip, options.port).to_string())
            .arg("--media-port")
            .arg(options.media_port.to_string())
            .arg("--data-dir")
            .arg(&options.data_dir)
            // If this process dies without stopping it, the relay stops by itself.
            .arg("--exit-with-parent")
            .arg(std::process::id().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().map_err(|source| HostError::Spawn {
            path: binary.clone(),
            source,
        })?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let wait = Duration::from_secs(15);
        let found = tokio::time::timeout(wait, async {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(addr) = listening_addr(&line) {
                    // Keep draining the log so the relay never blocks on a full pipe.
                    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
                    return Some(addr);
                }
            }
            None
        })
        .await;
        match found {
            Ok(Some(addr)) => Ok(HostedRelay {
                child,
                binary,
                data_dir: options.data_dir,
                addr,
            }),
            Ok(None) => {
                let mut stderr = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = e.read_to_string(&mut stderr).await;
                }
                let _ = child.wait().await;
                Err(HostError::ExitedEarly {
                    stderr: stderr.trim().to_string(),
                })
            }
            Err(_) => {
                let _ = child.kill().await;
                Err(HostError::NotReady(wait))
            }
        }
    }

    /// Where the relay serves signaling.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base address clients are given, `ws://IP:PORT`.
    pub fn url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Mint a token with the relay's own secret (`studyhall-relay token`).
    pub async fn token(
        &self,
        room: &str,
        identity: &str,
        name: &str,
        host: bool,
        ttl: Duration,
    ) -> Result<String, HostError> {
        let mut cmd = Command::new(&self.binary);
        for (key, _) in std::env::vars() {
            if key.starts_with("STUDYHALL_") {
                cmd.env_remove(key);
            }
        }
        cmd.arg("token")
            .arg("--data-dir")
            .arg(&self.data_dir)
            .args(["--room", room, "--identity", identity, "--name", name])
            .arg("--ttl")
            .arg(humantime::format_duration(ttl).to_string());
        if host {
            cmd.arg("--host");
        }
        let out = cmd
            .output()
            .await
            .map_err(|e| HostError::Token(e.to_string()))?;
        if !out.status.success() {
            return Err(HostError::Token(
                String::from_utf8_lossy(&out.stderr).trim().to_string(),
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// What the relay uploads now, and its budget.
    pub async fn upload(&self) -> Result<HostUpload, HostError> {
        HostUpload::fetch(self.addr).await
    }

    /// Whether the relay process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Stop the relay: SIGTERM (it tells everyone and closes their sockets), then kill if
    /// it has not exited within 10 s. Returns whether it exited cleanly.
    pub async fn stop(mut self) -> bool {
        if let Some(pid) = self.child.id() {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .await;
        }
        match tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await {
            Ok(Ok(status)) => status.success(),
            _ => {
                let _ = self.child.kill().await;
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_listening_line() {
        let line = "2026-11-22T20:00:00Z  INFO studyhall_relay: studyhall-relay listening on http://192.168.1.5:7450 (WebSocket at ws://192.168.1.5:7450/ws)";
        assert_eq!(
            listening_addr(line),
            Some("192.168.1.5:7450".parse().unwrap())
        );
        assert_eq!(listening_addr("something else"), None);
    }

    #[test]
    fn a_missing_binary_says_where_it_looked() {
        let err = HostError::BinaryNotFound {
            looked: "/a/studyhall-relay".into(),
        };
        assert!(err.to_string().contains("/a/studyhall-relay"));
    }
}
