//! Running the relay: bind, serve, drain on shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use crate::config::Config;
use crate::http;
use crate::state::{Relay, RelayError};

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
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            debug!(error = %e, "cannot set TCP_NODELAY");
        }
    });
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
    let result = serve.await.map_err(RelayError::Serve);
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
        format!("ws://{}{}", self.addr, http::WS_PATH)
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
