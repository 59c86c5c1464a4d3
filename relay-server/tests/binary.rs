//! The `studyhall-relay` binary as a user runs it: no configuration at all, the `token`
//! command, configuration errors, and SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_studyhall-relay");

/// A command with a clean environment: no STUDYHALL_* from the developer's shell, and a
/// private home so the default data directory lands in `home`.
fn relay(home: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    for (k, _) in std::env::vars() {
        if k.starts_with("STUDYHALL_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("HOME", home).env("XDG_DATA_HOME", home.join("xdg"));
    cmd
}

fn http_get(addr: &str, path: &str) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut resp = String::new();
    s.read_to_string(&mut resp)?;
    let status = resp
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = resp.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    Ok((status, body))
}

fn wait_healthy(addr: &str, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok((200, body)) = http_get(addr, "/healthz") {
            assert_eq!(body.trim(), "ok");
            return;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("relay exited early: {status}");
        }
        assert!(
            Instant::now() < deadline,
            "relay never became healthy on {addr}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn sigterm(child: &Child) {
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -TERM failed");
}

fn wait_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("relay did not exit within {within:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Reads the relay's log until the "listening" line and returns the address.
fn listening_addr(child: &mut Child) -> String {
    let out = child.stdout.take().expect("stdout piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("listening on http://").nth(1) {
                let addr = rest.split_whitespace().next().unwrap_or("").to_string();
                let _ = tx.send(addr);
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(20))
        .expect("relay logged its address")
}

#[test]
fn starts_with_no_configuration_and_answers_healthz() {
    let home = tempfile::tempdir().unwrap();
    let mut child = relay(home.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let addr = "127.0.0.1:7450";
    wait_healthy(addr, &mut child);
    let (status, metrics) = http_get(addr, "/metrics").unwrap();
    assert_eq!(status, 200);
    assert!(metrics.contains("studyhall_rooms 0"), "{metrics}");
    assert!(
        metrics.contains("studyhall_chat_messages_total 0"),
        "{metrics}"
    );
    assert!(metrics.contains("studyhall_media_tracks 0"), "{metrics}");
    let (status, info) = http_get(addr, "/").unwrap();
    assert_eq!(status, 200);
    assert!(info.contains("\"protocol\":1"), "{info}");
    // Embedded default: chat database and secret under the user's data directory.
    let data = home.path().join("xdg/studyhall-relay");
    assert!(data.join("chat.sqlite3").exists());
    assert!(data.join("relay-secret").exists());
    sigterm(&child);
    assert!(wait_exit(&mut child, Duration::from_secs(10)).success());
}

#[test]
fn token_command_uses_the_kept_secret() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    let run = |args: &[&str]| {
        relay(home.path())
            .arg("token")
            .arg("--data-dir")
            .arg(&data)
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&[
        "--room",
        "algebra",
        "--identity",
        "ada",
        "--name",
        "Ada Lovelace",
        "--host",
        "--ttl",
        "30m",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap();
    assert_eq!(token.trim().split('.').count(), 3, "a JWT: {token}");
    let secret = std::fs::read_to_string(data.join("relay-secret")).unwrap();
    // A second token is signed with the same, kept secret.
    let out = run(&["--room", "algebra", "--identity", "bob", "--name", "Bob"]);
    assert!(out.status.success());
    assert_eq!(
        std::fs::read_to_string(data.join("relay-secret")).unwrap(),
        secret
    );

    let out = run(&["--room", "bad room", "--identity", "ada", "--name", "Ada"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("room"));
    let out = run(&[
        "--room",
        "r",
        "--identity",
        "ada",
        "--name",
        "Ada",
        "--grants",
        "join,fly",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("fly"));
}

#[test]
fn configuration_errors_name_the_key() {
    let home = tempfile::tempdir().unwrap();
    let out = relay(home.path())
        .env("STUDYHALL_MAX_ROOMSIZE", "3")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("STUDYHALL_MAX_ROOMSIZE"), "{err}");

    let file = home.path().join("relay.toml");
    std::fs::write(&file, "max_room_size = 10\nheartbeat_intervall = \"2s\"\n").unwrap();
    let out = relay(home.path())
        .arg("--config")
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("heartbeat_intervall") && err.contains("relay.toml"),
        "{err}"
    );

    let out = relay(home.path())
        .env("STUDYHALL_HEARTBEAT_TIMEOUT", "1s")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("heartbeat_timeout"));
}

#[test]
fn sigterm_drains_and_exits_cleanly_and_flags_override_env() {
    let home = tempfile::tempdir().unwrap();
    let mut child = relay(home.path())
        .env("STUDYHALL_LISTEN", "127.0.0.1:1") // overridden by the flag below
        .args(["--listen", "127.0.0.1:0", "--media-port", "0", "--data-dir"])
        .arg(home.path().join("d"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let addr = listening_addr(&mut child);
    assert_ne!(addr, "127.0.0.1:1");
    wait_healthy(&addr, &mut child);
    sigterm(&child);
    let status = wait_exit(&mut child, Duration::from_secs(10));
    assert!(status.success(), "{status}");
}

#[test]
fn exits_when_its_parent_process_ends() {
    let home = tempfile::tempdir().unwrap();
    // A stand-in for the desktop app that hosts the relay.
    let mut parent = Command::new("sleep").arg("60").spawn().unwrap();
    let mut child = relay(home.path())
        .args(["--listen", "127.0.0.1:0", "--media-port", "0", "--data-dir"])
        .arg(home.path().join("d"))
        .arg("--exit-with-parent")
        .arg(parent.id().to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let addr = listening_addr(&mut child);
    wait_healthy(&addr, &mut child);
    // Still serving while the parent lives ...
    std::thread::sleep(Duration::from_millis(800));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the relay stopped early"
    );
    // ... and drains and exits once it is gone (reaped or not).
    parent.kill().unwrap();
    let status = wait_exit(&mut child, Duration::from_secs(10));
    assert!(status.success(), "{status}");
    let _ = parent.wait();
}
