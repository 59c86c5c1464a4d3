//! Polls (see [`studyhall_protocol::polls`]). A room's polls are one value in the
//! room-state store, [`STORE_KEY`], written before anyone hears of a change: the open
//! poll and its votes outlive reconnects, a restart and (cluster) the room's node. The
//! room keeps a copy, read on first use. Each participant is told their own cut.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use studyhall_protocol::polls::{check_choices, check_draft, MAX_CLOSED_POLLS};
use studyhall_protocol::{
    ClientMessage, ErrorCode, FeatureEvent, Poll, PollDraft, PollEvent, PollRequest, PollState,
    ServerMessage,
};
use tokio::sync::{Mutex, MutexGuard};

use super::{Cx, Outcome, Refused, Reply, RoomFeature, Services, Snapshot};
use crate::ids::now_ms;
use crate::room::{ConnHandle, Room};
use crate::store::room_state::MAX_VALUE_BYTES;

/// The room-state key the polls are kept under.
pub const STORE_KEY: &str = "polls";

pub struct Polls;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Ballot {
    identity: String,
    name: String,
    choices: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct StoredPoll {
    id: String,
    draft: PollDraft,
    by: String,
    opened_at: u64,
    #[serde(default)]
    closed_at: Option<u64>,
    /// First vote first.
    #[serde(default)]
    ballots: Vec<Ballot>,
}

impl StoredPoll {
    fn is_open(&self) -> bool {
        self.closed_at.is_none()
    }

    /// The poll as `viewer` (a host or presenter when `presents`) sees it.
    fn view(&self, viewer: &str, presents: bool) -> Poll {
        let closed = !self.is_open();
        let mut counts = vec![0u32; self.draft.options.len()];
        for ballot in &self.ballots {
            for &c in &ballot.choices {
                if let Some(n) = counts.get_mut(c as usize) {
                    *n += 1;
                }
            }
        }
        Poll {
            id: self.id.clone(),
            question: self.draft.question.clone(),
            options: self.draft.options.clone(),
            kind: self.draft.kind,
            anonymous: self.draft.anonymous,
            by: self.by.clone(),
            opened_at: self.opened_at,
            closed_at: self.closed_at,
            state: if closed {
                PollState::Closed
            } else {
                PollState::Open
            },
            votes: self.ballots.len() as u32,
            results: (presents || closed).then_some(counts),
            voters: (presents && !self.draft.anonymous).then(|| {
                self.ballots
                    .iter()
                    .map(|b| studyhall_protocol::polls::PollVoter {
                        identity: b.identity.clone(),
                        name: b.name.clone(),
                        choices: b.choices.clone(),
                    })
                    .collect()
            }),
            your_choices: self
                .ballots
                .iter()
                .find(|b| b.identity == viewer)
                .map(|b| b.choices.clone())
                .unwrap_or_default(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct StoredPolls {
    /// The number of the next poll (ids are never reused in a room).
    next: u64,
    /// First launched first.
    polls: Vec<StoredPoll>,
}

impl StoredPolls {
    fn open(&self) -> Option<&StoredPoll> {
        self.polls.iter().find(|p| p.is_open())
    }

    /// Forget the oldest closed polls beyond [`MAX_CLOSED_POLLS`], and more while the
    /// whole would not fit one stored value.
    fn trim(&mut self) {
        let closed = self.polls.iter().filter(|p| !p.is_open()).count();
        let mut extra = closed.saturating_sub(MAX_CLOSED_POLLS);
        loop {
            if extra == 0 {
                let size = serde_json::to_string(self).map_or(0, |s| s.len());
                if size <= MAX_VALUE_BYTES || !self.polls.iter().any(|p| !p.is_open()) {
                    return;
                }
                extra = 1;
            }
            if let Some(i) = self.polls.iter().position(|p| !p.is_open()) {
                self.polls.remove(i);
            }
            extra -= 1;
        }
    }
}

/// A room's polls, read from the store on first use.
#[derive(Debug, Default)]
pub struct RoomPolls {
    held: Mutex<Option<StoredPolls>>,
}

impl RoomPolls {
    async fn load(
        &self,
        services: &Services,
        room: &str,
    ) -> Result<MutexGuard<'_, Option<StoredPolls>>, Refused> {
        let mut held = self.held.lock().await;
        if held.is_none() {
            *held = Some(super::load_state(services, room, STORE_KEY).await?);
        }
        Ok(held)
    }
}

/// Tell everyone in `room` about `poll`, each their own cut; the launcher's copy
/// answers its request.
fn tell(room: &Room, poll: &StoredPoll, reply_to: Option<(&str, &str)>) {
    super::tell_each(room, reply_to, |p, request_id| {
        ServerMessage::Feature(FeatureEvent::Polls(PollEvent::Poll {
            request_id,
            poll: poll.view(&p.identity, p.role.presents()),
        }))
    });
}

fn not_found(id: &str) -> Refused {
    Refused::new(ErrorCode::NotFound, format!("no poll `{id}` in this room"))
}

#[async_trait::async_trait]
impl RoomFeature for Polls {
    fn name(&self) -> &'static str {
        "polls"
    }

    fn kinds(&self) -> &'static [&'static str] {
        PollRequest::TYPES
    }

    async fn handle(&self, cx: &mut Cx<'_>, message: ClientMessage) -> Outcome {
        let request = super::own_request!(cx, message, Polls);
        let room = cx.room.clone();
        let polls = room.feature::<RoomPolls>();
        match request {
            PollRequest::PollLaunch { poll: draft } => {
                if !cx.presents() {
                    return Err(super::only_presenters("launch polls"));
                }
                let draft = PollDraft {
                    question: draft.question.trim().to_string(),
                    options: draft.options.iter().map(|o| o.trim().to_string()).collect(),
                    ..draft
                };
                check_draft(&draft).map_err(|(code, message)| Refused::new(code, message))?;
                let mut held = polls.load(cx.services, &room.name).await?;
                let mut next = held.clone().unwrap_or_default();
                if let Some(open) = next.open() {
                    return Err(Refused::new(
                        ErrorCode::InvalidState,
                        format!(
                            "poll `{}` is open; close it before launching another",
                            open.id
                        ),
                    ));
                }
                next.next += 1;
                let poll = StoredPoll {
                    id: format!("p{}", next.next),
                    draft: PollDraft {
                        question: cx.services.filter.mask(&draft.question),
                        options: draft
                            .options
                            .iter()
                            .map(|o| cx.services.filter.mask(o))
                            .collect(),
                        ..draft
                    },
                    by: cx.identity.to_string(),
                    opened_at: now_ms(),
                    closed_at: None,
                    ballots: vec![],
                };
                next.polls.push(poll.clone());
                next.trim();
                super::save_state(cx.services, &room.name, STORE_KEY, &next).await?;
                *held = Some(next);
                let reply_to = cx.request_id.as_deref().map(|rid| (cx.identity, rid));
                tell(&room, &poll, reply_to);
                Ok(Reply::Told)
            }
            PollRequest::PollVote { id, choices } => {
                let mut held = polls.load(cx.services, &room.name).await?;
                let mut next = held.clone().unwrap_or_default();
                let poll = next
                    .polls
                    .iter_mut()
                    .find(|p| p.id == id)
                    .ok_or_else(|| not_found(&id))?;
                if !poll.is_open() {
                    return Err(Refused::new(
                        ErrorCode::InvalidState,
                        format!("poll `{id}` is closed"),
                    ));
                }
                check_choices(&choices, poll.draft.options.len(), poll.draft.kind)
                    .map_err(|m| Refused::new(ErrorCode::OutOfRange, m))?;
                if poll.ballots.iter().any(|b| b.identity == cx.identity) {
                    // Voting twice counts once.
                    return Ok(Reply::Ack);
                }
                let mut sorted = choices;
                sorted.sort_unstable();
                poll.ballots.push(Ballot {
                    identity: cx.identity.to_string(),
                    name: cx.name.to_string(),
                    choices: sorted,
                });
                let poll = poll.clone();
                // A vote grows the stored value too: old closed polls make room.
                next.trim();
                super::save_state(cx.services, &room.name, STORE_KEY, &next).await?;
                *held = Some(next);
                tell(&room, &poll, None);
                Ok(Reply::Ack)
            }
            PollRequest::PollClose { id } => {
                if !cx.presents() {
                    return Err(super::only_presenters("close polls"));
                }
                let mut held = polls.load(cx.services, &room.name).await?;
                let mut next = held.clone().unwrap_or_default();
                let poll = next
                    .polls
                    .iter_mut()
                    .find(|p| p.id == id)
                    .ok_or_else(|| not_found(&id))?;
                if !poll.is_open() {
                    return Ok(Reply::Ack);
                }
                poll.closed_at = Some(now_ms());
                let poll = poll.clone();
                next.trim();
                super::save_state(cx.services, &room.name, STORE_KEY, &next).await?;
                *held = Some(next);
                tell(&room, &poll, None);
                Ok(Reply::Ack)
            }
        }
    }

    async fn snapshot(
        &self,
        services: &Services,
        room: &Arc<Room>,
        conn: &ConnHandle,
        into: &mut Snapshot,
    ) {
        let Some(you) = into.you.clone() else {
            return;
        };
        match room.feature::<RoomPolls>().load(services, &room.name).await {
            Ok(held) => {
                if let Some(stored) = held.as_ref() {
                    into.features.polls = stored
                        .polls
                        .iter()
                        .map(|p| p.view(&you.identity, you.role.presents()))
                        .collect();
                }
            }
            Err(refused) => super::warn_refused(services, conn, refused),
        }
    }

    async fn ended(&self, services: &Services, room: &Arc<Room>) {
        // An open poll does not outlive the room: it is closed (its votes kept).
        let polls = room.feature::<RoomPolls>();
        let Ok(mut held) = polls.load(services, &room.name).await else {
            return;
        };
        let mut next = held.clone().unwrap_or_default();
        let mut changed = false;
        for poll in next.polls.iter_mut().filter(|p| p.is_open()) {
            poll.closed_at = Some(now_ms());
            changed = true;
        }
        if !changed {
            return;
        }
        next.trim();
        match super::save_state(services, &room.name, STORE_KEY, &next).await {
            Ok(()) => *held = Some(next),
            Err(refused) => {
                tracing::warn!(room = %room.name, ?refused, "the ended room's poll stayed open")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::Harness;
    use super::*;
    use studyhall_protocol::{LectureRequest, PollKind};

    fn launch(options: &[&str], kind: PollKind, anonymous: bool) -> ClientMessage {
        PollRequest::PollLaunch {
            poll: PollDraft {
                question: "Which is prime?".into(),
                options: options.iter().map(|s| s.to_string()).collect(),
                kind,
                anonymous,
            },
        }
        .into()
    }

    fn vote(id: &str, choices: &[u32]) -> ClientMessage {
        PollRequest::PollVote {
            id: id.into(),
            choices: choices.to_vec(),
        }
        .into()
    }

    fn last_poll(msgs: &[serde_json::Value]) -> serde_json::Value {
        msgs.iter()
            .rev()
            .find(|m| m["type"] == "poll")
            .map(|m| m["poll"].clone())
            .expect("a poll event")
    }

    fn code(outcome: Outcome) -> ErrorCode {
        match outcome {
            Err(Refused::Error { code, .. }) => code,
            other => panic!("expected a refusal: {other:?}"),
        }
    }

    #[tokio::test]
    async fn presenters_see_results_live_and_everyone_at_close() {
        let (h, mut host) = Harness::new();
        let mut ada = h.join("ada");
        let mut bob = h.join("bob");
        let mut pat = h.join("pat");
        assert_eq!(
            code(
                h.send(&mut ada, launch(&["2", "4"], PollKind::Single, false))
                    .await
            ),
            ErrorCode::Forbidden
        );
        h.send(
            &mut host,
            LectureRequest::SetPresenter {
                identity: "pat".into(),
                presenter: true,
            }
            .into(),
        )
        .await
        .unwrap();
        assert_eq!(
            h.send(&mut pat, launch(&["2", "4", "9"], PollKind::Single, false))
                .await,
            Ok(Reply::Told)
        );
        let mine = pat.drain();
        assert!(mine
            .iter()
            .any(|m| m["type"] == "poll" && m["request_id"] == "t1"));
        assert_eq!(
            code(
                h.send(&mut pat, launch(&["a", "b"], PollKind::Single, true))
                    .await
            ),
            ErrorCode::InvalidState,
            "one open poll at a time"
        );
        let seen = last_poll(&ada.drain());
        assert_eq!(seen["id"], "p1");
        assert!(seen["results"].is_null(), "students wait for the close");

        h.send(&mut ada, vote("p1", &[0])).await.unwrap();
        h.send(&mut ada, vote("p1", &[1])).await.unwrap();
        assert_eq!(
            code(h.send(&mut bob, vote("p1", &[0, 1])).await),
            ErrorCode::OutOfRange
        );
        assert_eq!(
            code(h.send(&mut bob, vote("p1", &[3])).await),
            ErrorCode::OutOfRange
        );
        assert_eq!(
            code(h.send(&mut bob, vote("p9", &[0])).await),
            ErrorCode::NotFound
        );
        h.send(&mut bob, vote("p1", &[2])).await.unwrap();
        let live = last_poll(&pat.drain());
        assert_eq!(
            live["results"],
            serde_json::json!([1, 0, 1]),
            "ada's second vote did not count"
        );
        assert_eq!(
            live["voters"][0]["identity"], "ada",
            "a named poll shows presenters who"
        );
        let to_bob = last_poll(&bob.drain());
        assert!(to_bob["results"].is_null() && to_bob["voters"].is_null());
        assert_eq!(
            (to_bob["votes"].clone(), to_bob["your_choices"].clone()),
            (2.into(), serde_json::json!([2]))
        );

        assert_eq!(
            code(
                h.send(&mut bob, PollRequest::PollClose { id: "p1".into() }.into())
                    .await
            ),
            ErrorCode::Forbidden
        );
        h.send(&mut pat, PollRequest::PollClose { id: "p1".into() }.into())
            .await
            .unwrap();
        let closed = last_poll(&bob.drain());
        assert_eq!(closed["state"], "closed");
        assert_eq!(closed["results"], serde_json::json!([1, 0, 1]));
        assert!(closed["voters"].is_null(), "students never see who");
        assert_eq!(
            code(h.send(&mut bob, vote("p1", &[0])).await),
            ErrorCode::InvalidState
        );

        // Kept in the store, ids not reused.
        let stored: StoredPolls = super::super::load_state(&h.services, "r", STORE_KEY)
            .await
            .unwrap();
        assert_eq!(
            (
                stored.next,
                stored.polls.len(),
                stored.polls[0].ballots.len()
            ),
            (1, 1, 2)
        );
        h.send(&mut pat, launch(&["a", "b"], PollKind::Multiple, true))
            .await
            .unwrap();
        h.send(&mut ada, vote("p2", &[1, 0])).await.unwrap();
        let multi = last_poll(&pat.drain());
        assert_eq!(
            (multi["id"].clone(), multi["results"].clone()),
            ("p2".into(), serde_json::json!([1, 1]))
        );
        assert!(multi["voters"].is_null(), "anonymous: nobody sees who");
        let _ = host.drain();
    }

    #[test]
    fn old_closed_polls_make_room() {
        let poll = |i: u64, closed: bool| StoredPoll {
            id: format!("p{i}"),
            draft: PollDraft {
                question: "q".repeat(400),
                options: vec!["o".repeat(200); 10],
                kind: PollKind::Single,
                anonymous: true,
            },
            by: "pat".into(),
            opened_at: i,
            closed_at: closed.then_some(i),
            ballots: vec![],
        };
        let mut polls = StoredPolls {
            next: 40,
            polls: (1..=40).map(|i| poll(i, i < 40)).collect(),
        };
        polls.trim();
        assert!(polls.polls.len() <= MAX_CLOSED_POLLS + 1);
        assert!(polls.open().is_some(), "the open poll stays");
        assert!(serde_json::to_string(&polls).unwrap().len() <= MAX_VALUE_BYTES);
        assert_eq!(polls.polls.last().unwrap().id, "p40");
    }
}
