//! Shared files over HTTP (see `docs/protocol.md`, "Materials"):
//!
//! - `POST /v1/rooms/{room}/materials?name=<file name>`: the body is the file. It is
//!   streamed to disk, hashed as it goes, its type decided from its content, and its
//!   entry stored; the answer (201) is the [`Material`].
//! - `GET /v1/rooms/{room}/materials`: the room's files and limits.
//! - `GET /v1/rooms/{room}/materials/{id}`: the file, as an attachment, with `Range`.
//!
//! Each needs `Authorization: Bearer <token>` for that room; a token for another room
//! gets 403. In a cluster a node that does not hold a file fetches it from the node that
//! does (its registry entry's `internal` address), unless the nodes share the files'
//! directory; if that node is gone the answer is 503, at once.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::StreamExt;
use serde::Deserialize;
use studyhall_protocol::materials::{check_file_name, is_material_id, MAX_MATERIALS_PER_ROOM};
use studyhall_protocol::Material;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tracing::{info, warn};

use super::{api_error, bearer};
use crate::auth::{AuthError, Claims};
use crate::room::features::materials::{self as feature, UploadSlots};
use crate::room::features::Refused;
use crate::state::Relay;
use crate::store::files::{sniff, Sniffed, SNIFF_BYTES};
use crate::store::{Added, StoredMaterial};

/// A request one node makes of another for a file it holds carries this header; such a
/// request is answered from disk only (never passed on again).
pub const FORWARDED_HEADER: &str = "studyhall-forwarded";
/// How long a node waits to reach the node holding a file.
const PEER_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a node waits for each piece of a file from its holder.
const PEER_READ_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Deserialize)]
pub(super) struct UploadQuery {
    name: Option<String>,
}

/// The token's claims if it is for `room`: 401 for a missing or bad token, 403 for a
/// token of another room (or of someone sent away from it). (The answer is built once
/// and returned at once: boxing it buys nothing.)
#[allow(clippy::result_large_err)]
fn authorize(relay: &Relay, headers: &HeaderMap, room: &str) -> Result<Claims, Response> {
    let Some(token) = bearer(headers) else {
        return Err(api_error(
            StatusCode::UNAUTHORIZED,
            "token_missing",
            "send the room's token as `Authorization: Bearer <token>`",
        ));
    };
    let claims = relay.keys.verify(token, room).map_err(|e| {
        let status = match e {
            AuthError::WrongRoom { .. } | AuthError::MissingGrant(_) => StatusCode::FORBIDDEN,
            _ => StatusCode::UNAUTHORIZED,
        };
        api_error(status, e.code().as_str(), e.to_string())
    })?;
    if relay
        .rooms
        .get(room)
        .is_some_and(|r| r.is_banned(&claims.sub))
    {
        return Err(api_error(
            StatusCode::FORBIDDEN,
            "banned",
            "you were removed from this room",
        ));
    }
    Ok(claims)
}

fn refused(r: Refused) -> Response {
    match r {
        Refused::Error { code, message } => {
            let status = match code {
                studyhall_protocol::ErrorCode::Forbidden => StatusCode::FORBIDDEN,
                studyhall_protocol::ErrorCode::StorageUnavailable => {
                    StatusCode::SERVICE_UNAVAILABLE
                }
                _ => StatusCode::BAD_REQUEST,
            };
            api_error(status, code.as_str(), message)
        }
        Refused::RateLimited(_) | Refused::Limit { .. } => api_error(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many requests",
        ),
    }
}

fn too_large(code: &str, message: String) -> Response {
    api_error(StatusCode::PAYLOAD_TOO_LARGE, code, message)
}

/// `GET /v1/rooms/{room}/materials`.
pub(super) async fn list(
    State(relay): State<Relay>,
    Path(room): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(response) = authorize(&relay, &headers, &room) {
        return response;
    }
    match feature::state(&relay.features, &room).await {
        Ok(state) => Json(state).into_response(),
        Err(r) => refused(r),
    }
}

/// `POST /v1/rooms/{room}/materials?name=...`.
pub(super) async fn upload(
    State(relay): State<Relay>,
    Path(room): Path<String>,
    query: Result<Query<UploadQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let claims = match authorize(&relay, &headers, &room) {
        Ok(c) => c,
        Err(response) => return response,
    };
    let name = match query {
        Ok(Query(UploadQuery { name: Some(name) })) => name,
        Ok(_) => {
            return api_error(
                StatusCode::BAD_REQUEST,
                "invalid_name",
                "give the file's name as `?name=` (percent-encoded)",
            )
        }
        Err(e) => {
            return api_error(StatusCode::BAD_REQUEST, "invalid_name", e.body_text());
        }
    };
    let name = match check_file_name(&name) {
        Ok(n) => n.to_string(),
        Err(m) => return api_error(StatusCode::BAD_REQUEST, "invalid_name", m),
    };
    let services = &relay.features;
    let local = relay.rooms.get(&room);
    if let Err(r) =
        feature::may_upload(services, local.as_ref(), &room, &claims.sub, claims.grants).await
    {
        return refused(r);
    }
    let limits = services.materials.limits;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(len) = declared {
        if len > limits.max_file_bytes {
            return too_large(
                "file_too_large",
                format!(
                    "the file is {len} bytes; the limit is {} (max_upload_bytes)",
                    limits.max_file_bytes
                ),
            );
        }
        match services.materials.store.used(&room).await {
            Ok(used) if used + len > limits.quota_bytes => {
                return room_quota(used, limits.quota_bytes)
            }
            Ok(_) => {}
            Err(e) => return store_down(e),
        }
    }
    let Some(_slot) = UploadSlots::take(services, &room, &claims.sub, limits.uploads_at_once)
    else {
        return api_error(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_uploads",
            format!(
                "you have {} uploads under way; the limit is {} at once (uploads_at_once)",
                limits.uploads_at_once, limits.uploads_at_once
            ),
        );
    };
    let mut upload = match services.materials.files.begin().await {
        Ok(u) => u,
        Err(e) => {
            warn!(error = %e, "cannot start an upload");
            return api_error(
                StatusCode::INSUFFICIENT_STORAGE,
                "storage_full",
                format!("the relay cannot store files now: {e}"),
            );
        }
    };
    let mut stream = body.into_data_stream();
    let mut checked = false;
    while let Some(chunk) = stream.next().await {
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => {
                info!(error = %e, "an upload stopped before its end; nothing is kept");
                return api_error(
                    StatusCode::BAD_REQUEST,
                    "upload_incomplete",
                    format!("the upload ended early: {e}"),
                );
            }
        };
        if upload.size() + chunk.len() as u64 > limits.max_file_bytes {
            return too_large(
                "file_too_large",
                format!(
                    "the file is over the limit of {} bytes (max_upload_bytes)",
                    limits.max_file_bytes
                ),
            );
        }
        if let Err(e) = upload.write(&chunk).await {
            warn!(error = %e, "an upload could not be written");
            return api_error(
                StatusCode::INSUFFICIENT_STORAGE,
                "storage_full",
                format!("the file could not be written: {e}"),
            );
        }
        // Refuse what is plainly not allowed as soon as its start is known.
        if !checked && upload.head().len() >= SNIFF_BYTES {
            checked = true;
            if let Sniffed::Refused(m) = sniff(upload.head(), upload.could_be_text(), &name) {
                return unsupported(m);
            }
        }
    }
    if upload.size() == 0 {
        return api_error(StatusCode::BAD_REQUEST, "empty_file", "the file is empty");
    }
    let text = upload.is_text();
    let mime = match sniff(upload.head(), text, &name) {
        Sniffed::Allowed(mime) => mime,
        Sniffed::Refused(m) => return unsupported(m),
    };
    let (id, size) = (upload.id.clone(), upload.size());
    let (sha256, placed) = match upload.finish().await {
        Ok(done) => done,
        Err(e) => {
            warn!(error = %e, "an upload could not be finished");
            return api_error(
                StatusCode::INSUFFICIENT_STORAGE,
                "storage_full",
                format!("the file could not be stored: {e}"),
            );
        }
    };
    let material = Material {
        id,
        name,
        size,
        mime: mime.to_string(),
        sha256,
        by: claims.sub.clone(),
        by_name: claims.name.clone(),
        at: crate::ids::now_ms(),
    };
    let entry = StoredMaterial {
        material: material.clone(),
        node: services.materials.node.clone(),
    };
    match services
        .materials
        .store
        .add(&room, &entry, limits.quota_bytes, MAX_MATERIALS_PER_ROOM)
        .await
    {
        Ok(Added::Stored { .. }) => {
            placed.keep();
            info!(room, id = %material.id, size, mime, "material stored");
            (StatusCode::CREATED, Json(material)).into_response()
        }
        Ok(Added::OverQuota { used_bytes }) => room_quota(used_bytes, limits.quota_bytes),
        Ok(Added::TooMany) => too_large(
            "too_many_files",
            format!(
                "the room holds {MAX_MATERIALS_PER_ROOM} files, the most it may; delete some first"
            ),
        ),
        Err(e) => store_down(e),
    }
}

fn room_quota(used: u64, quota: u64) -> Response {
    too_large(
        "room_quota",
        format!(
            "the room's files take {used} of {quota} bytes (room_materials_quota_bytes); this one does not fit"
        ),
    )
}

fn unsupported(message: String) -> Response {
    api_error(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_type",
        message,
    )
}

fn store_down(e: impl std::fmt::Display) -> Response {
    api_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        format!("the room's files are unavailable right now: {e}"),
    )
}

/// `GET /v1/rooms/{room}/materials/{id}`.
pub(super) async fn download(
    State(relay): State<Relay>,
    Path((room, id)): Path<(String, String)>,
    method: axum::http::Method,
    headers: HeaderMap,
) -> Response {
    if let Err(response) = authorize(&relay, &headers, &room) {
        return response;
    }
    let not_found = || {
        api_error(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no file {id} in this room"),
        )
    };
    if !is_material_id(&id) {
        return not_found();
    }
    let m = &relay.features.materials;
    let entry = match m.store.get(&room, &id).await {
        Ok(Some(e)) => e,
        Ok(None) => return not_found(),
        Err(e) => return store_down(e),
    };
    match m.files.open_read(&id).await {
        Ok(Some((file, len))) => return serve(file, len, &entry.material, &headers).await,
        Ok(None) => {}
        Err(e) => {
            warn!(id, error = %e, "a stored file cannot be read");
            return store_down(e);
        }
    }
    let forwarded = headers.contains_key(FORWARDED_HEADER);
    match &relay.cluster {
        Some(cluster) if !forwarded && entry.node != cluster.node_id => {
            fetch_from_peer(cluster, &entry.node, &room, &id, &method, &headers).await
        }
        _ => api_error(
            StatusCode::GONE,
            "file_missing",
            format!("the bytes of {id} are missing on the relay that held them"),
        ),
    }
}

/// Pass the request on to the node that holds the file, and its answer back.
async fn fetch_from_peer(
    cluster: &Arc<crate::cluster::Cluster>,
    node: &str,
    room: &str,
    id: &str,
    method: &axum::http::Method,
    headers: &HeaderMap,
) -> Response {
    let gone = |why: String| {
        let mut r = api_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            format!("the file is temporarily unavailable: {why}; try again later"),
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
        r
    };
    let base = match cluster.internal_url_of(node).await {
        Ok(Some(url)) => url,
        Ok(None) => return gone(format!("the node that holds it ({node}) is not running")),
        Err(e) => return gone(e.to_string()),
    };
    let client = match reqwest::Client::builder()
        .connect_timeout(PEER_CONNECT_TIMEOUT)
        .read_timeout(PEER_READ_TIMEOUT)
        .build()
    {
        Ok(c) => c,
        Err(e) => return gone(e.to_string()),
    };
    let url = format!(
        "{base}/v1/rooms/{}/materials/{id}",
        percent_encoding::utf8_percent_encode(room, percent_encoding::NON_ALPHANUMERIC)
    );
    // A HEAD is passed on as a HEAD: the holder sends no body for it.
    let mut request = if method == axum::http::Method::HEAD {
        client.head(url)
    } else {
        client.get(url)
    }
    .header(FORWARDED_HEADER, "1");
    for h in [header::AUTHORIZATION, header::RANGE] {
        if let Some(v) = headers.get(&h) {
            request = request.header(h, v);
        }
    }
    let answer = match request.send().await {
        Ok(a) => a,
        Err(e) => {
            warn!(node, error = %e, "cannot fetch a file from the node that holds it");
            return gone(format!("the node that holds it ({node}) does not answer"));
        }
    };
    let mut response = Response::builder().status(answer.status().as_u16());
    for h in [
        header::CONTENT_TYPE,
        header::CONTENT_LENGTH,
        header::CONTENT_RANGE,
        header::CONTENT_DISPOSITION,
        header::ACCEPT_RANGES,
        header::ETAG,
        header::X_CONTENT_TYPE_OPTIONS,
        header::CONTENT_SECURITY_POLICY,
        header::CACHE_CONTROL,
    ] {
        if let Some(v) = answer.headers().get(h.as_str()) {
            if let Ok(v) = HeaderValue::from_bytes(v.as_bytes()) {
                response = response.header(h, v);
            }
        }
    }
    response
        .body(Body::from_stream(answer.bytes_stream()))
        .unwrap_or_else(|e| gone(e.to_string()))
}

/// A byte range asked for with `Range`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wanted {
    All,
    /// First and last byte, inclusive.
    Part(u64, u64),
    Unsatisfiable,
}

/// One `bytes=` range of a file of `len` bytes. Anything this relay does not serve as
/// a part (several ranges, other units, nonsense) gets the whole file, as RFC 9110
/// allows.
fn wanted(range: Option<&str>, len: u64) -> Wanted {
    let Some(spec) = range.and_then(|r| r.trim().strip_prefix("bytes=")) else {
        return Wanted::All;
    };
    if spec.contains(',') {
        return Wanted::All;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Wanted::All;
    };
    let (first, last) = (first.trim(), last.trim());
    match (first.parse::<u64>(), last.parse::<u64>()) {
        (Ok(f), _) if f >= len => Wanted::Unsatisfiable,
        (Ok(f), Ok(l)) if l >= f => Wanted::Part(f, l.min(len - 1)),
        (Ok(_), Ok(_)) => Wanted::All,
        (Ok(f), Err(_)) if last.is_empty() => Wanted::Part(f, len - 1),
        (Err(_), Ok(n)) if first.is_empty() => {
            if n == 0 || len == 0 {
                Wanted::Unsatisfiable
            } else {
                Wanted::Part(len.saturating_sub(n), len - 1)
            }
        }
        _ => Wanted::All,
    }
}

/// The `Content-Disposition` of a download: `attachment` with the name as ASCII (others
/// replaced) and as UTF-8 (RFC 6266).
pub fn disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded = percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC);
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

async fn serve(
    mut file: tokio::fs::File,
    len: u64,
    material: &Material,
    headers: &HeaderMap,
) -> Response {
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let mime = if material.mime.starts_with("text/") {
        format!("{}; charset=utf-8", material.mime)
    } else {
        material.mime.clone()
    };
    let mut response = Response::builder()
        .header(header::CONTENT_TYPE, mime)
        .header(header::CONTENT_DISPOSITION, disposition(&material.name))
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .header(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; sandbox",
        )
        .header(header::CACHE_CONTROL, "private, no-cache")
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::ETAG, format!("\"{}\"", material.sha256));
    let (status, first, count) = match wanted(range, len) {
        Wanted::All => (StatusCode::OK, 0, len),
        Wanted::Part(f, l) => {
            response = response.header(header::CONTENT_RANGE, format!("bytes {f}-{l}/{len}"));
            (StatusCode::PARTIAL_CONTENT, f, l - f + 1)
        }
        Wanted::Unsatisfiable => {
            let mut r = api_error(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "range_not_satisfiable",
                format!("the file is {len} bytes"),
            );
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                r.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return r;
        }
    };
    if first > 0 {
        if let Err(e) = file.seek(std::io::SeekFrom::Start(first)).await {
            return store_down(e);
        }
    }
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(file.take(count)));
    response
        .status(status)
        .header(header::CONTENT_LENGTH, count)
        .body(body)
        .unwrap_or_else(store_down)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(wanted(None, 10), Wanted::All);
        assert_eq!(wanted(Some("bytes=0-4"), 10), Wanted::Part(0, 4));
        assert_eq!(wanted(Some("bytes=5-"), 10), Wanted::Part(5, 9));
        assert_eq!(wanted(Some("bytes=-3"), 10), Wanted::Part(7, 9));
        assert_eq!(wanted(Some("bytes=-30"), 10), Wanted::Part(0, 9));
        assert_eq!(wanted(Some("bytes=8-100"), 10), Wanted::Part(8, 9));
        assert_eq!(wanted(Some("bytes=10-"), 10), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=99-200"), 10), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=-0"), 10), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=4-2"), 10), Wanted::All);
        assert_eq!(wanted(Some("bytes=0-1,4-5"), 10), Wanted::All);
        assert_eq!(wanted(Some("items=0-1"), 10), Wanted::All);
        assert_eq!(wanted(Some("bytes=x-y"), 10), Wanted::All);
        assert_eq!(
            wanted(Some("bytes=18446744073709551615-"), 10),
            Wanted::Unsatisfiable
        );
    }

    #[test]
    fn names_in_the_disposition_cannot_break_out() {
        let d = disposition("a\"b\\c;\r\n.pdf");
        assert!(
            d.starts_with("attachment; filename=\"a_b_c;__.pdf\""),
            "{d}"
        );
        assert!(!d.contains('\r') && !d.contains('\n'));
        let d = disposition("Тема.pdf");
        assert!(d.contains("filename*=UTF-8''%D0%A2"), "{d}");
    }
}
