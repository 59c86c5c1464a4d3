//! Cluster harness: a real `redis-server` on a free port (append-only file, fsync on
//! every write, so a restart keeps what was acknowledged) and real `studyhall-relay`
//! processes as nodes.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use studyhall_protocol::Grants;
use studyhall_relay::auth::TokenKeys;

use crate::lossy::free_udp_port;
use crate::TEST_SECRET;

fn free_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A token every node accepts (the nodes share [`TEST_SECRET`]).
pub fn token(room: &str, identity: &str, grants: Grants) -> String {
    let keys = TokenKeys::new(TEST_SECRET.as_bytes(), Duration::ZERO);
    crate::issue_token(&keys, room, identity, grants)
}

pub struct RedisServer {
    pub port: u16,
    password: Option<String>,
    /// TLS only: the CA certificate (PEM) that signed the server's certificate.
    ca: Option<PathBuf>,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl RedisServer {
    pub fn start() -> RedisServer {
        Self::launch(None, false)
    }

    /// A server that requires `password` (AUTH).
    pub fn with_password(password: &str) -> RedisServer {
        Self::launch(Some(password.to_string()), false)
    }

    /// A server that speaks only TLS (certificates made with the `openssl` tool, for
    /// 127.0.0.1) and requires `password`.
    pub fn with_tls(password: &str) -> RedisServer {
        Self::launch(Some(password.to_string()), true)
    }

    fn launch(password: Option<String>, tls: bool) -> RedisServer {
        let mut server = RedisServer {
            port: free_tcp_port(),
            password,
            ca: None,
            dir: tempfile::tempdir().expect("temp dir"),
            child: None,
        };
        if tls {
            server.ca = Some(make_certificates(server.dir.path()));
        }
        server.spawn();
        server
    }

    /// `SSL_CERT_FILE` for a node that must trust this server (TLS only).
    pub fn trust_env(&self) -> Vec<(&'static str, String)> {
        self.ca
            .iter()
            .map(|ca| ("SSL_CERT_FILE", ca.display().to_string()))
            .collect()
    }

    pub fn client(&self) -> redis::Client {
        match &self.ca {
            Some(ca) => redis::Client::build_with_tls(
                self.url(),
                redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(std::fs::read(ca).expect("CA certificate")),
                },
            ),
            None => redis::Client::open(self.url()),
        }
        .expect("redis client")
    }

    fn spawn(&mut self) {
        let mut cmd = Command::new("redis-server");
        let dir = self.dir.path();
        if self.ca.is_some() {
            cmd.args(["--port", "0", "--tls-port", &self.port.to_string()])
                .arg("--tls-cert-file")
                .arg(dir.join("server.pem"))
                .arg("--tls-key-file")
                .arg(dir.join("server.key"))
                .arg("--tls-ca-cert-file")
                .arg(dir.join("ca.pem"))
                .args(["--tls-auth-clients", "no"]);
        } else {
            cmd.args(["--port", &self.port.to_string()]);
        }
        cmd.args(["--bind", "127.0.0.1"])
            .arg("--dir")
            .arg(self.dir.path())
            .args(["--appendonly", "yes", "--appendfsync", "always"])
            .args(["--save", ""])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(p) = &self.password {
            cmd.args(["--requirepass", p]);
        }
        self.child = Some(
            cmd.spawn()
                .expect("redis-server runs (apt install redis-server)"),
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.answers() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn answers(&self) -> bool {
        if let Some(ca) = &self.ca {
            let out = Command::new("redis-cli")
                .args(["--tls", "--no-auth-warning", "-p", &self.port.to_string()])
                .arg("--cacert")
                .arg(ca)
                .args(["-a", self.password.as_deref().unwrap_or_default(), "ping"])
                .output();
            return out.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("PONG"));
        }
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
        let cmd = match &self.password {
            Some(p) => format!("AUTH {p}\r\nPING\r\n"),
            None => "PING\r\n".into(),
        };
        if s.write_all(cmd.as_bytes()).is_err() {
            return false;
        }
        let mut buf = [0u8; 64];
        let mut got = String::new();
        while let Ok(n) = s.read(&mut buf) {
            if n == 0 {
                break;
            }
            got.push_str(&String::from_utf8_lossy(&buf[..n]));
            if got.contains("PONG") || got.contains("LOADING") {
                break;
            }
        }
        got.contains("PONG")
    }

    pub fn url(&self) -> String {
        let scheme = if self.ca.is_some() { "rediss" } else { "redis" };
        match &self.password {
            Some(p) => format!("{scheme}://:{p}@127.0.0.1:{}/", self.port),
            None => format!("{scheme}://127.0.0.1:{}/", self.port),
        }
    }

    /// Kill the server (SIGKILL: no goodbye to anyone).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Start again on the same port and data (the append-only file).
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    pub async fn conn(&self) -> redis::aio::MultiplexedConnection {
        self.client()
            .get_multiplexed_async_connection()
            .await
            .expect("redis connection")
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A `studyhall-relay` process in cluster mode.
pub struct Node {
    pub id: String,
    pub addr: SocketAddr,
    child: Option<Child>,
    dir: tempfile::TempDir,
}

impl Node {
    /// Start a node named `id` on free ports and wait until it is registered.
    pub async fn start(id: &str, redis: &RedisServer) -> Node {
        let trust = redis.trust_env();
        let env: Vec<(&str, &str)> = trust.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let node = Self::spawn(id, &redis.url(), &env);
        node.wait_registered(redis.client()).await;
        node
    }

    /// Start without waiting (for nodes expected to fail).
    pub fn spawn(id: &str, redis_url: &str, env: &[(&str, &str)]) -> Node {
        let binary = studyhall_client::host::find_relay_binary()
            .expect("studyhall-relay is built (cargo build --bins)");
        let dir = tempfile::tempdir().expect("temp dir");
        let addr: SocketAddr = format!("127.0.0.1:{}", free_tcp_port()).parse().unwrap();
        let log = std::fs::File::create(dir.path().join("relay.log")).expect("log file");
        let mut cmd = Command::new(binary);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("STUDYHALL_REDIS_URL", redis_url)
            .env("STUDYHALL_NODE_ID", id)
            .env("STUDYHALL_SECRET", TEST_SECRET)
            .env("STUDYHALL_LISTEN", addr.to_string())
            .env("STUDYHALL_MEDIA_PORT", free_udp_port().to_string())
            .env("STUDYHALL_DATA_DIR", dir.path())
            .env("STUDYHALL_TOKEN_LEEWAY", "0s")
            .env("STUDYHALL_LOG", "info,studyhall_relay=debug")
            .stdout(log.try_clone().expect("log"))
            .stderr(log);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("start studyhall-relay");
        Node {
            id: id.to_string(),
            addr,
            child: Some(child),
            dir,
        }
    }

    async fn wait_registered(&self, client: redis::Client) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(mut conn) = client.get_multiplexed_async_connection().await {
                let found: bool = redis::cmd("EXISTS")
                    .arg(format!("studyhall:node:{}", self.id))
                    .query_async(&mut conn)
                    .await
                    .unwrap_or(false);
                if found {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "node {} did not register; its log:\n{}",
                self.id,
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `ws://ADDR` for [`studyhall_client::SignalClient`].
    pub fn url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    pub fn http(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("relay.log")).unwrap_or_default()
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("relay.log")
    }

    /// Kill the process (SIGKILL: it cannot clean up after itself).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Ask the process to stop (SIGTERM: it drains and leaves the registry).
    pub fn terminate(&self) {
        if let Some(child) = &self.child {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
        }
    }

    /// Wait for the process to exit by itself; its status and log.
    pub async fn wait_exit(
        &mut self,
        within: Duration,
    ) -> Option<(std::process::ExitStatus, String)> {
        let deadline = Instant::now() + within;
        loop {
            let child = self.child.as_mut()?;
            if let Ok(Some(status)) = child.try_wait() {
                self.child = None;
                return Some((status, self.log()));
            }
            if Instant::now() > deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!("---- log of node {} ----\n{}", self.id, self.log());
        }
    }
}

/// A CA and a server certificate for 127.0.0.1 in `dir`; returns the CA's path.
fn make_certificates(dir: &std::path::Path) -> PathBuf {
    let openssl = |args: &[&str]| {
        let status = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("openssl runs (apt install openssl)");
        assert!(status.success(), "openssl {args:?} failed");
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=Studyhall test CA",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .expect("write ext.cnf");
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ]);
    dir.join("ca.pem")
}

/// `GET path` over plain HTTP/1.0: status code and body.
pub fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").expect("write");
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}
