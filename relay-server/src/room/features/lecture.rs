//! The lecture: who presents. The host makes people presenters (`set_presenter`); the
//! list is kept in the room-state store, so it outlives reconnects and restarts, and a
//! participant on it joins with the role `presenter`.

use std::sync::Arc;

use studyhall_protocol::lecture::MAX_PRESENTERS;
use studyhall_protocol::{
    ClientMessage, ErrorCode, FeatureEvent, FeatureRequest, LectureEvent, LectureRequest,
    LectureState, Role, ServerMessage,
};
use tokio::sync::Mutex;

use super::{Cx, Outcome, Refused, Reply, RoomFeature, Services, Snapshot};
use crate::ids;
use crate::room::{ConnHandle, Room};
use crate::store::ROOM_STATE_TTL;

/// The room-state key the lecture is kept under.
pub const STORE_KEY: &str = "lecture";

pub struct Lecture;

/// A room's lecture state, read from the store on first use.
#[derive(Debug, Default)]
pub struct RoomLecture {
    held: Mutex<Option<LectureState>>,
}

async fn read(services: &Services, room: &str) -> Result<LectureState, Refused> {
    let stored = services
        .room_state
        .get(room, STORE_KEY)
        .await
        .map_err(|e| {
            Refused::new(
                ErrorCode::StorageUnavailable,
                format!("the lecture could not be loaded: {e}"),
            )
        })?;
    Ok(
        match stored.map(|s| serde_json::from_str::<LectureState>(&s)) {
            Some(Ok(state)) => state,
            Some(Err(e)) => {
                tracing::warn!(room, error = %e, "the stored lecture is unreadable; starting afresh");
                LectureState::default()
            }
            None => LectureState::default(),
        },
    )
}

impl RoomLecture {
    /// The lecture as it stands (loaded on first use).
    pub async fn state(&self, services: &Services, room: &str) -> Result<LectureState, Refused> {
        let mut held = self.held.lock().await;
        if held.is_none() {
            *held = Some(read(services, room).await?);
        }
        Ok(held.clone().unwrap_or_default())
    }
}

/// Whether `identity` is one of `room`'s presenters: asked before it enters the room
/// (its role is part of its `joined`). A store that cannot answer makes it a member,
/// with a warning in the log.
pub async fn is_presenter(
    services: &Services,
    room: Option<&Arc<Room>>,
    room_name: &str,
    identity: &str,
) -> bool {
    let state = match room {
        Some(room) => {
            room.feature::<RoomLecture>()
                .state(services, room_name)
                .await
        }
        None => read(services, room_name).await,
    };
    match state {
        Ok(state) => state.is_presenter(identity),
        Err(refused) => {
            tracing::warn!(room = room_name, identity, ?refused, "presenters unknown");
            false
        }
    }
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
        let ClientMessage::Feature(FeatureRequest::Lecture(request)) = message else {
            return Err(super::unhandled(message.kind()));
        };
        if !cx.is_current() {
            return Err(super::replaced());
        }
        let LectureRequest::SetPresenter {
            identity,
            presenter,
        } = request;
        if let Err(m) = ids::check_identity(&identity) {
            return Err(Refused::new(ErrorCode::InvalidId, format!("identity: {m}")));
        }
        let lecture = cx.room.feature::<RoomLecture>();
        let mut held = lecture.held.lock().await;
        if held.is_none() {
            *held = Some(read(cx.services, &cx.room.name).await?);
        }
        let mut next = held.clone().unwrap_or_default();
        if presenter == next.is_presenter(&identity) {
            return Ok(Reply::Ack);
        }
        if presenter {
            if next.presenters.len() >= MAX_PRESENTERS {
                return Err(Refused::new(
                    ErrorCode::LimitReached,
                    format!("presenters: a room has at most {MAX_PRESENTERS}"),
                ));
            }
            next.presenters.push(identity.clone());
        } else {
            next.presenters.retain(|p| *p != identity);
        }
        let json = serde_json::to_string(&next)
            .map_err(|e| Refused::new(ErrorCode::Internal, e.to_string()))?;
        cx.services
            .room_state
            .put(&cx.room.name, STORE_KEY, &json, ROOM_STATE_TTL)
            .await
            .map_err(|e| {
                Refused::new(
                    ErrorCode::StorageUnavailable,
                    format!("the lecture could not be saved: {e}"),
                )
            })?;
        *held = Some(next.clone());
        // Told while holding the lecture, so two changes reach everyone in order.
        cx.room.broadcast(
            &ServerMessage::Feature(FeatureEvent::Lecture(LectureEvent::Lecture {
                lecture: next,
                by: cx.identity.to_string(),
            })),
            None,
        );
        let role = if presenter {
            Role::Presenter
        } else {
            Role::Member
        };
        let changed = cx.room.set_role(&identity, role);
        drop(held);
        if changed {
            // Who asked anonymous questions is shown to presenters only.
            super::questions::retell(cx.services, cx.room, &identity).await;
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
        assert!(
            is_presenter(&h.services, None, "r", "zoe").await,
            "read from the store"
        );

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
