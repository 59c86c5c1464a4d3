//! The relay under a desktop-like open-files limit (the app starts it as a child): it
//! raises its soft limit to the hard one, answers `503` instead of nothing when
//! descriptors run out, and closes half-sent requests, so idle connections cannot lock
//! everyone else out.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use studyhall_tests::cluster::http_get;
use studyhall_tests::TEST_SECRET;

struct Relay {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The relay binary with its open-files limits set to `soft`:`hard` in the child before
/// it runs (as `prlimit --nofile` would; done here so that a failure to set them fails
/// the spawn instead of going unnoticed).
#[allow(unsafe_code)] // `pre_exec`, for setrlimit between fork and exec.
fn start(soft: u64, hard: u64) -> Relay {
    let binary = studyhall_client::host::find_relay_binary()
        .expect("studyhall-relay is built (cargo build --bins)");
    let dir = tempfile::tempdir().unwrap();
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let mut command = Command::new(binary);
    // SAFETY: setrlimit is async-signal-safe, and the closure allocates nothing.
    unsafe {
        command.pre_exec(move || rlimit::setrlimit(rlimit::Resource::NOFILE, soft, hard));
    }
    let child = command
        .env("STUDYHALL_SECRET", TEST_SECRET)
        .env("STUDYHALL_LISTEN", addr.to_string())
        .env("STUDYHALL_MEDIA_PORT", "0")
        .env("STUDYHALL_DATA_DIR", dir.path())
        .env("STUDYHALL_JOIN_TIMEOUT", "2s")
        .env("STUDYHALL_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the relay starts under the given open-files limits");
    let deadline = Instant::now() + Duration::from_secs(15);
    while TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "the relay did not listen");
        std::thread::sleep(Duration::from_millis(20));
    }
    Relay {
        child,
        addr,
        _dir: dir,
    }
}

/// The relay's soft and hard open-files limits, from /proc.
fn limits(pid: u32) -> (u64, u64) {
    let text = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap();
    let nums: Vec<u64> = line
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    (nums[0], nums[1])
}

#[test]
fn the_soft_open_files_limit_is_raised_to_the_hard_one() {
    let relay = start(256, 4096);
    let pid = relay.child.id();
    let (soft, hard) = limits(pid);
    // Which process was read, should this fail again (CI once read 20000:20000 here).
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    assert_eq!(
        hard, 4096,
        "the hard limit the relay was started with ({comm})"
    );
    assert_eq!(
        soft, 4096,
        "the soft limit, raised from 256 to the hard one ({comm})"
    );
    assert_eq!(http_get(relay.addr, "/healthz").0, 200);
}

#[test]
fn out_of_descriptors_answers_503_and_half_sent_requests_time_out() {
    let relay = start(96, 96);
    // Far more half-sent requests than descriptors: the relay runs out.
    let mut hogs = vec![];
    for _ in 0..200 {
        if let Ok(mut s) = TcpStream::connect(relay.addr) {
            let _ = s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n");
            hogs.push(s);
        }
    }
    // Until the relay has taken them all (a loaded machine takes longer than a quiet one):
    // its descriptors are used up.
    let fds = format!("/proc/{}/fd", relay.child.id());
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while std::fs::read_dir(&fds).map(|d| d.count()).unwrap_or(0) < 94
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    // A new client gets an answer, not silence.
    let (status, body) = http_get(relay.addr, "/healthz");
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("capacity"), "{body}");

    // The half-sent requests are closed after the header timeout (2 s here)...
    std::thread::sleep(Duration::from_millis(2_500));
    // (Those it never took wait in the kernel's backlog, or were turned away with 503.)
    let (mut closed, mut turned_away) = (0, 0);
    for s in &mut hogs {
        let _ = s.set_read_timeout(Some(Duration::from_millis(100)));
        let mut buf = [0u8; 256];
        match s.read(&mut buf) {
            Ok(0) => closed += 1,
            Ok(n) if String::from_utf8_lossy(&buf[..n]).contains(" 503 ") => turned_away += 1,
            Err(e)
                if e.kind() != std::io::ErrorKind::WouldBlock
                    && e.kind() != std::io::ErrorKind::TimedOut =>
            {
                closed += 1
            }
            _ => {}
        }
    }
    assert!(
        closed >= 50,
        "the relay closed only {closed} half-sent requests ({turned_away} turned away)"
    );
    drop(hogs);
    // ...and everyone is served again.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, _) = http_get(relay.addr, "/healthz");
        if status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "still {status}");
        std::thread::sleep(Duration::from_millis(100));
    }
}
