//! HTTP routes: the WebSocket endpoint, health, metrics, a small info document, invites
//! and shared files ([`materials`]).

mod groups;
mod materials;

pub use materials::disposition;

use studyhall_protocol::groups as groups_api;

use std::net::SocketAddr;

use std::time::Duration;

use axum::extract::rejection::JsonRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::handler::Handler;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use studyhall_protocol::{Grants, PROTOCOL_VERSION};

use crate::auth::{now_secs, AuthError};
use crate::ids;
use crate::invites::{self, InviteError};

use crate::signal::socket::{self, TRANSPORT_LIMIT_FACTOR};
use crate::state::Relay;

/// The WebSocket endpoint (the protocol crate owns the path).
pub use studyhall_protocol::WS_PATH;

/// Hosts create invite codes here; guests trade a code for a token at [`REDEEM_PATH`].
pub const INVITES_PATH: &str = "/v1/invites";
pub const REDEEM_PATH: &str = "/v1/invites/redeem";
/// A room's shared files: list (`GET`) and upload (`POST`).
pub const MATERIALS_ROUTE: &str = studyhall_protocol::materials::MATERIALS_PATH;
/// One shared file (`GET`, with `Range`).
pub const MATERIAL_ROUTE: &str = "/v1/rooms/{room}/materials/{id}";
/// Largest JSON body the HTTP API reads.
const MAX_JSON_BODY: usize = 4096;
/// How long a token bought with an invite code lasts.
const GUEST_TOKEN_TTL: Duration = Duration::from_secs(12 * 3600);

pub fn router(relay: Relay) -> Router {
    Router::new()
        .route("/", get(info))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route(WS_PATH, get(websocket))
        .route(
            INVITES_PATH,
            post(create_invite).layer(DefaultBodyLimit::max(MAX_JSON_BODY)),
        )
        .route(
            REDEEM_PATH,
            post(redeem_invite).layer(DefaultBodyLimit::max(MAX_JSON_BODY)),
        )
        .route(
            MATERIALS_ROUTE,
            // Files are streamed and held to `max_upload_bytes` by the handler itself.
            get(materials::list).post(materials::upload.layer(DefaultBodyLimit::disable())),
        )
        .route(MATERIAL_ROUTE, get(materials::download))
        .route(
            groups_api::GROUPS_PATH,
            post(groups::create).layer(DefaultBodyLimit::max(groups::MAX_GROUP_BODY)),
        )
        .route(
            groups_api::GROUP_JOIN_PATH,
            post(groups::join).layer(DefaultBodyLimit::max(groups::MAX_GROUP_BODY)),
        )
        .route(
            groups_api::GROUP_PATH,
            get(groups::show).delete(groups::delete),
        )
        .route(
            groups_api::GROUP_MEMBER_PATH,
            axum::routing::delete(groups::remove_member),
        )
        .route(groups_api::GROUP_INVITE_PATH, post(groups::new_invite))
        .route(
            groups_api::GROUP_SESSIONS_PATH,
            post(groups::add_session).layer(DefaultBodyLimit::max(groups::MAX_GROUP_BODY)),
        )
        .route(
            groups_api::GROUP_SESSION_PATH,
            axum::routing::put(groups::replace_session)
                .delete(groups::delete_session)
                .layer(DefaultBodyLimit::max(groups::MAX_GROUP_BODY)),
        )
        .route(groups_api::GROUP_ROOM_PATH, post(groups::room))
        .route(groups_api::PRESENCE_PATH, get(presence_socket))
        .with_state(relay)
}

async fn info(State(relay): State<Relay>) -> Json<serde_json::Value> {
    Json(json!({
        "name": "studyhall-relay",
        "version": env!("CARGO_PKG_VERSION"),
        "protocol": PROTOCOL_VERSION,
        "websocket": WS_PATH,
        "mode": if relay.cluster.is_some() { "cluster" } else { "embedded" },
        "node": relay.cluster.as_ref().map(|c| c.node_id.clone()),
        "shutting_down": relay.is_shutting_down(),
    }))
}

async fn healthz(State(relay): State<Relay>) -> Response {
    if relay.is_shutting_down() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response();
    }
    if !relay.chat().healthy().await {
        let what = if relay.cluster.is_some() {
            "redis unavailable"
        } else {
            "chat store unavailable"
        };
        return (StatusCode::SERVICE_UNAVAILABLE, format!("{what}\n")).into_response();
    }
    (StatusCode::OK, "ok\n").into_response()
}

async fn metrics(State(relay): State<Relay>) -> Response {
    let (rooms, participants) = relay.rooms.counts();
    let mut text = relay.metrics.render(rooms, participants);
    let (publishers, subscribers, tracks) = relay.sfu.counts().await;
    let (publishers, subscribers, tracks) = (publishers as u64, subscribers as u64, tracks as u64);
    let upload = relay.sfu.upload().await;
    let heap = crate::memory::heap();
    let memory = [
        heap.map(|h| {
            (
                "studyhall_heap_in_use_bytes",
                "Heap bytes the relay's data holds (glibc's count over all arenas).",
                h.in_use,
            )
        }),
        heap.map(|h| {
            (
                "studyhall_heap_free_bytes",
                "Heap bytes freed but kept by the allocator for reuse; an idle relay hands them back once a minute.",
                h.free,
            )
        }),
        Some((
            "studyhall_sqlite_memory_bytes",
            "Memory SQLite holds for the embedded stores (page caches, schemas, statements).",
            crate::memory::sqlite_in_use(),
        )),
    ];
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
        (
            "studyhall_media_upload_bits_per_second",
            "What the SFU sends, in bits per second with IP and UDP headers, over about the last second.",
            upload.bits_per_second,
        ),
        (
            "studyhall_media_upload_budget_bits_per_second",
            "The upload budget (upload_budget_kbps), in bits per second; 0: none.",
            upload.budget.unwrap_or(0),
        ),
        (
            "studyhall_media_budget_held_small",
            "Video tiles the upload budget sends at the small layer where the viewer wants the full one.",
            upload.held_small,
        ),
        (
            "studyhall_media_budget_paused",
            "Video tiles on screen that the upload budget pauses.",
            upload.paused,
        ),
    ]
    .into_iter()
    .chain(memory.into_iter().flatten())
    {
        text.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}\n"
        ));
    }
    if let Some(cluster) = &relay.cluster {
        cluster.render_metrics(&mut text);
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

async fn websocket(
    State(relay): State<Relay>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let (pending, permit) = match admit_socket(&relay, peer) {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let transport_limit = relay.config.max_message_bytes * TRANSPORT_LIMIT_FACTOR;
    upgrade
        .max_message_size(transport_limit)
        .max_frame_size(transport_limit)
        .on_upgrade(move |ws| socket::serve(relay, ws, peer, permit, pending))
}

/// The presence socket ([`crate::signal::presence`]).
async fn presence_socket(
    State(relay): State<Relay>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let (pending, permit) = match admit_socket(&relay, peer) {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let limit = crate::signal::presence::MAX_PRESENCE_FRAME * 2;
    upgrade
        .max_message_size(limit)
        .max_frame_size(limit)
        .on_upgrade(move |ws| crate::signal::presence::serve(relay, ws, peer, permit, pending))
}

/// A place for a new socket: under the cap on not-yet-joined sockets per address and
/// under `max_connections`, or the answer that refuses it.
#[allow(clippy::result_large_err)] // built once per upgrade, returned at once
fn admit_socket(
    relay: &Relay,
    peer: SocketAddr,
) -> Result<
    (
        crate::pending::PendingSlot,
        tokio::sync::OwnedSemaphorePermit,
    ),
    Response,
> {
    if relay.is_shutting_down() {
        return Err((
            StatusCode::SERVICE_UNAVAILABLE,
            "the relay is shutting down\n",
        )
            .into_response());
    }
    // Checked first, so sockets refused here never take a place under max_connections.
    let Some(pending) = relay.pending.try_take(peer.ip()) else {
        relay
            .metrics
            .connections_refused_pending
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tracing::debug!(%peer, "refused a socket: too many from this address have not joined yet");
        let mut response = (
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "too many connections from your address are still joining (at most {}); try again shortly\n",
                relay.config.max_pending_per_address
            ),
        )
            .into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        return Err(response);
    };
    let Ok(permit) = relay.connections.clone().try_acquire_owned() else {
        relay
            .metrics
            .connections_refused
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return Err((
            StatusCode::SERVICE_UNAVAILABLE,
            "too many connections; try again shortly\n",
        )
            .into_response());
    };
    Ok((pending, permit))
}

/// An HTTP API error: a status and `{"error": {"code", "message"}}`.
fn api_error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    let body = json!({ "error": { "code": code, "message": message.into() } });
    (status, Json(body)).into_response()
}

/// The token of `Authorization: Bearer <token>`.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

fn bad_json(rejection: JsonRejection) -> Response {
    let status = match rejection {
        JsonRejection::MissingJsonContentType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        JsonRejection::BytesRejection(_) => StatusCode::PAYLOAD_TOO_LARGE,
        _ => StatusCode::BAD_REQUEST,
    };
    api_error(status, "malformed", rejection.body_text())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateInvite {
    /// Seconds the invite lasts (default 24 h, at most 7 days).
    #[serde(default)]
    ttl_secs: Option<u64>,
}

/// `POST /v1/invites` with `Authorization: Bearer <host token>`: a code for the token's
/// room.
async fn create_invite(
    State(relay): State<Relay>,
    headers: HeaderMap,
    body: Result<Json<CreateInvite>, JsonRejection>,
) -> Response {
    let Some(token) = bearer(&headers) else {
        return api_error(
            StatusCode::UNAUTHORIZED,
            "token_missing",
            "send the host's token as `Authorization: Bearer <token>`",
        );
    };
    let claims = match relay.keys.verify_any_room(token.trim()) {
        Ok(claims) => claims,
        Err(e) => {
            let status = match e {
                AuthError::MissingGrant(_) => StatusCode::FORBIDDEN,
                _ => StatusCode::UNAUTHORIZED,
            };
            return api_error(status, e.code().as_str(), e.to_string());
        }
    };
    if !claims.grants.host {
        return api_error(
            StatusCode::FORBIDDEN,
            "forbidden",
            "only a host of the room may create invites",
        );
    }
    let Json(request) = match body {
        Ok(body) => body,
        Err(rejection) => return bad_json(rejection),
    };
    let ttl = match request.ttl_secs {
        Some(0) => {
            return api_error(
                StatusCode::BAD_REQUEST,
                "invalid_field",
                "ttl_secs must be more than 0",
            )
        }
        Some(secs) => Duration::from_secs(secs),
        None => invites::DEFAULT_TTL,
    };
    match relay
        .invites
        .create(&claims.room, &claims.sub, ttl, now_secs() * 1000)
        .await
    {
        Ok(invite) => (
            StatusCode::CREATED,
            Json(json!({
                "code": invites::display(&invite.code),
                "room": invite.room,
                "expires_at": invite.expires_at_ms,
            })),
        )
            .into_response(),
        Err(e @ InviteError::Unavailable(_)) => api_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            format!("the invite could not be stored: {e}"),
        ),
        Err(InviteError::RateLimited(wait)) => rate_limited(wait),
        Err(e) => api_error(StatusCode::SERVICE_UNAVAILABLE, "full", e.to_string()),
    }
}

/// 429 with `Retry-After` (whole seconds, at least 1).
fn rate_limited(wait: Duration) -> Response {
    let mut response = api_error(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        InviteError::RateLimited(wait).to_string(),
    );
    if let Ok(value) = wait.as_secs().max(1).to_string().parse() {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RedeemInvite {
    code: String,
    /// The display name the guest chose.
    name: String,
    /// The guest's device (its app's own id): a host's kick then holds against it.
    #[serde(default)]
    device: Option<String>,
}

/// `POST /v1/invites/redeem`: trade a code and a display name for a member token with a
/// fresh identity. Keep the token: rejoining with it (after a network drop) is the same
/// participant.
async fn redeem_invite(
    State(relay): State<Relay>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Result<Json<RedeemInvite>, JsonRejection>,
) -> Response {
    let Json(request) = match body {
        Ok(body) => body,
        Err(rejection) => return bad_json(rejection),
    };
    let name = request.name.trim();
    if let Err(m) = ids::check_display_name(name) {
        return api_error(
            StatusCode::BAD_REQUEST,
            "invalid_field",
            format!("name {m}"),
        );
    }
    if let Some(device) = &request.device {
        if let Err(m) = ids::check_client_id(device) {
            return api_error(
                StatusCode::BAD_REQUEST,
                "invalid_field",
                format!("device {m}"),
            );
        }
    }
    let found = relay.invites.redeem(&request.code, peer.ip()).await;
    if let Err(e @ InviteError::Unavailable(_)) = &found {
        return api_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            e.to_string(),
        );
    }
    let invite = match found {
        Ok(invite) => invite,
        Err(InviteError::RateLimited(wait)) => return rate_limited(wait),
        Err(e) => return api_error(StatusCode::NOT_FOUND, "invite_not_found", e.to_string()),
    };
    let room = relay.rooms.get(&invite.room);
    if crate::room::features::lecture::is_locked(&relay.features, room.as_ref(), &invite.room).await
    {
        return api_error(
            StatusCode::LOCKED,
            "room_locked",
            "the room is locked: the host takes no new people now",
        );
    }
    if let Some(live) = &room {
        if request
            .device
            .as_deref()
            .is_some_and(|d| live.is_device_banned(d))
        {
            return api_error(
                StatusCode::FORBIDDEN,
                "banned",
                "you were removed from this room",
            );
        }
        if live.host_named(name, "") {
            return api_error(
                StatusCode::CONFLICT,
                "name_taken",
                format!("`{name}` is the host's name in this room; choose another"),
            );
        }
    }
    let identity = format!("guest-{}", hex::encode(rand::random::<[u8; 6]>()));
    match relay.keys.issue_on_device(
        &invite.room,
        &identity,
        name,
        Grants::member(),
        GUEST_TOKEN_TTL,
        request.device.as_deref(),
    ) {
        Ok(token) => Json(json!({
            "room": invite.room,
            "identity": identity,
            "name": name,
            "token": token,
            "expires_at": (now_secs() + GUEST_TOKEN_TTL.as_secs()) * 1000,
        }))
        .into_response(),
        Err(e) => api_error(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()),
    }
}
