//! Cluster mode, home side: the [`Session`] of a participant whose socket is on another
//! node (the edge). Frames arrive over the bus; everything the session queues goes back
//! over the bus, numbered (see [`crate::cluster::bus`]). The session itself is the same
//! as for a local socket: rules, limits, chat and media live here, on the room's node.

use std::sync::Arc;
use std::time::Instant;

use studyhall_protocol::{ClientMessage, CloseCode, ErrorCode, LeaveReason, ServerMessage};
use tokio::sync::mpsc;
use tracing::{info, Instrument};

use super::session::{Flow, Refusal, Session};
use super::socket::{until_shutdown, OUTBOUND_QUEUE};
use crate::cluster::bus::{is_chat_message, HomeEvent, OpenRequest};
use crate::cluster::{BusMessage, Cluster, Home};
use crate::room::{serialize, ConnHandle, Outbound};
use crate::state::Relay;

/// Sends one remote connection's messages to its edge, numbering all but chat.
struct Outlet {
    cluster: Arc<Cluster>,
    edge: String,
    conn: String,
    n: u64,
}

impl Outlet {
    async fn text(&mut self, text: &str) {
        let n = if is_chat_message(text) {
            None
        } else {
            self.n += 1;
            Some(self.n)
        };
        let msg = BusMessage::Out {
            conn: self.conn.clone(),
            home: self.cluster.node_id.clone(),
            n,
            text: text.to_string(),
        };
        // A failed publish leaves a gap in `n`; the edge notices and has the client rejoin.
        let _ = self.cluster.publish(&self.edge, &msg).await;
    }

    async fn close(&mut self, code: u16, reason: &str) {
        let msg = BusMessage::Close {
            conn: self.conn.clone(),
            home: self.cluster.node_id.clone(),
            code,
            reason: reason.to_string(),
        };
        let _ = self.cluster.publish(&self.edge, &msg).await;
    }

    async fn synced(&mut self) {
        let msg = BusMessage::Synced {
            conn: self.conn.clone(),
            n: self.n,
            known: true,
        };
        let _ = self.cluster.publish(&self.edge, &msg).await;
    }

    async fn check(&mut self) {
        let msg = BusMessage::Check {
            conn: self.conn.clone(),
            home: self.cluster.node_id.clone(),
        };
        let _ = self.cluster.publish(&self.edge, &msg).await;
    }

    /// Send what the session queued before a close.
    async fn flush(&mut self, queue: &mut mpsc::Receiver<Outbound>) {
        while let Ok(Outbound::Text(t)) = queue.try_recv() {
            self.text(&t).await;
        }
    }
}

/// Removes the session's bus entry however the task ends.
struct Registered {
    cluster: Arc<Cluster>,
    conn: String,
}

impl Drop for Registered {
    fn drop(&mut self) {
        super::super::cluster::forget_home(&self.cluster, &self.conn);
    }
}

/// Register a remote session and serve it in a new task.
pub fn spawn(relay: Relay, open: OpenRequest) {
    let Some(cluster) = relay.cluster.clone() else {
        return;
    };
    let (tx, rx) = mpsc::channel(crate::cluster::bus::EVENT_QUEUE);
    let (conn, queue) = ConnHandle::relayed(OUTBOUND_QUEUE, &open.edge);
    {
        let mut homes = cluster.homes.lock().unwrap_or_else(|p| p.into_inner());
        if homes.contains_key(&open.conn) {
            return;
        }
        homes.insert(
            open.conn.clone(),
            Home {
                edge: open.edge.clone(),
                tx,
                control: conn.control.clone(),
            },
        );
    }
    tokio::spawn(serve(relay, cluster, open, rx, conn, queue));
}

async fn serve(
    relay: Relay,
    cluster: Arc<Cluster>,
    open: OpenRequest,
    mut inbound: mpsc::Receiver<HomeEvent>,
    conn: ConnHandle,
    mut queue: mpsc::Receiver<Outbound>,
) {
    let _registered = Registered {
        cluster: cluster.clone(),
        conn: open.conn.clone(),
    };
    let mut out = Outlet {
        cluster: cluster.clone(),
        edge: open.edge.clone(),
        conn: open.conn.clone(),
        n: 0,
    };
    let joined = match super::decode(&open.text) {
        Ok(frame) => match held_here(&relay, &cluster, &frame.message, &frame.request_id).await {
            Ok(()) => Session::join(&relay, frame, conn.clone(), Instant::now()).await,
            Err(refusal) => Err(refusal),
        },
        Err(e) => Err(Refusal::undecodable(e)),
    };
    let (mut session, welcome) = match joined {
        Ok(ok) => ok,
        Err(refusal) => {
            relay.metrics.error_sent(refusal.code());
            info!(edge = %open.edge, code = %refusal.code(), "relayed join refused");
            out.text(&serialize(&refusal.error)).await;
            out.close(refusal.close_code, refusal.code().as_str()).await;
            return;
        }
    };
    let span = session.span().clone();
    async move {
        info!(edge = %open.edge, "joined through another node");
        out.text(&serialize(&welcome)).await;
        let mut shutdown = relay.shutting_down();
        let mut check = tokio::time::interval(relay.config.heartbeat_interval);
        check.tick().await;
        let leave = loop {
            tokio::select! {
                event = inbound.recv() => match event {
                    Some(HomeEvent::Frame(text)) => {
                        if let Flow::Close { code, reason, leave } = session.on_text(&text, Instant::now()).await {
                            out.flush(&mut queue).await;
                            out.close(code, &reason).await;
                            break leave;
                        }
                    }
                    Some(HomeEvent::Gone(leave)) => break leave,
                    Some(HomeEvent::Sync) => out.synced().await,
                    None => break LeaveReason::Timeout,
                },
                queued = queue.recv() => match queued {
                    Some(Outbound::Text(text)) => out.text(&text).await,
                    Some(Outbound::Close { code, reason }) => {
                        out.close(code, &reason).await;
                        break LeaveReason::Kicked;
                    }
                    None => break LeaveReason::Left,
                },
                forced = conn.control.forced() => {
                    relay.metrics.error_sent(forced.error);
                    let msg = ServerMessage::fatal(forced.error, forced.message.clone(), None);
                    out.text(&serialize(&msg)).await;
                    out.close(forced.code, &forced.message).await;
                    break LeaveReason::Timeout;
                }
                _ = check.tick() => out.check().await,
                _ = until_shutdown(&mut shutdown) => {
                    let msg = ServerMessage::Shutdown {
                        reason: "the room's node is shutting down".into(),
                        retry_after_ms: 1000,
                    };
                    out.text(&serialize(&msg)).await;
                    out.close(CloseCode::REJOIN, "room node shutting down").await;
                    break LeaveReason::Shutdown;
                }
            }
        };
        session.end(leave).await;
    }
    .instrument(span)
    .await
}

/// A relayed join is served only if the room is held by this node (it may have moved
/// since the edge looked); otherwise the client joins again and is placed afresh.
async fn held_here(
    relay: &Relay,
    cluster: &Cluster,
    message: &ClientMessage,
    request_id: &Option<String>,
) -> Result<(), Refusal> {
    let ClientMessage::Join { room, token, .. } = message else {
        return Ok(());
    };
    // Nothing is written to Redis for a join that will be refused anyway:
    // Session::join explains the problem.
    if crate::ids::check_room(room).is_err() || relay.keys.verify(token, room).is_err() {
        return Ok(());
    }
    match cluster.claim(room).await {
        Ok(holder) if holder == cluster.node_id => Ok(()),
        Ok(_) => Err(Refusal {
            error: ServerMessage::fatal(
                ErrorCode::Rejoin,
                "the room moved to another node; join again",
                request_id.clone(),
            ),
            close_code: CloseCode::REJOIN,
        }),
        Err(e) => Err(Refusal {
            error: ServerMessage::fatal(ErrorCode::Unavailable, e.to_string(), request_id.clone()),
            close_code: CloseCode::TRY_AGAIN_LATER,
        }),
    }
}
