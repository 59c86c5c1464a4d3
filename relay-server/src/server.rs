//! Assembling the relay from its parts, and running it: bind, serve, drain on shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::serve::ListenerExt;

use crate::listener::GuardedListener;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tracing::{info, warn};

use std::sync::{Arc, Weak};

use studyhall_protocol::{ErrorCode, ServerMessage};
use tokio::sync::{mpsc, watch, Semaphore};

use crate::auth::TokenKeys;
use crate::clock::Clock;
use crate::cluster::{Cluster, NodeHandles};
use crate::config::Config;
use crate::groups::{Groups, PresenceHub};
use crate::http;
use crate::invites::Invites;
use crate::metrics::Metrics;
use crate::pending::PendingJoins;
use crate::room::features::materials::{MaterialLimits, MaterialServices};
use crate::room::features::{ChatLimits, Services};
use crate::room::filter::WordFilter;
use crate::room::{Outbound, Rooms};
use crate::sfu::runner::SfuHandle;
use crate::sfu::Notice;
use crate::state::{resolve_secret, Relay, RelayError, RelayInner};
use crate::store::files::FileStore;
use crate::store::{
    BoardStore, ChatLog, GroupStore, MaterialStore, QuestionStore, RedisBoards, RedisChatLog,
    RedisGroups, RedisInvites, RedisMaterials, RedisQuestions, RedisRoomState, RoomStateStore,
    SqliteBoards, SqliteChatLog, SqliteGroups, SqliteMaterials, SqliteQuestions, SqliteRoomState,
};

/// Serve `relay` on `listener` until `shutdown` resolves, then drain: every client is
/// told (`shutdown` message, close 1001) and the call returns once all sockets closed or
/// `drain_timeout` passed.
pub async fn run(
    listener: TcpListener,
    relay: Relay,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), RelayError> {
    let app = http::router(relay.clone());
    let draining = relay.clone();
    // Nagle off on every connection: a small message (a chat line, an ICE answer) written
    // while an earlier one is unacknowledged would otherwise wait for the client's
    // delayed ACK, about 40 ms.
    // Each connection gets TCP_NODELAY, a header and an idle timeout, and a 503 when
    // the process is out of descriptors (see `listener`).
    let idle = (relay.config.heartbeat_timeout * 2).max(Duration::from_secs(30));
    // (`tap_io` is what gives axum the peer address of a listener of our own.)
    let listener = GuardedListener::new(listener, relay.config.join_timeout, idle).tap_io(|_| {});
    let serve = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        info!("shutdown requested: draining connections");
        draining.begin_shutdown();
    });
    // Upgraded sockets are not tracked by axum's graceful shutdown; wait for them here.
    let drain = relay.config.drain_timeout;
    // HTTP requests in flight (a long download) are waited for only `drain_timeout`
    // once the shutdown began; then they are cut off (a download resumes elsewhere).
    let mut stopping = relay.shutting_down();
    let cutoff = async move {
        while !*stopping.borrow_and_update() {
            if stopping.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
        tokio::time::sleep(drain).await;
    };
    let result = tokio::select! {
        r = serve => r.map_err(RelayError::Serve),
        () = cutoff => {
            warn!("HTTP requests still running at the drain timeout are cut off");
            Ok(())
        }
    };
    wait_for_connections(&relay, drain).await;
    if let Some(cluster) = &relay.cluster {
        // Leave the registry for certain before exiting (the heartbeat may have written
        // the entry again after begin_shutdown removed it).
        let _ = tokio::time::timeout(Duration::from_secs(2), cluster.deregister()).await;
    }
    result
}

async fn wait_for_connections(relay: &Relay, limit: Duration) {
    // Local sockets, and in cluster mode the sessions of sockets on other nodes (they
    // are told to rejoin elsewhere before this node goes).
    let open = || {
        let remote = relay.cluster.as_ref().map_or(0, |c| {
            c.homes.lock().unwrap_or_else(|p| p.into_inner()).len() as u64
        });
        relay
            .metrics
            .connections_open
            .load(std::sync::atomic::Ordering::Relaxed)
            + remote
    };
    let deadline = tokio::time::Instant::now() + limit;
    while open() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    match open() {
        0 => info!("all connections closed"),
        n => warn!(open = n, "drain timeout passed with connections still open"),
    }
}

/// A relay running in this process (tests, the desktop app's embedded host).
pub struct RunningRelay {
    pub addr: SocketAddr,
    pub relay: Relay,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), RelayError>>,
}

impl RunningRelay {
    /// Bind `config.listen` (port 0 picks a free one) and serve in a background task.
    pub async fn start(config: Config) -> Result<RunningRelay, RelayError> {
        let relay = Relay::connect(config).await?;
        Self::start_with(relay).await
    }

    pub async fn start_with(relay: Relay) -> Result<RunningRelay, RelayError> {
        let listen = relay.config.listen;
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|source| RelayError::Listen {
                addr: listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(RelayError::Serve)?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(run(listener, relay.clone(), async move {
            let _ = stopped.await;
        }));
        Ok(RunningRelay {
            addr,
            relay,
            stop: Some(stop),
            task,
        })
    }

    /// `ws://ADDR/ws`.
    pub fn ws_url(&self) -> String {
        format!("ws://{}{}", self.addr, studyhall_protocol::WS_PATH)
    }

    pub fn http_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Drain and stop; returns when the server task has finished.
    pub async fn stop(mut self) -> Result<(), RelayError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match (&mut self.task).await {
            Ok(r) => r,
            Err(e) => Err(RelayError::Serve(std::io::Error::other(e.to_string()))),
        }
    }
}

impl Drop for RunningRelay {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The stores of an embedded relay or a cluster node.
pub struct Stores {
    pub chat: Arc<dyn ChatLog>,
    pub room_state: Arc<dyn RoomStateStore>,
    pub board: Arc<dyn BoardStore>,
    pub questions: Arc<dyn QuestionStore>,
    pub materials: Arc<dyn MaterialStore>,
    /// Study groups.
    pub groups: Arc<dyn GroupStore>,
    /// The bytes of shared files.
    pub files: FileStore,
}

/// The directory of shared files, opened (created) for the relay.
fn open_files(dir: &std::path::Path) -> Result<FileStore, RelayError> {
    FileStore::open(dir).map_err(|source| RelayError::DataDir {
        path: dir.to_path_buf(),
        source,
    })
}

impl Stores {
    /// The embedded stores: SQLite files in `data_dir`, shared files in its `materials`.
    pub fn open_in(data_dir: &std::path::Path) -> Result<Stores, RelayError> {
        Stores::open(data_dir, &data_dir.join("materials"))
    }

    /// The embedded stores: SQLite files in `data_dir`, shared files in `materials_dir`.
    pub fn open(
        data_dir: &std::path::Path,
        materials_dir: &std::path::Path,
    ) -> Result<Stores, RelayError> {
        Ok(Stores {
            files: open_files(materials_dir)?,
            chat: Arc::new(SqliteChatLog::open_in(data_dir)?),
            room_state: Arc::new(SqliteRoomState::open_in(data_dir)?),
            board: Arc::new(SqliteBoards::open_in(data_dir)?),
            questions: Arc::new(SqliteQuestions::open_in(data_dir)?),
            materials: Arc::new(SqliteMaterials::open_in(data_dir)?),
            groups: Arc::new(SqliteGroups::open_in(data_dir)?),
        })
    }
}

impl Relay {
    /// The embedded default: chat in SQLite under the data directory. Must be called
    /// inside a tokio runtime (it starts the media task).
    pub fn open(config: Config) -> Result<Relay, RelayError> {
        let secret = resolve_secret(&config)?;
        let stores = Stores::open(&config.data_dir, &config.materials_dir())?;
        Relay::with_parts(config, &secret, stores)
    }

    pub fn with_parts(config: Config, secret: &str, stores: Stores) -> Result<Relay, RelayError> {
        Relay::assemble(config, secret, stores, Invites::default(), None)
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
        let redis_down =
            |e| crate::cluster::ClusterError::Redis(format!("{}: {e}", cluster.redis_url()));
        let chat = RedisChatLog::connect(&url, config.redis_chat_max_len)
            .await
            .map_err(redis_down)?;
        let invites = RedisInvites::connect(&url).await.map_err(redis_down)?;
        let room_state = RedisRoomState::connect(&url).await.map_err(redis_down)?;
        let board = RedisBoards::connect(&url).await.map_err(redis_down)?;
        let questions = RedisQuestions::connect(&url).await.map_err(redis_down)?;
        let files = open_files(&config.materials_dir())?;
        let materials = RedisMaterials::connect(&url).await.map_err(redis_down)?;
        let groups: Arc<dyn GroupStore> =
            Arc::new(RedisGroups::connect(&url).await.map_err(redis_down)?);
        let presence = PresenceHub::clustered(groups.clone(), &cluster.node_id, &url)
            .await
            .map_err(|e| redis_down(crate::store::StoreError::Unavailable(e.to_string())))?;
        let cluster = Arc::new(cluster);
        tracing::info!(node = %cluster.node_id, redis = %cluster.redis_url(), "cluster mode");
        Relay::assemble(
            config,
            &secret,
            Stores {
                chat: Arc::new(chat),
                room_state: Arc::new(room_state),
                board: Arc::new(board),
                questions: Arc::new(questions),
                materials: Arc::new(materials),
                groups,
                files,
            },
            Invites::new(Arc::new(invites)),
            Some((cluster, presence)),
        )
    }

    fn assemble(
        config: Config,
        secret: &str,
        stores: Stores,
        invites: Invites,
        cluster: Option<(Arc<Cluster>, Arc<PresenceHub>)>,
    ) -> Result<Relay, RelayError> {
        let (sfu, notices) = start_media(&config)?;
        Ok(Relay::build(
            config, secret, stores, invites, cluster, sfu, notices,
        ))
    }

    /// An embedded relay whose SFU is `sfu` (the session's tests give a recording one).
    #[cfg(test)]
    pub(crate) fn with_sfu(config: Config, secret: &str, stores: Stores, sfu: SfuHandle) -> Relay {
        let (_, notices) = mpsc::unbounded_channel();
        Relay::build(
            config,
            secret,
            stores,
            Invites::default(),
            None,
            sfu,
            notices,
        )
    }

    fn build(
        config: Config,
        secret: &str,
        stores: Stores,
        invites: Invites,
        cluster: Option<(Arc<Cluster>, Arc<PresenceHub>)>,
        sfu: SfuHandle,
        notices: mpsc::UnboundedReceiver<Notice>,
    ) -> Relay {
        let (cluster, presence) = match cluster {
            Some((cluster, presence)) => (Some(cluster), presence),
            None => (None, PresenceHub::embedded(stores.groups.clone())),
        };
        let (shutdown, shutdown_rx) = watch::channel(false);
        let (changes_tx, mut changes_rx) = mpsc::unbounded_channel::<String>();
        let rooms = Arc::new(Rooms::observed(config.max_room_size, changes_tx));
        // Every room change goes to presence, and in a cluster to the mirror too.
        let (mirror_tx, changes) = mpsc::unbounded_channel();
        {
            let (weak_rooms, weak_presence) = (Arc::downgrade(&rooms), Arc::downgrade(&presence));
            let mirrored = cluster.is_some();
            tokio::spawn(async move {
                while let Some(name) = changes_rx.recv().await {
                    let (Some(rooms), Some(presence)) =
                        (weak_rooms.upgrade(), weak_presence.upgrade())
                    else {
                        break;
                    };
                    presence.room_changed(&rooms, &name);
                    if mirrored {
                        let _ = mirror_tx.send(name);
                    }
                }
            });
        }
        presence.start();
        let groups = Arc::new(Groups::new(
            stores.groups.clone(),
            TokenKeys::new(secret.as_bytes(), config.token_leeway),
            Invites::default(),
            config.max_groups,
            presence,
        ));
        let metrics = Arc::new(Metrics::default());
        let features = Arc::new(Services {
            chat: stores.chat,
            room_state: stores.room_state,
            board: stores.board,
            questions: stores.questions,
            materials: MaterialServices {
                store: stores.materials,
                files: stores.files,
                limits: MaterialLimits {
                    max_file_bytes: config.max_upload_bytes,
                    quota_bytes: config.room_materials_quota_bytes,
                    uploads_at_once: config.uploads_at_once,
                },
                uploads: Default::default(),
                node: cluster
                    .as_ref()
                    .map(|c| c.node_id.clone())
                    .unwrap_or_default(),
            },
            media: sfu.clone(),
            clock: Clock::new(),
            identities: Default::default(),
            filter: WordFilter::new(&config.word_filter),
            metrics: metrics.clone(),
            limits: ChatLimits {
                max_chat_bytes: config.max_chat_bytes,
                history_on_join: config.history_on_join,
                max_history_page: config.max_history_page,
                chat_per_second: config.chat_per_second,
                chat_burst: config.chat_burst,
            },
        });
        let node = cluster
            .as_ref()
            .map(|_| Arc::new(NodeHandles::new(rooms.clone(), sfu.clone(), shutdown_rx)));
        let relay = Relay {
            inner: Arc::new(RelayInner {
                keys: TokenKeys::new(secret.as_bytes(), config.token_leeway),
                rooms,
                invites,
                groups,
                features,
                metrics,
                connections: Arc::new(Semaphore::new(config.max_connections)),
                pending: PendingJoins::new(config.max_pending_per_address),
                sfu,
                cluster: cluster.clone(),
                _node: node.clone(),
                shutdown,
                config,
            }),
        };
        tokio::spawn(route_notices(Arc::downgrade(&relay.inner), notices));
        crate::room::features::materials::spawn_sweeper(Arc::downgrade(&relay.features));
        crate::memory::spawn_trimmer(Arc::downgrade(&relay.rooms));
        if let (Some(cluster), Some(node)) = (cluster, node) {
            let (opens_tx, mut opens) = mpsc::unbounded_channel();
            cluster.start(Arc::downgrade(&node), changes, opens_tx);
            let weak = Arc::downgrade(&relay.inner);
            tokio::spawn(async move {
                while let Some(open) = opens.recv().await {
                    let Some(inner) = weak.upgrade() else { break };
                    crate::signal::remote::spawn(Relay { inner }, open);
                }
            });
        }
        relay
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
    let budget =
        (config.upload_budget_kbps > 0).then(|| config.upload_budget_kbps.saturating_mul(1000));
    crate::sfu::runner::spawn(
        socket,
        advertised,
        config.media_connect_timeout,
        budget,
        config.downlink_estimates,
    )
    .map_err(err)
}

/// Deliver the SFU's notices to participants. Ends when the relay is dropped.
async fn route_notices(relay: Weak<RelayInner>, mut notices: mpsc::UnboundedReceiver<Notice>) {
    while let Some(notice) = notices.recv().await {
        let Some(relay) = relay.upgrade() else { break };
        let (group, identity, conn, msg) = match notice {
            Notice::SubscribeOffer {
                group,
                identity,
                conn,
                sdp,
                tracks,
            } => (
                group,
                identity,
                conn,
                ServerMessage::SubscribeOffer { sdp, tracks },
            ),
            Notice::PublishLayers {
                group,
                identity,
                conn,
                tracks,
            } => (
                group,
                identity,
                conn,
                ServerMessage::PublishLayers { tracks },
            ),
            Notice::Speakers {
                group,
                active,
                speaking,
            } => {
                if let Some(room) = relay.rooms.get(&group) {
                    room.broadcast(&ServerMessage::Speakers { active, speaking }, None);
                }
                continue;
            }
            Notice::MediaFailed {
                group,
                identity,
                conn,
                message,
            } => (
                group,
                identity,
                conn,
                ServerMessage::error(ErrorCode::MediaFailed, message, None),
            ),
        };
        // Only to the connection the notice is about: a participant that joined again
        // meanwhile negotiates its new media from scratch, and a stale offer or failure
        // would confuse it.
        let sent = relay
            .rooms
            .get(&group)
            .is_some_and(|room| room.send_to_conn(&identity, conn, Outbound::message(&msg)));
        if sent && matches!(msg, ServerMessage::Error { .. }) {
            relay.metrics.error_sent(ErrorCode::MediaFailed);
        }
    }
}
