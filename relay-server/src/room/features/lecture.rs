//! The lecture: presenters, study room or lecture, who may speak, the lock, and the
//! lecture's clock (see [`studyhall_protocol::lecture`]). It is kept in the room-state
//! store under [`STORE_KEY`], so it outlives reconnects and restarts (and, in a
//! cluster, the room's node). The session asks it, before a participant enters, for
//! the participant's role and whether the room takes them, and before a source is
//! turned on, whether it may be.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use studyhall_protocol::lecture::{MAX_PRESENTERS, MAX_SPEAKERS};
use studyhall_protocol::{
    ClientMessage, ErrorCode, FeatureEvent, LeaveReason, LectureEvent, LectureRequest,
    LectureState, MediaUpdate, Role, RoomMode, ServerMessage, TrackSource,
};
use tokio::sync::{Mutex, MutexGuard};

use super::hands::KEPT_THROUGH_RECONNECT;
use super::{Cx, Outcome, Refused, Reply, RoomFeature, Services, Snapshot};
use crate::ids::{self, now_ms};
use crate::room::{lock, ConnHandle, Room};

/// The room-state key the lecture is kept under.
pub const STORE_KEY: &str = "lecture";

pub struct Lecture;

/// What is stored: the state everyone sees, and who was in the room when it was locked
/// (they may come back while it is locked).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Stored {
    #[serde(flatten)]
    state: LectureState,
    #[serde(default)]
    admitted: Vec<String>,
}

/// A room's lecture, read from the store on first use.
#[derive(Debug, Default)]
pub struct RoomLecture {
    held: Mutex<Option<Stored>>,
    /// Who dropped lately (`timeout`), and when: locking admits them too.
    dropped: std::sync::Mutex<HashMap<String, Instant>>,
}

async fn read(services: &Services, room: &str) -> Result<Stored, Refused> {
    super::load_state(services, room, STORE_KEY).await
}

async fn save(services: &Services, room: &str, stored: &Stored) -> Result<(), Refused> {
    super::save_state(services, room, STORE_KEY, stored).await
}

impl RoomLecture {
    async fn load(
        &self,
        services: &Services,
        room: &str,
    ) -> Result<MutexGuard<'_, Option<Stored>>, Refused> {
        let mut held = self.held.lock().await;
        if held.is_none() {
            *held = Some(read(services, room).await?);
        }
        Ok(held)
    }

    /// The lecture as held now, if it was loaded and nobody is changing it (for the
    /// cluster mirror, which must not wait).
    pub fn peek(&self) -> Option<LectureState> {
        self.held.try_lock().ok()?.as_ref().map(|s| s.state.clone())
    }

    /// The lecture as it stands (loaded on first use).
    pub async fn state(&self, services: &Services, room: &str) -> Result<LectureState, Refused> {
        Ok(self
            .load(services, room)
            .await?
            .as_ref()
            .map(|s| s.state.clone())
            .unwrap_or_default())
    }
}

/// How the room takes someone about to enter it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admission {
    pub role: Role,
    pub lecture: LectureState,
}

/// Whether `room` takes `identity` (a host when `host`), and as what: asked before it
/// enters (its role is part of its `joined`). Refused with `room_locked` when the room
/// is locked and `identity` was not in it. A store that cannot answer admits it as a
/// member, with a warning in the log (a lecture must not be lost for a store hiccup).
pub async fn admit(
    services: &Services,
    room: Option<&Arc<Room>>,
    room_name: &str,
    identity: &str,
    host: bool,
) -> Result<Admission, Refused> {
    let stored = match room {
        Some(room) => room
            .feature::<RoomLecture>()
            .load(services, room_name)
            .await
            .map(|held| held.clone().unwrap_or_default()),
        None => read(services, room_name).await,
    };
    let stored = match stored {
        Ok(stored) => stored,
        Err(refused) => {
            tracing::warn!(
                room = room_name,
                identity,
                ?refused,
                "the lecture is unknown"
            );
            Stored::default()
        }
    };
    let known =
        room.is_some_and(|r| r.contains(identity)) || stored.admitted.iter().any(|a| a == identity);
    if stored.state.locked && !host && !known {
        return Err(Refused::new(
            ErrorCode::RoomLocked,
            "the room is locked: the host takes no new people now",
        ));
    }
    let role = if host {
        Role::Host
    } else if stored.state.is_presenter(identity) {
        Role::Presenter
    } else {
        Role::Member
    };
    Ok(Admission {
        role,
        lecture: stored.state,
    })
}

/// Whether the room is locked (an invite is not redeemed then).
pub async fn is_locked(services: &Services, room: Option<&Arc<Room>>, room_name: &str) -> bool {
    let state = match room {
        Some(room) => {
            room.feature::<RoomLecture>()
                .state(services, room_name)
                .await
        }
        None => read(services, room_name).await.map(|s| s.state),
    };
    state.is_ok_and(|s| s.locked)
}

/// Whether `identity` is a presenter of the room (read from the room when this node
/// holds it, else from the store).
pub async fn is_presenter(
    services: &Services,
    room: Option<&Arc<Room>>,
    room_name: &str,
    identity: &str,
) -> Result<bool, Refused> {
    let state = match room {
        Some(room) => {
            room.feature::<RoomLecture>()
                .state(services, room_name)
                .await?
        }
        None => read(services, room_name).await?.state,
    };
    Ok(state.is_presenter(identity))
}

/// Why `identity` may not turn `source` on now, if it may not.
pub async fn may_send(
    services: &Services,
    room: &Room,
    identity: &str,
    source: TrackSource,
) -> Result<(), String> {
    let presents = room.role_of(identity).is_some_and(Role::presents);
    let lecture = room
        .feature::<RoomLecture>()
        .state(services, &room.name)
        .await
        .unwrap_or_default();
    if lecture.may_send(identity, presents, source) {
        return Ok(());
    }
    Err(match source {
        TrackSource::Screen => {
            "this room is a lecture: only presenters and the host share their screen".into()
        }
        _ => format!(
            "this room is a lecture: the {} stays off until the host lets you speak (raise your hand)",
            if source == TrackSource::Camera { "camera" } else { "microphone" }
        ),
    })
}

/// Turn off in `room` each source of each participant that `lecture` does not allow
/// now (or, with `only_mic`, just microphones of those who are not hosts or
/// presenters); the media relay stops forwarding them.
async fn enforce(services: &Services, room: &Room, lecture: &LectureState, only_mic: bool) {
    for p in room.participants() {
        let presents = p.role.presents();
        let off = |on: bool, source| {
            if !on {
                return None;
            }
            let allowed = if only_mic {
                presents
            } else {
                lecture.may_send(&p.identity, presents, source)
            };
            (!allowed).then_some(false)
        };
        let update = MediaUpdate {
            mic: off(p.media.mic, TrackSource::Microphone),
            camera: if only_mic {
                None
            } else {
                off(p.media.camera, TrackSource::Camera)
            },
            screen: if only_mic {
                None
            } else {
                off(p.media.screen, TrackSource::Screen)
            },
        };
        if update == MediaUpdate::default() {
            continue;
        }
        let Some(conn) = room.force_media(&p.identity, update) else {
            continue;
        };
        for (source, on) in [
            (TrackSource::Microphone, update.mic),
            (TrackSource::Camera, update.camera),
            (TrackSource::Screen, update.screen),
        ] {
            if on == Some(false) {
                services
                    .media
                    .set_enabled(&room.name, &p.identity, conn, source, false)
                    .await;
            }
        }
    }
}

fn check_identity(identity: &str) -> Result<(), Refused> {
    ids::check_identity(identity)
        .map_err(|m| Refused::new(ErrorCode::InvalidId, format!("identity: {m}")))
}

/// Apply `request` to `next`; false when it changes nothing.
fn change(
    next: &mut Stored,
    request: &LectureRequest,
    room: &Room,
    dropped: &HashMap<String, Instant>,
) -> Result<bool, Refused> {
    let state = &mut next.state;
    Ok(match request {
        LectureRequest::SetPresenter {
            identity,
            presenter,
        } => {
            check_identity(identity)?;
            if *presenter == state.is_presenter(identity) {
                return Ok(false);
            }
            if *presenter {
                if state.presenters.len() >= MAX_PRESENTERS {
                    return Err(Refused::new(
                        ErrorCode::LimitReached,
                        format!("presenters: a room has at most {MAX_PRESENTERS}"),
                    ));
                }
                state.presenters.push(identity.clone());
            } else {
                state.presenters.retain(|p| p != identity);
            }
            true
        }
        LectureRequest::SetRoomMode { mode } => {
            // A lecture whose room was ended has no clock: choosing it again starts one.
            let restart = *mode == RoomMode::Lecture && state.started_at.is_none();
            if state.mode == *mode && !restart {
                return Ok(false);
            }
            state.mode = *mode;
            state.started_at = match mode {
                RoomMode::Lecture => state.started_at.or(Some(now_ms())),
                RoomMode::Study => None,
            };
            true
        }
        LectureRequest::LockRoom { locked } => {
            if state.locked == *locked {
                return Ok(false);
            }
            state.locked = *locked;
            next.admitted = if *locked {
                let mut admitted: Vec<String> = room
                    .participants()
                    .into_iter()
                    .map(|p| p.identity)
                    .collect();
                admitted.extend(dropped.keys().cloned());
                admitted.sort();
                admitted.dedup();
                admitted
            } else {
                vec![]
            };
            true
        }
        LectureRequest::MuteAll => false,
        LectureRequest::AllowSpeaking { identity, allowed } => match identity {
            None => {
                let before = (state.everyone_speaks, state.speakers.len());
                state.everyone_speaks = *allowed;
                if !allowed {
                    state.speakers.clear();
                }
                before != (state.everyone_speaks, state.speakers.len())
            }
            Some(identity) => {
                check_identity(identity)?;
                let has = state.speakers.iter().any(|s| s == identity);
                if *allowed == has {
                    return Ok(false);
                }
                if *allowed {
                    if state.speakers.len() >= MAX_SPEAKERS {
                        return Err(Refused::new(
                            ErrorCode::LimitReached,
                            format!("speakers: at most {MAX_SPEAKERS} students are let speak one by one; let everyone speak instead"),
                        ));
                    }
                    state.speakers.push(identity.clone());
                } else {
                    state.speakers.retain(|s| s != identity);
                }
                true
            }
        },
    })
}

#[async_trait::async_trait]
impl RoomFeature for Lecture {
    fn name(&self) -> &'static str {
        "lecture"
    }

    fn kinds(&self) -> &'static [&'static str] {
        LectureRequest::TYPES
    }

    async fn handle(&self, cx: &mut Cx<'_>, message: ClientMessage) -> Outcome {
        let request = super::own_request!(cx, message, Lecture);
        let room = cx.room.clone();
        let lecture = room.feature::<RoomLecture>();
        let mut held = lecture.load(cx.services, &room.name).await?;
        if let LectureRequest::MuteAll = request {
            let state = held.clone().unwrap_or_default().state;
            enforce(cx.services, &room, &state, true).await;
            return Ok(Reply::Ack);
        }
        let mut next = held.clone().unwrap_or_default();
        let dropped = {
            let now = Instant::now();
            let mut dropped = lock(&lecture.dropped);
            dropped.retain(|_, at| now.duration_since(*at) < KEPT_THROUGH_RECONNECT);
            dropped.clone()
        };
        if !change(&mut next, &request, &room, &dropped)? {
            return Ok(Reply::Ack);
        }
        save(cx.services, &room.name, &next).await?;
        *held = Some(next.clone());
        room.changed();
        // Told while holding the lecture, so two changes reach everyone in order.
        room.broadcast(
            &ServerMessage::Feature(FeatureEvent::Lecture(LectureEvent::Lecture {
                lecture: next.state.clone(),
                by: cx.identity.to_string(),
            })),
            None,
        );
        match &request {
            LectureRequest::SetPresenter {
                identity,
                presenter,
            } => {
                let role = if *presenter {
                    Role::Presenter
                } else {
                    Role::Member
                };
                let changed = room.set_role(identity, role);
                if !presenter {
                    enforce(cx.services, &room, &next.state, false).await;
                }
                drop(held);
                if changed {
                    // Who asked anonymous questions is shown to presenters only.
                    super::questions::retell(cx.services, &room, identity).await;
                }
            }
            LectureRequest::SetRoomMode { .. } | LectureRequest::AllowSpeaking { .. } => {
                enforce(cx.services, &room, &next.state, false).await;
            }
            LectureRequest::LockRoom { .. } | LectureRequest::MuteAll => {}
        }
        Ok(Reply::Ack)
    }

    async fn snapshot(
        &self,
        services: &Services,
        room: &Arc<Room>,
        conn: &ConnHandle,
        into: &mut Snapshot,
    ) {
        match room
            .feature::<RoomLecture>()
            .state(services, &room.name)
            .await
        {
            Ok(state) => into.features.lecture = state,
            Err(refused) => super::warn_refused(services, conn, refused),
        }
    }

    fn left(&self, room: &Room, identity: &str, reason: LeaveReason, now: Instant) {
        if reason == LeaveReason::Timeout {
            lock(&room.feature::<RoomLecture>().dropped).insert(identity.to_string(), now);
        }
    }

    async fn ended(&self, services: &Services, room: &Arc<Room>) {
        // The live part goes with the room: the lock, who may speak, the clock. The
        // mode and the presenters are how the room is run, and stay.
        let lecture = room.feature::<RoomLecture>();
        let Ok(mut held) = lecture.load(services, &room.name).await else {
            return;
        };
        let mut next = held.clone().unwrap_or_default();
        next.state.locked = false;
        next.admitted.clear();
        next.state.everyone_speaks = false;
        next.state.speakers.clear();
        next.state.started_at = None;
        if Some(&next) == held.as_ref() {
            return;
        }
        match save(services, &room.name, &next).await {
            Ok(()) => *held = Some(next),
            Err(refused) => {
                tracing::warn!(room = %room.name, ?refused, "the ended lecture was not cleared")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::Harness;
    use super::*;

    fn set(identity: &str, presenter: bool) -> ClientMessage {
        LectureRequest::SetPresenter {
            identity: identity.into(),
            presenter,
        }
        .into()
    }

    #[tokio::test]
    async fn the_host_names_presenters_and_everyone_sees_the_role() {
        let (h, mut host) = Harness::new();
        let mut ada = h.join("ada");
        let mut bob = h.join("bob");
        assert!(matches!(
            h.send(&mut ada, set("ada", true)).await,
            Err(Refused::Error {
                code: ErrorCode::Forbidden,
                ..
            })
        ));
        h.send(&mut host, set("ada", true)).await.unwrap();
        let seen = bob.drain();
        assert!(
            seen.iter()
                .any(|m| m["type"] == "lecture" && m["lecture"]["presenters"][0] == "ada"),
            "{seen:?}"
        );
        assert!(seen.iter().any(|m| m["type"] == "participant_updated"
            && m["participant"]["identity"] == "ada"
            && m["participant"]["role"] == "presenter"));
        // Again: nothing changes, nothing is sent.
        h.send(&mut host, set("ada", true)).await.unwrap();
        assert!(bob.drain().is_empty());
        // Someone not here yet is kept for when they come; a host stays a host.
        h.send(&mut host, set("zoe", true)).await.unwrap();
        h.send(&mut host, set("host", true)).await.unwrap();
        assert_eq!(h.room.role_of("host"), Some(Role::Host));
        let stored: LectureState = serde_json::from_str(
            &h.services
                .room_state
                .get("r", STORE_KEY)
                .await
                .unwrap()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(stored.presenters, ["ada", "zoe", "host"]);
        let zoe = admit(&h.services, None, "r", "zoe", false).await.unwrap();
        assert_eq!(zoe.role, Role::Presenter, "read from the store");

        h.send(&mut host, set("ada", false)).await.unwrap();
        assert_eq!(h.room.role_of("ada"), Some(Role::Member));
        for i in 0..MAX_PRESENTERS {
            let _ = h.send(&mut host, set(&format!("p{i}"), true)).await;
        }
        match h.send(&mut host, set("one-more", true)).await {
            Err(Refused::Error {
                code: ErrorCode::LimitReached,
                message,
            }) => {
                assert!(message.starts_with("presenters"), "{message}")
            }
            other => panic!("{other:?}"),
        }
        let _ = ada.drain();
    }
}
