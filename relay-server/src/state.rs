//! The relay's shared state: config, keys, rooms, chat log, metrics, shutdown flag.
//! Cheap to clone (one `Arc`).

use std::ops::Deref;
use std::sync::Arc;

use tokio::sync::{watch, Semaphore};

use crate::auth::{self, TokenKeys};
use crate::config::Config;
use crate::metrics::Metrics;
use crate::room::filter::WordFilter;
use crate::room::Rooms;
use crate::store::{ChatLog, SqliteChatLog, StoreError};

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
}

#[derive(Clone)]
pub struct Relay {
    inner: Arc<RelayInner>,
}

pub struct RelayInner {
    pub config: Config,
    pub keys: TokenKeys,
    pub rooms: Rooms,
    pub chat: Arc<dyn ChatLog>,
    pub filter: WordFilter,
    pub metrics: Metrics,
    pub connections: Arc<Semaphore>,
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
    /// The embedded default: chat in SQLite under the data directory.
    pub fn open(config: Config) -> Result<Relay, RelayError> {
        let secret = resolve_secret(&config)?;
        let chat = SqliteChatLog::open_in(&config.data_dir)?;
        Ok(Relay::with_parts(config, &secret, Arc::new(chat)))
    }

    pub fn with_parts(config: Config, secret: &str, chat: Arc<dyn ChatLog>) -> Relay {
        let (shutdown, _) = watch::channel(false);
        Relay {
            inner: Arc::new(RelayInner {
                keys: TokenKeys::new(secret.as_bytes(), config.token_leeway),
                rooms: Rooms::new(config.max_room_size),
                filter: WordFilter::new(&config.word_filter),
                metrics: Metrics::default(),
                connections: Arc::new(Semaphore::new(config.max_connections)),
                chat,
                shutdown,
                config,
            }),
        }
    }

    /// Tell every connection to drain and close.
    pub fn begin_shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    pub fn shutting_down(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    pub fn is_shutting_down(&self) -> bool {
        *self.shutdown.borrow()
    }
}
