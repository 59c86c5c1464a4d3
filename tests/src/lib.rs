//! Shared harness for the scenario tests: a real relay on `127.0.0.1:0` with its own data
//! directory, real WebSocket clients, and helpers to wait for specific messages.

pub mod board;
pub mod cluster;
pub mod fuzzing;
pub mod loadgen;
pub mod lossy;
pub mod questions;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use studyhall_client::{JoinInfo, SignalClient, SignalError};
use studyhall_protocol::{
    ClientMessage, ErrorCode, Grants, MediaState, ServerMessage, PROTOCOL_VERSION,
};
use studyhall_relay::auth::TokenKeys;
use studyhall_relay::{Config, RunningRelay};

/// Secret the test relays sign with, so tests can mint (and forge) tokens.
pub const TEST_SECRET: &str = "test-secret-test-secret-test-secret-0123";

/// How long a test waits for an expected message before failing.
pub const WAIT: Duration = Duration::from_secs(5);

pub struct TestRelay {
    pub running: RunningRelay,
    pub keys: TokenKeys,
    dir: Arc<tempfile::TempDir>,
    config: Config,
}

/// Log to the test output when `RUST_LOG` is set (e.g. `RUST_LOG=studyhall_relay=debug`).
pub fn init_logging() {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
    }
}

impl TestRelay {
    /// A relay with defaults suited to tests (free port, temp data dir, no token leeway).
    pub async fn start() -> TestRelay {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> TestRelay {
        init_logging();
        let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
        let mut config = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: dir.path().to_path_buf(),
            secret: Some(TEST_SECRET.into()),
            token_leeway: Duration::ZERO,
            drain_timeout: Duration::from_secs(2),
            media_port: 0,
            ..Config::default()
        };
        tweak(&mut config);
        config.validate().expect("test config is valid");
        Self::launch(config, dir).await
    }

    async fn launch(config: Config, dir: Arc<tempfile::TempDir>) -> TestRelay {
        let running = RunningRelay::start(config.clone())
            .await
            .expect("relay starts");
        TestRelay {
            keys: TokenKeys::new(TEST_SECRET.as_bytes(), Duration::ZERO),
            running,
            dir,
            config,
        }
    }

    /// Stop (draining) and start again on the same data directory, on a new port.
    pub async fn restart(self) -> TestRelay {
        let TestRelay {
            running,
            dir,
            config,
            ..
        } = self;
        running.stop().await.expect("relay stops cleanly");
        Self::launch(config, dir).await
    }

    /// Stop (draining) and start again on the same data directory and the same address,
    /// as a relay restarted by its operator would: clients can rejoin where they were.
    pub async fn restart_in_place(self) -> TestRelay {
        let TestRelay {
            running,
            dir,
            mut config,
            ..
        } = self;
        config.listen = running.addr;
        running.stop().await.expect("relay stops cleanly");
        Self::launch(config, dir).await
    }

    /// `host:port` the relay listens on.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.running.addr
    }

    /// Drain and stop.
    pub async fn stop(self) {
        self.running.stop().await.expect("relay stops cleanly");
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn data_dir_buf(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// The base address clients are given: `ws://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("ws://{}", self.running.addr)
    }

    pub fn http(&self, path: &str) -> String {
        format!("http://{}{}", self.running.addr, path)
    }

    pub fn token_with(&self, room: &str, identity: &str, grants: Grants) -> String {
        issue_token(&self.keys, room, identity, grants)
    }

    pub fn token(&self, room: &str, identity: &str) -> String {
        self.token_with(room, identity, Grants::member())
    }

    pub fn host_token(&self, room: &str, identity: &str) -> String {
        self.token_with(room, identity, Grants::host())
    }

    pub async fn join(&self, room: &str, identity: &str) -> (SignalClient, JoinInfo) {
        SignalClient::join(
            &self.url(),
            room,
            &self.token(room, identity),
            MediaState::default(),
        )
        .await
        .unwrap_or_else(|e| panic!("{identity} cannot join {room}: {e}"))
    }

    pub async fn join_host(&self, room: &str, identity: &str) -> (SignalClient, JoinInfo) {
        SignalClient::join(
            &self.url(),
            room,
            &self.host_token(room, identity),
            MediaState::default(),
        )
        .await
        .unwrap_or_else(|e| panic!("host {identity} cannot join {room}: {e}"))
    }
}

/// A 10-minute token for `identity` (named after it) signed with `keys`.
pub fn issue_token(keys: &TokenKeys, room: &str, identity: &str, grants: Grants) -> String {
    keys.issue(
        room,
        identity,
        &display_name(identity),
        grants,
        Duration::from_secs(600),
    )
    .expect("token")
}

/// "ada" → "Ada".
pub fn display_name(identity: &str) -> String {
    let mut c = identity.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Receive until a message matches `pred` (others are skipped); panics after [`WAIT`].
pub async fn expect<F>(client: &mut SignalClient, what: &str, mut pred: F) -> ServerMessage
where
    F: FnMut(&ServerMessage) -> bool,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match tokio::time::timeout_at(deadline, client.recv()).await {
            Err(_) => panic!("timed out waiting for {what}"),
            Ok(Err(e)) => panic!("connection ended while waiting for {what}: {e}"),
            Ok(Ok(msg)) if pred(&msg) => return msg,
            Ok(Ok(_)) => continue,
        }
    }
}

/// Wait for an error with `code`.
pub async fn expect_error(client: &mut SignalClient, code: ErrorCode) -> ServerMessage {
    expect(
        client,
        &format!("error {code}"),
        |m| matches!(m, ServerMessage::Error { code: c, .. } if *c == code),
    )
    .await
}

/// Receive until the socket closes; returns the close code and the messages seen.
pub async fn expect_close(client: &mut SignalClient) -> (u16, Vec<ServerMessage>) {
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut seen = Vec::new();
    loop {
        match tokio::time::timeout_at(deadline, client.recv()).await {
            Err(_) => panic!("timed out waiting for close; saw {seen:?}"),
            Ok(Err(SignalError::Closed { code, .. })) => return (code, seen),
            Ok(Err(e)) => panic!("unexpected error waiting for close: {e}"),
            Ok(Ok(msg)) => seen.push(msg),
        }
    }
}

/// Assert nothing matching `pred` arrives within `within`.
pub async fn expect_none<F>(client: &mut SignalClient, within: Duration, what: &str, mut pred: F)
where
    F: FnMut(&ServerMessage) -> bool,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, client.recv()).await {
            Err(_) => return,
            Ok(Err(e)) => panic!("connection ended while checking for no {what}: {e}"),
            Ok(Ok(msg)) if pred(&msg) => panic!("unexpected {what}: {msg:?}"),
            Ok(Ok(_)) => continue,
        }
    }
}

/// Connect and send a join that must be refused: returns the error code, the close
/// code and the error message. The error must be marked fatal.
pub async fn join_refused(url: &str, room: &str, token: &str) -> (ErrorCode, u16, String) {
    let mut client = SignalClient::connect(url).await.expect("connect");
    client
        .send(ClientMessage::Join {
            room: room.to_string(),
            token: token.to_string(),
            protocol: PROTOCOL_VERSION,
            media: MediaState::default(),
        })
        .await
        .expect("send join");
    let (close, seen) = expect_close(&mut client).await;
    let error = seen.iter().find_map(|m| match m {
        ServerMessage::Error {
            code,
            message,
            fatal,
            ..
        } => {
            assert!(*fatal, "a refused join must be fatal: {m:?}");
            Some((*code, message.clone()))
        }
        ServerMessage::Joined { .. } => panic!("join to {room} was accepted"),
        _ => None,
    });
    let (code, message) =
        error.unwrap_or_else(|| panic!("no error before close {close}: {seen:?}"));
    (code, close, message)
}
