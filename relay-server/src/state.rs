//! What the relay's edges (the WebSocket sessions and the HTTP routes) share: config,
//! keys, rooms, feature services, invites, the SFU handle, the cluster, the shutdown
//! flag. Cheap to clone (one `Arc`). It is assembled in `server.rs`; lower layers
//! (rooms and their features, stores, the SFU, the cluster) never see it.

use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;

use tokio::sync::{watch, Semaphore};

use crate::auth::{self, TokenKeys};
use crate::cluster::{Cluster, NodeHandles};
use crate::config::Config;
use crate::invites::Invites;
use crate::metrics::Metrics;
use crate::pending::PendingJoins;
use crate::room::features::Services;
use crate::room::Rooms;
use crate::sfu::runner::SfuHandle;
use crate::store::{ChatLog, StoreError};

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
    pub(crate) inner: Arc<RelayInner>,
}

pub struct RelayInner {
    pub config: Config,
    pub keys: TokenKeys,
    pub rooms: Arc<Rooms>,
    pub invites: Invites,
    /// Study groups and their members' presence.
    pub groups: Arc<crate::groups::Groups>,
    /// What room features use: the chat log, the word filter, limits, metrics.
    pub features: Arc<Services>,
    pub metrics: Arc<Metrics>,
    pub connections: Arc<Semaphore>,
    /// Sockets that have not joined yet, per client address.
    pub pending: Arc<PendingJoins>,
    pub sfu: SfuHandle,
    /// Cluster mode (a Redis URL is configured); `None` in embedded mode.
    pub cluster: Option<Arc<Cluster>>,
    /// What the cluster's tasks see of this node (they hold it weakly).
    pub(crate) _node: Option<Arc<NodeHandles>>,
    pub(crate) shutdown: watch::Sender<bool>,
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

    /// The chat log.
    pub fn chat(&self) -> &Arc<dyn ChatLog> {
        &self.features.chat
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
