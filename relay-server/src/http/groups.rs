//! Study groups over HTTP: create, join by invite, read, remove members, a new invite,
//! the schedule, and a room token for the group's room. Every call but create and join
//! carries a group token (`Authorization: Bearer`); the rules live in [`crate::groups`].

use std::net::SocketAddr;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use studyhall_protocol::groups::{CreateGroup, JoinGroup};
use studyhall_protocol::schedule::SessionDraft;

use super::{api_error, bad_json, bearer};
use crate::groups::{members_view, GroupError, Member};
use crate::state::Relay;

/// Largest JSON body of a group call (a session with all its changes fits).
pub const MAX_GROUP_BODY: usize = 16 * 1024;

/// The value of a `Result<T, Response>`, or return its refusal from the handler.
macro_rules! or_refused {
    ($result:expr) => {
        match $result {
            Ok(value) => value,
            Err(response) => return response,
        }
    };
}

/// The answer to a refused group call.
fn refused(e: GroupError) -> Response {
    let (status, code) = match &e {
        GroupError::Invalid(_) => (StatusCode::BAD_REQUEST, "invalid_field"),
        GroupError::NotFound | GroupError::Missing(_) => (StatusCode::NOT_FOUND, "not_found"),
        GroupError::InviteNotFound => (StatusCode::NOT_FOUND, "invite_not_found"),
        GroupError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
        GroupError::Removed => (StatusCode::FORBIDDEN, "banned"),
        GroupError::Token(t) => (StatusCode::UNAUTHORIZED, t.code().as_str()),
        GroupError::Limit(_) => (StatusCode::CONFLICT, "limit_reached"),
        GroupError::RateLimited(_) => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
        GroupError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
    };
    let mut response = api_error(status, code, e.to_string());
    if let GroupError::RateLimited(wait) = e {
        if let Ok(value) = wait.as_secs().max(1).to_string().parse() {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
    }
    response
}

/// The member making the call: a group token for `group`, checked against it.
async fn member(relay: &Relay, headers: &HeaderMap, group: &str) -> Result<Member, Response> {
    let Some(token) = bearer(headers) else {
        return Err(api_error(
            StatusCode::UNAUTHORIZED,
            "token_missing",
            "send your group token as `Authorization: Bearer <token>`",
        ));
    };
    relay.groups.member(token, group).await.map_err(refused)
}

pub async fn create(
    State(relay): State<Relay>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Result<Json<CreateGroup>, JsonRejection>,
) -> Response {
    let Json(request) = or_refused!(body.map_err(bad_json));
    match relay.groups.create(request, peer.ip()).await {
        Ok(joined) => (StatusCode::CREATED, Json(joined)).into_response(),
        Err(e) => refused(e),
    }
}

pub async fn join(
    State(relay): State<Relay>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Result<Json<JoinGroup>, JsonRejection>,
) -> Response {
    let Json(request) = or_refused!(body.map_err(bad_json));
    match relay.groups.join(request, peer.ip()).await {
        Ok(joined) => Json(joined).into_response(),
        Err(e) => refused(e),
    }
}

/// `GET`: the group, with a renewed group token in `studyhall-token`.
pub async fn show(
    State(relay): State<Relay>,
    Path(group): Path<String>,
    headers: HeaderMap,
) -> Response {
    let member = or_refused!(member(&relay, &headers, &group).await);
    let mut response = Json(members_view(&member.group)).into_response();
    if let Some(token) = relay
        .groups
        .renew(&member)
        .and_then(|t| HeaderValue::from_str(&t).ok())
    {
        response.headers_mut().insert("studyhall-token", token);
    }
    response
}

/// `DELETE`: the owner deletes the group.
pub async fn delete(
    State(relay): State<Relay>,
    Path(group): Path<String>,
    headers: HeaderMap,
) -> Response {
    let member = or_refused!(member(&relay, &headers, &group).await);
    match relay.groups.delete(&member).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => refused(e),
    }
}

/// `DELETE …/members/{identity}`: the owner removes a member, or a member leaves.
pub async fn remove_member(
    State(relay): State<Relay>,
    Path((group, identity)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let member = or_refused!(member(&relay, &headers, &group).await);
    match relay.groups.remove_member(&member, &identity).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => refused(e),
    }
}

/// `POST …/invite`: a new code (the owner); the old one stops working.
pub async fn new_invite(
    State(relay): State<Relay>,
    Path(group): Path<String>,
    headers: HeaderMap,
) -> Response {
    let member = or_refused!(member(&relay, &headers, &group).await);
    match relay.groups.new_invite(&member).await {
        Ok(group) => Json(group).into_response(),
        Err(e) => refused(e),
    }
}

/// `POST …/sessions`: add a session.
pub async fn add_session(
    State(relay): State<Relay>,
    Path(group): Path<String>,
    headers: HeaderMap,
    body: Result<Json<SessionDraft>, JsonRejection>,
) -> Response {
    let member = or_refused!(member(&relay, &headers, &group).await);
    let Json(draft) = or_refused!(body.map_err(bad_json));
    match relay.groups.add_session(&member, draft).await {
        Ok(session) => (StatusCode::CREATED, Json(session)).into_response(),
        Err(e) => refused(e),
    }
}

/// `PUT …/sessions/{session}`: replace it.
pub async fn replace_session(
    State(relay): State<Relay>,
    Path((group, session)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Json<SessionDraft>, JsonRejection>,
) -> Response {
    let member = or_refused!(member(&relay, &headers, &group).await);
    let Json(draft) = or_refused!(body.map_err(bad_json));
    match relay
        .groups
        .change_session(&member, &session, Some(draft))
        .await
    {
        Ok(session) => Json(session).into_response(),
        Err(e) => refused(e),
    }
}

/// `DELETE …/sessions/{session}`.
pub async fn delete_session(
    State(relay): State<Relay>,
    Path((group, session)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let member = or_refused!(member(&relay, &headers, &group).await);
    match relay.groups.change_session(&member, &session, None).await {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => refused(e),
    }
}

/// `POST …/room`: a room token for the group's standing room.
pub async fn room(
    State(relay): State<Relay>,
    Path(group): Path<String>,
    headers: HeaderMap,
) -> Response {
    let member = or_refused!(member(&relay, &headers, &group).await);
    match relay.groups.room_ticket(&member) {
        Ok(ticket) => Json(ticket).into_response(),
        Err(e) => refused(e),
    }
}
