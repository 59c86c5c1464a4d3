//! The first message of a socket: authenticate, enter the room, start media, and build
//! the `joined` welcome from every feature's snapshot.

use std::sync::atomic::Ordering;
use std::time::Instant;

use studyhall_protocol::{
    ClientFrame, ClientMessage, CloseCode, ErrorCode, Heartbeat, Limits, MediaState, Participant,
    ServerMessage, TrackSource, PROTOCOL_VERSION,
};
use tracing::{info, Instrument};

use super::{
    Refusal, Session, PUBLISH_OFFERS_PER_SECOND, PUBLISH_OFFER_BURST, VIEWS_PER_SECOND, VIEW_BURST,
};
use crate::auth::AuthError;
use crate::ids::{self, now_ms};
use crate::room::features::{self, SessionBuckets};
use crate::room::limits::{TokenBucket, Violations};
use crate::room::{ConnHandle, JoinError};
use crate::state::Relay;

impl Session {
    /// Handle the first message of a socket. On success the participant is in the room
    /// and the returned `joined` message must be sent before anything queued.
    pub async fn join(
        relay: &Relay,
        frame: ClientFrame,
        conn: ConnHandle,
        now: Instant,
    ) -> Result<(Session, ServerMessage), Refusal> {
        let request_id = frame.request_id;
        let ClientMessage::Join {
            room,
            token,
            protocol,
            media,
        } = frame.message
        else {
            return Err(Refusal::new(
                ErrorCode::NotJoined,
                format!(
                    "the first message must be `join`, not `{}`",
                    frame.message.kind()
                ),
                request_id,
                CloseCode::PROTOCOL,
            ));
        };
        if relay.is_shutting_down() {
            return Err(Refusal::new(
                ErrorCode::ShuttingDown,
                "the relay is shutting down",
                request_id,
                CloseCode::GOING_AWAY,
            ));
        }
        if protocol != PROTOCOL_VERSION {
            return Err(Refusal::new(
                ErrorCode::UnsupportedProtocol,
                format!(
                    "this relay speaks protocol {PROTOCOL_VERSION}, the client sent {protocol}"
                ),
                request_id,
                CloseCode::PROTOCOL,
            ));
        }
        if let Err(m) = ids::check_room(&room) {
            return Err(Refusal::new(
                ErrorCode::InvalidId,
                format!("room: {m}"),
                request_id,
                CloseCode::PROTOCOL,
            ));
        }
        let claims = relay.keys.verify(&token, &room).map_err(|e: AuthError| {
            Refusal::new(
                e.code(),
                e.to_string(),
                request_id.clone(),
                CloseCode::UNAUTHORIZED,
            )
        })?;
        let span = tracing::info_span!("participant", room = %room, identity = %claims.sub);
        // Joins are limited per identity: a reconnect loop would otherwise flood the room
        // with joins and leaves (and used to reset every rate limit).
        if let Err(wait) = relay.features.identities.join(&room, &claims.sub, now) {
            relay.metrics.error_sent(ErrorCode::RateLimited);
            return Err(Refusal {
                error: ServerMessage::Error {
                    request_id,
                    code: ErrorCode::RateLimited,
                    message: format!(
                        "`{}` joins this room too often; try again in {} ms",
                        claims.sub,
                        wait.as_millis().max(1)
                    ),
                    fatal: true,
                    retry_after_ms: Some(wait.as_millis().max(1) as u64),
                },
                close_code: CloseCode::RATE_LIMITED,
            });
        }

        // A group's standing room takes its members only: a room token bought before a
        // removal (or the group's deletion) no longer lets its holder in.
        if let Err(e) = relay.groups.admits(&room, &claims.sub).await {
            let code = match e {
                crate::groups::GroupError::Unavailable(_) => ErrorCode::StorageUnavailable,
                _ => ErrorCode::Banned,
            };
            relay.metrics.error_sent(code);
            return Err(Refusal::new(
                code,
                e.to_string(),
                request_id,
                CloseCode::KICKED,
            ));
        }

        // A guest a host removed stays out on the same device under a new identity, and
        // nobody but a host comes in under a present host's name.
        if let Some(live) = relay.rooms.get(&room) {
            if claims
                .device
                .as_deref()
                .is_some_and(|d| live.is_device_banned(d))
            {
                relay.metrics.error_sent(ErrorCode::Banned);
                return Err(Refusal::new(
                    ErrorCode::Banned,
                    "you were removed from this room",
                    request_id,
                    CloseCode::KICKED,
                ));
            }
            if !claims.grants.host && live.host_named(&claims.name, &claims.sub) {
                relay.metrics.error_sent(ErrorCode::Forbidden);
                return Err(Refusal::new(
                    ErrorCode::Forbidden,
                    format!(
                        "`{}` is the host's name in this room; join under another name",
                        claims.name
                    ),
                    request_id,
                    CloseCode::UNAUTHORIZED,
                ));
            }
        }
        let admission = features::lecture::admit(
            &relay.features,
            relay.rooms.get(&room).as_ref(),
            &room,
            &claims.sub,
            claims.grants.host,
        )
        .await
        .map_err(|refused| {
            let message = match refused {
                features::Refused::Error { message, .. } => message,
                _ => "the room does not take you now".into(),
            };
            relay.metrics.error_sent(ErrorCode::RoomLocked);
            Refusal::new(
                ErrorCode::RoomLocked,
                message,
                request_id.clone(),
                CloseCode::ROOM_LOCKED,
            )
        })?;
        let mut media = media;
        if !claims.grants.publish {
            media = MediaState::default();
        }
        // In a lecture a student comes in with what the host allows, and no more.
        let presents = admission.role.presents();
        let lecture = &admission.lecture;
        media.mic &= lecture.may_send(&claims.sub, presents, TrackSource::Microphone);
        media.camera &= lecture.may_send(&claims.sub, presents, TrackSource::Camera);
        media.screen &= lecture.may_send(&claims.sub, presents, TrackSource::Screen);
        let participant = Participant {
            identity: claims.sub.clone(),
            name: claims.name.clone(),
            role: admission.role,
            grants: claims.grants,
            media,
            presence: Default::default(),
            joined_at: now_ms(),
        };
        let joined = relay
            .rooms
            .join(&room, participant.clone(), conn.clone())
            .map_err(|e| match e {
                JoinError::Full { .. } => Refusal::new(
                    ErrorCode::RoomFull,
                    e.to_string(),
                    request_id.clone(),
                    CloseCode::ROOM_FULL,
                ),
                JoinError::Banned => Refusal::new(
                    ErrorCode::Banned,
                    e.to_string(),
                    request_id.clone(),
                    CloseCode::KICKED,
                ),
            })?;
        if let Some(device) = &claims.device {
            joined.room.note_device(&claims.sub, device);
        }
        relay.metrics.joins_total.fetch_add(1, Ordering::Relaxed);
        relay
            .sfu
            .join(&room, &claims.sub, conn.id, claims.grants.subscribe)
            .await;
        for (source, on) in [
            (TrackSource::Microphone, media.mic),
            (TrackSource::Camera, media.camera),
            (TrackSource::Screen, media.screen),
        ] {
            if !on {
                relay
                    .sfu
                    .set_enabled(&room, &claims.sub, conn.id, source, false)
                    .await;
            }
        }
        span.in_scope(|| {
            info!(
                replaced = joined.replaced,
                participants = joined.participants.len(),
                "joined"
            )
        });

        // Each feature's state is read after entering the room: a change made in between
        // may arrive both in the snapshot and as an event (clients de-duplicate), but none
        // can fall between the two.
        let snapshot = features::snapshot(&relay.features, &joined.room, &conn, &participant)
            .instrument(span.clone())
            .await;
        let config = &relay.config;
        let welcome = ServerMessage::Joined {
            request_id,
            protocol: PROTOCOL_VERSION,
            server_version: env!("CARGO_PKG_VERSION").to_string(),
            room: room.clone(),
            you: participant,
            participants: joined.participants,
            chat: snapshot.chat,
            limits: Limits {
                max_message_bytes: config.max_message_bytes,
                max_sdp_message_bytes: config.max_message_bytes
                    * studyhall_protocol::SDP_MESSAGE_FACTOR,
                max_chat_bytes: config.max_chat_bytes,
                messages_per_second: config.messages_per_second,
                message_burst: config.message_burst,
                chat_per_second: config.chat_per_second,
                chat_burst: config.chat_burst,
                max_room_size: config.max_room_size,
                max_history_page: config.max_history_page,
            },
            heartbeat: Heartbeat {
                interval_ms: config.heartbeat_interval.as_millis() as u64,
                timeout_ms: config.heartbeat_timeout.as_millis() as u64,
            },
            features: snapshot.features,
        };
        let kept = relay.features.identities.take(&room, &claims.sub, now);
        let session = Session {
            relay: relay.clone(),
            room: joined.room,
            identity: claims.sub,
            name: claims.name,
            grants: claims.grants,
            // The identity's last connection's rate limits, if it had one lately: a
            // reconnect resets nothing.
            signal_bucket: kept.as_ref().map(|k| k.signal.clone()).unwrap_or_else(|| {
                TokenBucket::new(config.messages_per_second, config.message_burst, now)
            }),
            buckets: kept
                .as_ref()
                .map(|k| k.features.clone())
                .unwrap_or_else(|| SessionBuckets::new(&relay.features.limits, now)),
            publish_bucket: kept.as_ref().map(|k| k.publish.clone()).unwrap_or_else(|| {
                TokenBucket::new(PUBLISH_OFFERS_PER_SECOND, PUBLISH_OFFER_BURST, now)
            }),
            view_bucket: kept
                .map(|k| k.view)
                .unwrap_or_else(|| TokenBucket::new(VIEWS_PER_SECOND, VIEW_BURST, now)),
            violations: Violations::new(config.violations_before_disconnect),
            conn,
            span,
        };
        Ok((session, welcome))
    }
}
