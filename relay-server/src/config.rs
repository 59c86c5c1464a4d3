//! Typed relay configuration: defaults → TOML file → `STUDYHALL_*` environment → flags.
//!
//! Every layer is a [`ConfigLayer`] of optional values that rejects unknown keys, so a
//! typo in a file or an environment variable is an error naming the key instead of a
//! setting silently ignored.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// Default address: loopback only, so a relay started with no configuration is not
/// reachable from the network until its operator says so.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7450";

/// Default UDP port of the media relay.
pub const DEFAULT_MEDIA_PORT: u16 = 7451;

/// Environment variables with this prefix are configuration keys.
pub const ENV_PREFIX: &str = "STUDYHALL_";

/// Environment variable naming a config file (read before the other `STUDYHALL_*` keys).
pub const ENV_CONFIG_FILE: &str = "STUDYHALL_CONFIG";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("environment variable {var}: {message}")]
    Env { var: String, message: String },
    #[error("invalid setting `{key}`: {message}")]
    Invalid { key: &'static str, message: String },
    #[error("no data directory: set `data_dir` (STUDYHALL_DATA_DIR or --data-dir)")]
    NoDataDir,
}

/// The relay's effective configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address of the HTTP + WebSocket listener.
    pub listen: SocketAddr,
    /// Where the chat database and the generated token secret live.
    pub data_dir: PathBuf,
    /// Token signing secret. When absent, one is generated once and kept in
    /// `<data_dir>/relay-secret`.
    pub secret: Option<String>,
    /// Most participants in one room.
    pub max_room_size: usize,
    /// Most simultaneous WebSocket connections.
    pub max_connections: usize,
    /// Most sockets from one address (an IPv6 /64) that are open but have not joined yet.
    pub max_pending_per_address: usize,
    /// Largest WebSocket message accepted, in bytes.
    pub max_message_bytes: usize,
    /// Largest chat text, in bytes of UTF-8.
    pub max_chat_bytes: usize,
    /// Signaling messages per second per connection (sustained) and burst.
    pub messages_per_second: u32,
    pub message_burst: u32,
    /// Chat messages per second per connection (sustained) and burst.
    pub chat_per_second: u32,
    pub chat_burst: u32,
    /// Seconds (windows) with rejected messages, within 30 s, before a disconnect.
    pub violations_before_disconnect: u32,
    /// The relay pings every connection this often...
    pub heartbeat_interval: Duration,
    /// ...and drops one that sent nothing for this long.
    pub heartbeat_timeout: Duration,
    /// Time a new socket has to send `join`.
    pub join_timeout: Duration,
    /// Time a new media connection has to connect (ICE and DTLS) before the relay drops it
    /// and tells its participant (`media_failed`).
    pub media_connect_timeout: Duration,
    /// On shutdown, how long to wait for clients to be told and sockets to close.
    pub drain_timeout: Duration,
    /// Allowed clock skew when checking token times.
    pub token_leeway: Duration,
    /// Messages sent on join.
    pub history_on_join: u32,
    /// Largest history page a client may ask for.
    pub max_history_page: u32,
    /// Words masked with `*` in chat (case-insensitive, whole words).
    pub word_filter: Vec<String>,
    /// `tracing` filter, e.g. `info` or `studyhall_relay=debug`.
    pub log: String,
    /// UDP port of the media relay (SFU), on the IP of `listen`; 0 picks a free port.
    pub media_port: u16,
    /// Where clients reach the media port: an IP (the bound port is kept) or IP:port
    /// (a host behind NAT with a forwarded port, or `listen` on 0.0.0.0).
    pub media_advertise: Option<MediaAdvertise>,
    /// Redis URL (`redis://` or `rediss://` for TLS, with `user:password@` when the
    /// server wants them). Set: this relay is a cluster node. Unset: embedded mode.
    pub redis_url: Option<String>,
    /// This node's name in the cluster registry; a random `node-xxxxxx` when unset.
    pub node_id: Option<String>,
    /// Where people reach this node (shown in the registry for operators), e.g.
    /// `ws://10.0.0.5:7450/ws`; `ws://<listen>/ws` when unset.
    pub public_url: Option<String>,
    /// Chat messages kept per room in the Redis stream (approximately; older ones go).
    pub redis_chat_max_len: u64,
    /// Where shared files are kept (default `<data_dir>/materials`). Nodes of a cluster
    /// may share one directory (then any node serves any file from disk).
    pub materials_dir: Option<PathBuf>,
    /// Largest file one upload may carry, in bytes.
    pub max_upload_bytes: u64,
    /// A room's files together, in bytes.
    pub room_materials_quota_bytes: u64,
    /// Uploads one person may have under way at once (per node).
    pub uploads_at_once: u32,
    /// Most study groups this relay (or cluster) keeps; 0 turns creating groups off.
    pub max_groups: u64,
    /// The media upload this relay keeps within, in kbit/s (a hosting member's uplink);
    /// past it, video is turned down least important first. 0: no budget.
    pub upload_budget_kbps: u64,
    /// Hold a subscriber whose client reports heavy loss to what its downlink takes (see
    /// `sfu::budget::Downlink`).
    pub downlink_estimates: bool,
    /// Cluster mode: the HTTP address other nodes fetch this node's files from (default
    /// `http://<listen>`, with 127.0.0.1 for an unspecified address).
    pub internal_url: Option<String>,
}

/// The media address given to clients: an IP, or an IP and port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum MediaAdvertise {
    Ip(std::net::IpAddr),
    Addr(SocketAddr),
}

impl MediaAdvertise {
    /// The advertised address for a socket bound to `port`.
    pub fn address(self, port: u16) -> SocketAddr {
        match self {
            MediaAdvertise::Ip(ip) => SocketAddr::new(ip, port),
            MediaAdvertise::Addr(a) => a,
        }
    }
}

impl TryFrom<String> for MediaAdvertise {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl std::str::FromStr for MediaAdvertise {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if let Ok(a) = s.parse::<SocketAddr>() {
            return Ok(MediaAdvertise::Addr(a));
        }
        s.parse::<std::net::IpAddr>()
            .map(MediaAdvertise::Ip)
            .map_err(|_| format!("`{s}` is neither an IP address nor IP:port"))
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: DEFAULT_LISTEN.parse().expect("valid default address"),
            data_dir: default_data_dir().unwrap_or_else(|| PathBuf::from("studyhall-data")),
            secret: None,
            max_room_size: 25,
            max_connections: 1024,
            max_pending_per_address: 32,
            max_message_bytes: 64 * 1024,
            max_chat_bytes: 4 * 1024,
            messages_per_second: 20,
            message_burst: 50,
            chat_per_second: 3,
            chat_burst: 10,
            violations_before_disconnect: 3,
            heartbeat_interval: Duration::from_secs(5),
            heartbeat_timeout: Duration::from_secs(15),
            join_timeout: Duration::from_secs(10),
            media_connect_timeout: crate::sfu::DEFAULT_CONNECT_TIMEOUT,
            drain_timeout: Duration::from_secs(5),
            token_leeway: Duration::from_secs(30),
            history_on_join: 50,
            max_history_page: 100,
            word_filter: Vec::new(),
            log: "info".to_string(),
            media_port: DEFAULT_MEDIA_PORT,
            media_advertise: None,
            redis_url: None,
            node_id: None,
            public_url: None,
            redis_chat_max_len: crate::store::REDIS_DEFAULT_MAX_LEN,
            materials_dir: None,
            max_upload_bytes: studyhall_protocol::materials::DEFAULT_MAX_FILE_BYTES,
            room_materials_quota_bytes: studyhall_protocol::materials::DEFAULT_ROOM_QUOTA_BYTES,
            uploads_at_once: studyhall_protocol::materials::DEFAULT_UPLOADS_AT_ONCE,
            max_groups: 10_000,
            upload_budget_kbps: 0,
            downlink_estimates: true,
            internal_url: None,
        }
    }
}

/// `$XDG_DATA_HOME/studyhall-relay`, or `~/.local/share/studyhall-relay`.
pub fn default_data_dir() -> Option<PathBuf> {
    dirs::data_dir().map(|d| d.join("studyhall-relay"))
}

/// One layer of configuration; `None` leaves the value below it in place.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigLayer {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub secret: Option<String>,
    pub max_room_size: Option<usize>,
    pub max_connections: Option<usize>,
    pub max_pending_per_address: Option<usize>,
    pub max_message_bytes: Option<usize>,
    pub max_chat_bytes: Option<usize>,
    pub messages_per_second: Option<u32>,
    pub message_burst: Option<u32>,
    pub chat_per_second: Option<u32>,
    pub chat_burst: Option<u32>,
    pub violations_before_disconnect: Option<u32>,
    #[serde(default, with = "humantime_serde::option")]
    pub heartbeat_interval: Option<Duration>,
    #[serde(default, with = "humantime_serde::option")]
    pub heartbeat_timeout: Option<Duration>,
    #[serde(default, with = "humantime_serde::option")]
    pub join_timeout: Option<Duration>,
    #[serde(default, with = "humantime_serde::option")]
    pub media_connect_timeout: Option<Duration>,
    #[serde(default, with = "humantime_serde::option")]
    pub drain_timeout: Option<Duration>,
    #[serde(default, with = "humantime_serde::option")]
    pub token_leeway: Option<Duration>,
    pub history_on_join: Option<u32>,
    pub max_history_page: Option<u32>,
    pub word_filter: Option<Vec<String>>,
    pub log: Option<String>,
    pub media_port: Option<u16>,
    pub media_advertise: Option<MediaAdvertise>,
    pub redis_url: Option<String>,
    pub node_id: Option<String>,
    pub public_url: Option<String>,
    pub redis_chat_max_len: Option<u64>,
    pub materials_dir: Option<PathBuf>,
    pub max_upload_bytes: Option<u64>,
    pub room_materials_quota_bytes: Option<u64>,
    pub uploads_at_once: Option<u32>,
    pub max_groups: Option<u64>,
    pub upload_budget_kbps: Option<u64>,
    pub downlink_estimates: Option<bool>,
    pub internal_url: Option<String>,
}

/// Keys whose environment value is a comma-separated list.
const LIST_KEYS: &[&str] = &["word_filter"];

impl ConfigLayer {
    /// Parse a TOML document; unknown keys are an error naming the key.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.message().to_string())
    }

    /// Read a TOML file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::ReadFile {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml(&text).map_err(|message| ConfigError::File {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Collect `STUDYHALL_<KEY>` variables (except `STUDYHALL_CONFIG`). A variable whose
    /// key is not a config key is an error.
    pub fn from_env<I>(vars: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (String, String)>,
    {
        let mut layer = ConfigLayer::default();
        for (var, value) in vars {
            let Some(key) = var.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            if var == ENV_CONFIG_FILE {
                continue;
            }
            let key = key.to_ascii_lowercase();
            let one = Self::parse_env_value(&key, &value).map_err(|message| ConfigError::Env {
                var: var.clone(),
                message,
            })?;
            layer = layer.overlay(one);
        }
        Ok(layer)
    }

    fn parse_env_value(key: &str, value: &str) -> Result<Self, String> {
        if !key.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            return Err(format!("`{key}` is not a config key"));
        }
        let quoted = toml::Value::String(value.to_string()).to_string();
        if LIST_KEYS.contains(&key) {
            let items: Vec<toml::Value> = value
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| toml::Value::String(s.to_string()))
                .collect();
            let doc = format!("{key} = {}", toml::Value::Array(items));
            return Self::from_toml(&doc);
        }
        // A number or boolean parses bare; anything else (addresses, paths, durations)
        // as a string. The bare attempt's error is kept only if quoting fails too.
        match Self::from_toml(&format!("{key} = {value}")) {
            Ok(layer) => Ok(layer),
            Err(bare) => Self::from_toml(&format!("{key} = {quoted}")).map_err(|quoted_err| {
                if quoted_err.contains("unknown field") {
                    quoted_err
                } else {
                    bare
                }
            }),
        }
    }

    /// `other` wins where it has a value.
    pub fn overlay(self, other: ConfigLayer) -> ConfigLayer {
        macro_rules! pick {
            ($($f:ident),* $(,)?) => { ConfigLayer { $($f: other.$f.or(self.$f)),* } };
        }
        pick!(
            listen,
            data_dir,
            secret,
            max_room_size,
            max_connections,
            max_pending_per_address,
            max_message_bytes,
            max_chat_bytes,
            messages_per_second,
            message_burst,
            chat_per_second,
            chat_burst,
            violations_before_disconnect,
            heartbeat_interval,
            heartbeat_timeout,
            join_timeout,
            media_connect_timeout,
            drain_timeout,
            token_leeway,
            history_on_join,
            max_history_page,
            word_filter,
            log,
            media_port,
            media_advertise,
            redis_url,
            node_id,
            public_url,
            redis_chat_max_len,
            materials_dir,
            max_upload_bytes,
            room_materials_quota_bytes,
            uploads_at_once,
            max_groups,
            upload_budget_kbps,
            downlink_estimates,
            internal_url,
        )
    }
}

impl Config {
    /// Apply a layer on top of this config.
    pub fn apply(mut self, layer: ConfigLayer) -> Config {
        macro_rules! set {
            ($($f:ident),* $(,)?) => { $(if let Some(v) = layer.$f { self.$f = v; })* };
        }
        set!(
            listen,
            data_dir,
            max_room_size,
            max_connections,
            max_pending_per_address,
            max_message_bytes,
            max_chat_bytes,
            messages_per_second,
            message_burst,
            chat_per_second,
            chat_burst,
            violations_before_disconnect,
            heartbeat_interval,
            heartbeat_timeout,
            join_timeout,
            media_connect_timeout,
            drain_timeout,
            token_leeway,
            history_on_join,
            max_history_page,
            word_filter,
            log,
            media_port,
            redis_chat_max_len,
            max_upload_bytes,
            room_materials_quota_bytes,
            uploads_at_once,
            max_groups,
            upload_budget_kbps,
            downlink_estimates,
        );
        for (slot, value) in [
            (&mut self.redis_url, layer.redis_url),
            (&mut self.node_id, layer.node_id),
            (&mut self.public_url, layer.public_url),
            (&mut self.internal_url, layer.internal_url),
        ] {
            if value.is_some() {
                *slot = value;
            }
        }
        if layer.media_advertise.is_some() {
            self.media_advertise = layer.media_advertise;
        }
        if layer.secret.is_some() {
            self.secret = layer.secret;
        }
        if layer.materials_dir.is_some() {
            self.materials_dir = layer.materials_dir;
        }
        self
    }

    /// Build the effective config: defaults, then the file (`--config` or
    /// `STUDYHALL_CONFIG`), then the environment, then flags.
    pub fn load<I>(
        config_file: Option<&Path>,
        env: I,
        flags: ConfigLayer,
    ) -> Result<Config, ConfigError>
    where
        I: IntoIterator<Item = (String, String)>,
    {
        let env: Vec<(String, String)> = env.into_iter().collect();
        let file_from_env = env
            .iter()
            .find(|(k, _)| k == ENV_CONFIG_FILE)
            .map(|(_, v)| PathBuf::from(v));
        let file = config_file.map(Path::to_path_buf).or(file_from_env);
        let mut layer = ConfigLayer::default();
        if let Some(path) = file {
            layer = layer.overlay(ConfigLayer::from_file(&path)?);
        }
        layer = layer.overlay(ConfigLayer::from_env(env)?);
        layer = layer.overlay(flags);
        let config = Config::default().apply(layer);
        config.validate()?;
        Ok(config)
    }

    /// Reject settings that cannot work.
    pub fn validate(&self) -> Result<(), ConfigError> {
        fn positive(key: &'static str, v: u64) -> Result<(), ConfigError> {
            if v == 0 {
                Err(ConfigError::Invalid {
                    key,
                    message: "must be greater than 0".into(),
                })
            } else {
                Ok(())
            }
        }
        positive("max_room_size", self.max_room_size as u64)?;
        positive("max_connections", self.max_connections as u64)?;
        positive(
            "max_pending_per_address",
            self.max_pending_per_address as u64,
        )?;
        positive("max_chat_bytes", self.max_chat_bytes as u64)?;
        positive("messages_per_second", self.messages_per_second.into())?;
        positive("message_burst", self.message_burst.into())?;
        positive("chat_per_second", self.chat_per_second.into())?;
        positive("chat_burst", self.chat_burst.into())?;
        positive(
            "violations_before_disconnect",
            self.violations_before_disconnect.into(),
        )?;
        positive("max_history_page", self.max_history_page.into())?;
        positive(
            "media_connect_timeout",
            self.media_connect_timeout.as_millis() as u64,
        )?;
        if self.max_message_bytes < 1024 {
            return Err(ConfigError::Invalid {
                key: "max_message_bytes",
                message: "must be at least 1024".into(),
            });
        }
        if self.heartbeat_interval.is_zero() || self.heartbeat_timeout <= self.heartbeat_interval {
            return Err(ConfigError::Invalid {
                key: "heartbeat_timeout",
                message: format!(
                    "must be longer than heartbeat_interval ({})",
                    humantime::format_duration(self.heartbeat_interval)
                ),
            });
        }
        if self.history_on_join > self.max_history_page {
            return Err(ConfigError::Invalid {
                key: "history_on_join",
                message: "must not exceed max_history_page".into(),
            });
        }
        if self.listen.ip().is_unspecified() && self.media_advertise.is_none() {
            return Err(ConfigError::Invalid {
                key: "media_advertise",
                message: format!(
                    "`listen` is {} (every interface): set media_advertise to the IP clients reach this relay at",
                    self.listen.ip()
                ),
            });
        }
        if let Some(secret) = &self.secret {
            if secret.len() < 32 {
                return Err(ConfigError::Invalid {
                    key: "secret",
                    message: "must be at least 32 characters".into(),
                });
            }
        }
        positive("redis_chat_max_len", self.redis_chat_max_len)?;
        positive("max_upload_bytes", self.max_upload_bytes)?;
        positive("uploads_at_once", self.uploads_at_once.into())?;
        if self.room_materials_quota_bytes < self.max_upload_bytes {
            return Err(ConfigError::Invalid {
                key: "room_materials_quota_bytes",
                message: format!(
                    "must be at least max_upload_bytes ({})",
                    self.max_upload_bytes
                ),
            });
        }
        if let Some(url) = &self.internal_url {
            if !url.starts_with("http://") {
                return Err(ConfigError::Invalid {
                    key: "internal_url",
                    message: format!(
                        "`{url}` must start with http:// (nodes fetch files from each other over plain HTTP on the cluster's network)"
                    ),
                });
            }
        }
        if self.redis_url.is_some()
            && self.internal_url.is_none()
            && self.listen.ip().is_unspecified()
        {
            return Err(ConfigError::Invalid {
                key: "internal_url",
                message: format!(
                    "`listen` is {} (every interface): set internal_url to the http://IP:PORT other nodes reach this one at",
                    self.listen
                ),
            });
        }
        if let Some(url) = &self.redis_url {
            check_redis_url(url).map_err(|message| ConfigError::Invalid {
                key: "redis_url",
                message,
            })?;
            if self.secret.is_none() {
                return Err(ConfigError::Invalid {
                    key: "secret",
                    message: "cluster nodes must share one token secret: set `secret` (STUDYHALL_SECRET) to the same value on every node".into(),
                });
            }
        }
        if let Some(id) = &self.node_id {
            if id.is_empty()
                || id.len() > 64
                || !id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            {
                return Err(ConfigError::Invalid {
                    key: "node_id",
                    message: "use 1 to 64 of a-z, A-Z, 0-9, '-', '_', '.'".into(),
                });
            }
        }
        Ok(())
    }

    /// Whether this relay is a cluster node (a Redis URL is set).
    pub fn clustered(&self) -> bool {
        self.redis_url.is_some()
    }

    /// Where shared files are kept.
    pub fn materials_dir(&self) -> PathBuf {
        self.materials_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("materials"))
    }

    /// The HTTP address other nodes fetch this node's files from.
    pub fn internal_url(&self) -> String {
        match &self.internal_url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => {
                let ip = match self.listen.ip() {
                    ip if ip.is_unspecified() => std::net::IpAddr::from([127, 0, 0, 1]),
                    ip => ip,
                };
                format!("http://{}", SocketAddr::new(ip, self.listen.port()))
            }
        }
    }
}

/// A Redis URL must parse, use `redis://` or `rediss://`, and carry credentials unless
/// it points at this machine: an open Redis on the network would let anyone rewrite
/// rooms and chat.
pub fn check_redis_url(url: &str) -> Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("not a URL ({e})"))?;
    match parsed.scheme() {
        "redis" | "rediss" => {}
        other => {
            return Err(format!(
                "scheme `{other}` is not supported; use redis:// or rediss:// (TLS)"
            ))
        }
    }
    let host = parsed.host().ok_or("the URL has no host")?;
    let loopback = match host {
        // redis:// is not a "special" scheme to the URL parser, so IPs come as text.
        url::Host::Domain(d) => {
            d.eq_ignore_ascii_case("localhost")
                || d.trim_matches(|c| c == '[' || c == ']')
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    };
    if !loopback && parsed.password().is_none() {
        return Err(format!(
            "refusing Redis at {host} without credentials: a Redis reachable over the network must require a password (redis://user:password@{host}/ or redis://:password@{host}/)"
        ));
    }
    Ok(())
}

/// A Redis URL with its password replaced by `***`, for logs and `/metrics`.
pub fn redact_redis_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => "<invalid url>".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_urls_need_credentials_off_this_machine() {
        for ok in [
            "redis://127.0.0.1:6379/",
            "redis://localhost/",
            "redis://[::1]:6379/",
            "redis://:pw@10.0.0.5:6379/",
            "rediss://user:pw@redis.example.org:6380/0",
        ] {
            assert!(
                check_redis_url(ok).is_ok(),
                "{ok}: {:?}",
                check_redis_url(ok)
            );
        }
        let open = check_redis_url("redis://10.0.0.5:6379/").unwrap_err();
        assert!(open.contains("without credentials"), "{open}");
        assert!(
            check_redis_url("redis://user@10.0.0.5/").is_err(),
            "a user alone is not a credential"
        );
        assert!(check_redis_url("http://127.0.0.1/")
            .unwrap_err()
            .contains("scheme"));
        assert!(check_redis_url("not a url").is_err());
        assert_eq!(
            redact_redis_url("redis://u:secret@10.0.0.5:6379/"),
            "redis://u:***@10.0.0.5:6379/"
        );
    }

    #[test]
    fn cluster_nodes_need_a_shared_secret() {
        let config = Config {
            redis_url: Some("redis://127.0.0.1/".into()),
            ..Config::default()
        };
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("same value on every node"), "{err}");
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn layers_apply_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("relay.toml");
        std::fs::write(
            &file,
            "max_room_size = 10\nchat_burst = 4\nheartbeat_interval = \"2s\"\nheartbeat_timeout = \"7s\"\n",
        )
        .unwrap();
        let flags = ConfigLayer {
            chat_burst: Some(6),
            ..Default::default()
        };
        let cfg = Config::load(
            Some(&file),
            env(&[
                ("STUDYHALL_MAX_ROOM_SIZE", "12"),
                ("STUDYHALL_WORD_FILTER", "darn, heck"),
                ("STUDYHALL_LISTEN", "127.0.0.1:9000"),
                ("PATH", "/usr/bin"),
            ]),
            flags,
        )
        .unwrap();
        assert_eq!(cfg.max_room_size, 12, "env beats file");
        assert_eq!(cfg.chat_burst, 6, "flag beats file");
        assert_eq!(cfg.heartbeat_interval, Duration::from_secs(2));
        assert_eq!(cfg.word_filter, vec!["darn", "heck"]);
        assert_eq!(cfg.listen.port(), 9000);
        assert_eq!(cfg.chat_per_second, 3, "default kept");
    }

    #[test]
    fn unknown_file_key_is_named() {
        let err = ConfigLayer::from_toml("max_room_sise = 3").unwrap_err();
        assert!(err.contains("max_room_sise"), "{err}");
    }

    #[test]
    fn unknown_env_key_is_named() {
        let err = ConfigLayer::from_env(env(&[("STUDYHALL_ROOM_SIZE", "3")])).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("STUDYHALL_ROOM_SIZE"), "{text}");
        assert!(text.contains("room_size"), "{text}");
    }

    #[test]
    fn bad_env_value_is_explained() {
        let err = ConfigLayer::from_env(env(&[("STUDYHALL_MAX_ROOM_SIZE", "lots")])).unwrap_err();
        assert!(err.to_string().contains("STUDYHALL_MAX_ROOM_SIZE"), "{err}");
    }

    #[test]
    fn impossible_settings_are_refused() {
        let cfg = Config {
            heartbeat_timeout: Duration::from_secs(1),
            ..Config::default()
        };
        assert!(matches!(
            cfg.validate(),
            Err(ConfigError::Invalid {
                key: "heartbeat_timeout",
                ..
            })
        ));
        let cfg = Config {
            secret: Some("short".into()),
            ..Config::default()
        };
        assert!(cfg.validate().is_err());
    }
}
