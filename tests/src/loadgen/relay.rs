//! The system under load: a relay process, and what it costs (CPU and memory from /proc).

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// CPU time (user + system) of a process, from /proc/<pid>/stat.
pub fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on Linux.
    Some(Duration::from_millis(ticks * 10))
}

/// Resident memory of a process in bytes, from /proc/<pid>/status.
pub fn rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// UDP datagrams sent by this whole machine so far (/proc/net/snmp `OutDatagrams`).
pub fn udp_out_datagrams() -> Option<u64> {
    let snmp = std::fs::read_to_string("/proc/net/snmp").ok()?;
    let mut udp = snmp.lines().filter(|l| l.starts_with("Udp:"));
    let names: Vec<&str> = udp.next()?.split_whitespace().collect();
    let values: Vec<&str> = udp.next()?.split_whitespace().collect();
    let i = names.iter().position(|n| *n == "OutDatagrams")?;
    values.get(i)?.parse().ok()
}

/// A `studyhall-relay` started for a run, optionally pinned to one core.
pub struct RelayProcess {
    pub url: String,
    pub addr: SocketAddr,
    child: Child,
    dir: tempfile::TempDir,
}

/// Environment variables of the load generator's own that reach the relay it starts.
const PASSED_THROUGH: [&str; 2] = ["STUDYHALL_LOG", "STUDYHALL_DOWNLINK_ESTIMATES"];

impl RelayProcess {
    /// The relay's data directory.
    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// Start `binary` on free ports with `secret`; `env` adds `STUDYHALL_*` settings.
    pub fn start(
        binary: &Path,
        secret: &str,
        pin_core: Option<usize>,
        env: &[(String, String)],
    ) -> std::io::Result<RelayProcess> {
        let dir = tempfile::tempdir()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("address");
        let media = std::net::UdpSocket::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let mut cmd = match pin_core {
            Some(core) => {
                let mut c = Command::new("taskset");
                c.args(["-c", &core.to_string()]).arg(binary);
                c
            }
            None => Command::new(binary),
        };
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("STUDYHALL_SECRET", secret)
            .env("STUDYHALL_LISTEN", addr.to_string())
            .env("STUDYHALL_MEDIA_PORT", media.to_string())
            .env("STUDYHALL_DATA_DIR", dir.path())
            .env("STUDYHALL_LOG", "warn")
            // Every participant of a large room joins through the same address.
            .env("STUDYHALL_MAX_CONNECTIONS", "4096")
            .env("STUDYHALL_MAX_PENDING_PER_ADDRESS", "4096")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        // What the person running the benchmark set for these wins over the defaults
        // above: the log's level (to see what the relay did), and turning the downlink
        // estimates off (to compare).
        for key in PASSED_THROUGH {
            if let Some(v) = std::env::var_os(key) {
                cmd.env(key, v);
            }
        }
        // A log asked for goes with the generator's own errors, not into its report.
        if std::env::var_os("STUDYHALL_LOG").is_some() {
            cmd.stdout(std::io::stderr());
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn()?;
        let relay = RelayProcess {
            url: format!("ws://{addr}"),
            addr,
            child,
            dir,
        };
        relay.wait_ready()?;
        Ok(relay)
    }

    fn wait_ready(&self) -> std::io::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(self.addr).is_err() {
            if Instant::now() > deadline {
                return Err(std::io::Error::other("the relay did not start listening"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    /// The relay's own pid (under `taskset`, the child execs the relay: same pid).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Pin this process (every thread created afterwards) to one core.
pub fn pin_self(core: usize) -> std::io::Result<()> {
    let status = Command::new("taskset")
        .args([
            "-a",
            "-p",
            "-c",
            &core.to_string(),
            &std::process::id().to_string(),
        ])
        .stdout(Stdio::null())
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(std::io::Error::other("taskset failed"))
    }
}

/// The null relay ([`super::null`]) in its own process: `program null-relay --port P`.
pub struct NullRelayProcess {
    pub addr: SocketAddr,
    child: Child,
}

impl NullRelayProcess {
    pub fn start(program: &Path, pin_core: Option<usize>) -> std::io::Result<NullRelayProcess> {
        let port = std::net::UdpSocket::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("address");
        let mut cmd = match pin_core {
            Some(core) => {
                let mut c = Command::new("taskset");
                c.args(["-c", &core.to_string()]).arg(program);
                c
            }
            None => Command::new(program),
        };
        let child = cmd
            .args(["null-relay", "--port", &port.to_string()])
            .stdout(Stdio::null())
            .spawn()?;
        // It binds at once; give it a moment to get there.
        std::thread::sleep(Duration::from_millis(200));
        Ok(NullRelayProcess { addr, child })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for NullRelayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
