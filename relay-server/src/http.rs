//! HTTP routes: the WebSocket endpoint, health, metrics and a small info document.

use std::net::SocketAddr;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use studyhall_protocol::PROTOCOL_VERSION;

use crate::signal::socket::{self, TRANSPORT_LIMIT_FACTOR};
use crate::state::Relay;

/// Path of the WebSocket endpoint.
pub const WS_PATH: &str = "/ws";

pub fn router(relay: Relay) -> Router {
    Router::new()
        .route("/", get(info))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route(WS_PATH, get(websocket))
        .with_state(relay)
}

async fn info(State(relay): State<Relay>) -> Json<serde_json::Value> {
    Json(json!({
        "name": "studyhall-relay",
        "version": env!("CARGO_PKG_VERSION"),
        "protocol": PROTOCOL_VERSION,
        "websocket": WS_PATH,
        "mode": "embedded",
        "shutting_down": relay.is_shutting_down(),
    }))
}

async fn healthz(State(relay): State<Relay>) -> Response {
    if relay.is_shutting_down() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response();
    }
    if !relay.chat.healthy().await {
        return (StatusCode::SERVICE_UNAVAILABLE, "chat store unavailable\n").into_response();
    }
    (StatusCode::OK, "ok\n").into_response()
}

async fn metrics(State(relay): State<Relay>) -> Response {
    let (rooms, participants) = relay.rooms.counts();
    let mut text = relay.metrics.render(rooms, participants);
    let (publishers, subscribers, tracks) = relay.sfu.counts().await;
    for (name, help, value) in [
        (
            "studyhall_media_publish_connections",
            "Publish PeerConnections on the SFU.",
            publishers,
        ),
        (
            "studyhall_media_subscribe_connections",
            "Subscribe PeerConnections on the SFU.",
            subscribers,
        ),
        (
            "studyhall_media_tracks",
            "Tracks published into the SFU.",
            tracks,
        ),
    ] {
        text.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}\n"
        ));
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

async fn websocket(
    State(relay): State<Relay>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    upgrade: WebSocketUpgrade,
) -> Response {
    if relay.is_shutting_down() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "the relay is shutting down\n",
        )
            .into_response();
    }
    let Ok(permit) = relay.connections.clone().try_acquire_owned() else {
        relay
            .metrics
            .connections_refused
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "too many connections; try again shortly\n",
        )
            .into_response();
    };
    let transport_limit = relay.config.max_message_bytes * TRANSPORT_LIMIT_FACTOR;
    upgrade
        .max_message_size(transport_limit)
        .max_frame_size(transport_limit)
        .on_upgrade(move |ws| socket::serve(relay, ws, peer, permit))
}
