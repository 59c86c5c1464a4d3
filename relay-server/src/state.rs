//! The relay's shared state: config, keys, rooms, chat log, metrics, shutdown flag.
//! Cheap to clone (one `Arc`).

use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::{Arc, Weak};

use studyhall_protocol::{ErrorCode, ServerMessage};
use tokio::sync::{mpsc, watch, Semaphore};

use crate::auth::{self, TokenKeys};
use crate::cluster::Cluster;
use crate::config::Config;
use crate::invites::Invites;
use crate::metrics::Metrics;
use crate::pending::PendingJoins;
use crate::room::filter::WordFilter;
use crate::room::{Outbound, Rooms};
use crate::sfu::runner::SfuHandle;
use crate::sfu::Notice;
use crate::store::{ChatLog, RedisChatLog, SqliteChatLog, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("cannot use data directory {path}: {source}")]
    DataDir {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("server failed: {0}")]
    Serve(std::io::Error),
    #[error("cluster mode: {0}")]
    Cluster(#[from] crate::cluster::ClusterError),
    #[error("cannot open the media port {addr} (UDP): {source}")]
    Media {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

#[derive(Clone)]
pub struct Relay {
    inner: Arc<RelayInner>,
}

pub struct RelayInner {
    pub config: Config,
    pub keys: TokenKeys,
    pub rooms: Rooms,
    pub invites: Invites,
    pub chat: Arc<dyn ChatLog>,
    pub filter: WordFilter,
    pub metrics: Metrics,
    pub connections: Arc<Semaphore>,
    /// Sockets that have not joined yet, per client address.
    pub pending: Arc<PendingJoins>,
    pub sfu: SfuHandle,
    /// Cluster mode (a Redis URL is configured); `None` in embedded mode.
    pub cluster: Option<Arc<Cluster>>,
    shutdown: watch::Sender<bool>,
}

impl Deref for Relay {
    type Target = RelayInner;
    fn deref(&self) -> &RelayInner {
        &self.inner
    }
}

/// The signing secret: configured, or generated once in the data directory.
pub fn resolve_secret(config: &Config) -> Result<String, RelayError> {
    match &config.secret {
        Some(s) => Ok(s.clone()),
        None => {
            auth::load_or_create_secret(&config.data_dir).map_err(|source| RelayError::DataDir {
                path: config.data_dir.clone(),
                source,
            })
        }
    }
}

impl Relay {
    /// The embedded default: chat in SQLite under the data directory. Must be called
    /// inside a tokio runtime (it starts the media task).
    pub fn open(config: Config) -> Result<Relay, RelayError> {
        let secret = resolve_secret(&config)?;
        let chat = SqliteChatLog::open_in(&config.data_dir)?;
        Relay::with_parts(config, &secret, Arc::new(chat))
    }

    pub fn with_parts(
        config: Config,
        secret: &str,
        chat: Arc<dyn ChatLog>,
    ) -> Result<Relay, RelayError> {
        Relay::assemble(config, secret, chat, None)
    }

    /// Embedded mode, or a cluster node when `redis_url` is set: chat, invites and room
    /// state in Redis, rooms placed across the nodes. Must be called inside a tokio
    /// runtime. A Redis that does not answer is an error at once.
    pub async fn connect(config: Config) -> Result<Relay, RelayError> {
        if !config.clustered() {
            return Relay::open(config);
        }
        let secret = resolve_secret(&config)?;
        let url = config.redis_url.clone().unwrap_or_default();
        // rediss:// uses rustls; pick its crypto provider once for the process (an error
        // means one is already installed, which is as good).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let cluster = Cluster::connect(&config, config.listen).await?;
        let chat = RedisChatLog::connect(&url, config.redis_chat_max_len)
            .await
            .map_err(|e| {
                crate::cluster::ClusterError::Redis(format!("{}: {e}", cluster.redis_url()))
            })?;
        let cluster = Arc::new(cluster);
        tracing::info!(node = %cluster.node_id, redis = %cluster.redis_url(), "cluster mode");
        Relay::assemble(config, &secret, Arc::new(chat), Some(cluster))
    }

    fn assemble(
        config: Config,
        secret: &str,
        chat: Arc<dyn ChatLog>,
        cluster: Option<Arc<Cluster>>,
    ) -> Result<Relay, RelayError> {
        let (sfu, notices) = start_media(&config)?;
        let (shutdown, _) = watch::channel(false);
        let (changes_tx, changes) = mpsc::unbounded_channel();
        let rooms = if cluster.is_some() {
            Rooms::observed(config.max_room_size, changes_tx)
        } else {
            Rooms::new(config.max_room_size)
        };
        let relay = Relay {
            inner: Arc::new(RelayInner {
                keys: TokenKeys::new(secret.as_bytes(), config.token_leeway),
                rooms,
                invites: Invites::default(),
                filter: WordFilter::new(&config.word_filter),
                metrics: Metrics::default(),
                connections: Arc::new(Semaphore::new(config.max_connections)),
                pending: PendingJoins::new(config.max_pending_per_address),
                chat,
                sfu,
                cluster: cluster.clone(),
                shutdown,
                config,
            }),
        };
        tokio::spawn(route_notices(Arc::downgrade(&relay.inner), notices));
        if let Some(cluster) = cluster {
            let (opens_tx, mut opens) = mpsc::unbounded_channel();
            cluster.start(Arc::downgrade(&relay.inner), changes, opens_tx);
            let weak = Arc::downgrade(&relay.inner);
            tokio::spawn(async move {
                while let Some(open) = opens.recv().await {
                    let Some(inner) = weak.upgrade() else { break };
                    crate::signal::remote::spawn(Relay { inner }, open);
                }
            });
        }
        Ok(relay)
    }

    /// Tell every connection to drain and close.
    pub fn begin_shutdown(&self) {
        self.shutdown.send_replace(true);
        if let Some(cluster) = self.cluster.clone() {
            tokio::spawn(async move { cluster.deregister().await });
        }
    }

    pub fn shutting_down(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }
}

impl RelayInner {
    pub fn is_shutting_down(&self) -> bool {
        *self.shutdown.borrow()
    }

    pub fn shutting_down_rx(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }
}

/// Bind the media UDP socket on the listen IP and start the SFU task.
fn start_media(
    config: &Config,
) -> Result<(SfuHandle, mpsc::UnboundedReceiver<Notice>), RelayError> {
    let bind = SocketAddr::new(config.listen.ip(), config.media_port);
    let err = |source| RelayError::Media { addr: bind, source };
    let socket = std::net::UdpSocket::bind(bind).map_err(err)?;
    socket.set_nonblocking(true).map_err(err)?;
    let socket = tokio::net::UdpSocket::from_std(socket).map_err(err)?;
    let port = socket.local_addr().map_err(err)?.port();
    let advertised = config.media_advertise.map(|a| a.address(port));
    crate::sfu::runner::spawn(socket, advertised, config.media_connect_timeout).map_err(err)
}

/// Deliver the SFU's notices to participants. Ends when the relay is dropped.
async fn route_notices(relay: Weak<RelayInner>, mut notices: mpsc::UnboundedReceiver<Notice>) {
    while let Some(notice) = notices.recv().await {
        let Some(relay) = relay.upgrade() else { break };
        let (group, identity, msg) = match notice {
            Notice::SubscribeOffer {
                group,
                identity,
                sdp,
                tracks,
            } => (
                group,
                identity,
                ServerMessage::SubscribeOffer { sdp, tracks },
            ),
            Notice::MediaFailed {
                group,
                identity,
                message,
            } => {
                relay.metrics.error_sent(ErrorCode::MediaFailed);
                (
                    group,
                    identity,
                    ServerMessage::error(ErrorCode::MediaFailed, message, None),
                )
            }
        };
        if let Some(room) = relay.rooms.get(&group) {
            room.send_to(&identity, Outbound::message(&msg));
        }
    }
}
