//! Questions (Q&A). Anyone asks and upvotes (once); presenters and the host close a
//! question as answered or dismissed and pin the one being answered. Every change is
//! stored ([`QuestionStore`](crate::store::QuestionStore)) before anyone hears of it;
//! the room holds a copy, read from the store on first use, so the open questions come
//! back after a presenter's reconnect, a restart, or (cluster) another node taking the
//! room.
//!
//! What a participant is told about a question is cut for them: an anonymous question's
//! asker is shown only to the host, presenters and the asker; `voted` and `mine` are
//! each participant's own.

use std::sync::Arc;

use studyhall_protocol::questions::{
    list_order, MAX_QUESTIONS_PER_ROOM, MAX_QUESTION_BYTES, QUESTIONS_PER_MINUTE,
};
use studyhall_protocol::{
    ClientMessage, ErrorCode, FeatureEvent, Question, QuestionEvent, QuestionRequest,
    QuestionState, ServerMessage,
};
use tokio::sync::{Mutex, MutexGuard};

use super::{Cx, Outcome, Refused, Reply, RoomFeature, Services, Snapshot};
use crate::ids::now_ms;
use crate::room::{ConnHandle, Outbound, Room};
use crate::store::{NewQuestion, RoomQuestions, StoredQuestion, QUESTIONS_TTL};

/// Longest question id accepted in a request (the stores' ids are far shorter).
const MAX_ID_BYTES: usize = 64;

pub struct Questions;

/// A room's questions, read from the store on first use.
#[derive(Debug, Default)]
pub struct RoomQuestionList {
    held: Mutex<Option<RoomQuestions>>,
}

fn storage(what: &str, e: crate::store::StoreError) -> Refused {
    Refused::new(
        ErrorCode::StorageUnavailable,
        format!("the questions could not be {what}: {e}"),
    )
}

impl RoomQuestionList {
    async fn load(
        &self,
        services: &Services,
        room: &str,
    ) -> Result<MutexGuard<'_, Option<RoomQuestions>>, Refused> {
        let mut held = self.held.lock().await;
        if held.is_none() {
            let list = services
                .questions
                .load(room)
                .await
                .map_err(|e| storage("loaded", e))?;
            // The room is in use again: what it holds is kept a day from now.
            if !list.questions.is_empty() {
                if let Err(e) = services.questions.touch(room, QUESTIONS_TTL).await {
                    tracing::warn!(room, error = %e, "the questions' time to live was not renewed");
                }
            }
            *held = Some(list);
        }
        Ok(held)
    }
}

/// `q` as `viewer` sees it (`sees_askers`: a host or presenter).
pub fn view(q: &StoredQuestion, pinned: Option<&str>, viewer: &str, sees_askers: bool) -> Question {
    let mine = q.asked.by == viewer;
    let shown = !q.asked.anonymous || sees_askers || mine;
    Question {
        id: q.id.clone(),
        text: q.asked.text.clone(),
        asked_at: q.asked.asked_at,
        anonymous: q.asked.anonymous,
        by: shown.then(|| q.asked.by.clone()),
        by_name: shown.then(|| q.asked.by_name.clone()),
        votes: q.voters.len() as u32,
        voted: q.voters.contains(viewer),
        mine,
        state: q.state,
        pinned: pinned == Some(q.id.as_str()),
    }
}

/// Every question of `list` as `viewer` sees them, in list order.
pub fn view_all(list: &RoomQuestions, viewer: &str, sees_askers: bool) -> Vec<Question> {
    let mut all: Vec<Question> = list
        .questions
        .iter()
        .map(|q| view(q, list.pinned.as_deref(), viewer, sees_askers))
        .collect();
    all.sort_by(list_order);
    all
}

/// Send `identity` every question of `room` as it sees them now (its role changed, so
/// who asked may now be shown, or hidden).
pub async fn retell(services: &Services, room: &Room, identity: &str) {
    let Some(role) = room.role_of(identity) else {
        return;
    };
    let list = room.feature::<RoomQuestionList>();
    let Ok(held) = list.load(services, &room.name).await else {
        return;
    };
    let Some(list) = held.as_ref() else {
        return;
    };
    for question in view_all(list, identity, role.presents()) {
        let event = ServerMessage::Feature(FeatureEvent::Questions(QuestionEvent::Question {
            request_id: None,
            question,
        }));
        room.send_to(identity, Outbound::message(&event));
    }
}

/// Tell everyone in `room` about the questions `ids` of `list`, each participant their
/// own cut; `asker` (with the request's id) gets the copy that answers its request.
fn tell(room: &Room, list: &RoomQuestions, ids: &[&str], reply_to: Option<(&str, &str)>) {
    for id in ids {
        let Some(q) = list.questions.iter().find(|q| q.id == *id) else {
            continue;
        };
        super::tell_each(room, reply_to, |p, request_id| {
            ServerMessage::Feature(FeatureEvent::Questions(QuestionEvent::Question {
                request_id,
                question: view(q, list.pinned.as_deref(), &p.identity, p.role.presents()),
            }))
        });
    }
}

fn not_found(id: &str) -> Refused {
    Refused::new(
        ErrorCode::NotFound,
        format!("no question `{id}` in this room"),
    )
}

fn check_id(id: &str) -> Result<(), Refused> {
    if id.is_empty() || id.len() > MAX_ID_BYTES {
        return Err(Refused::new(
            ErrorCode::InvalidId,
            format!("id: 1 to {MAX_ID_BYTES} bytes"),
        ));
    }
    Ok(())
}

/// The question text, checked: not empty, at most [`MAX_QUESTION_BYTES`], no control
/// characters but newline and tab (`\r\n` becomes `\n`).
fn checked_text(text: &str) -> Result<String, Refused> {
    let text = text.trim().replace("\r\n", "\n");
    if text.is_empty() {
        return Err(Refused::new(
            ErrorCode::InvalidText,
            "question text is empty",
        ));
    }
    if text.len() > MAX_QUESTION_BYTES {
        return Err(Refused::new(
            ErrorCode::InvalidText,
            format!(
                "question_bytes: a question has at most {MAX_QUESTION_BYTES} bytes (got {})",
                text.len()
            ),
        ));
    }
    if let Some(c) = studyhall_protocol::forbidden_control(&text) {
        return Err(Refused::new(
            ErrorCode::InvalidText,
            format!(
                "question text contains the control character U+{:04X}; only newline and tab are allowed",
                c as u32
            ),
        ));
    }
    Ok(text)
}

#[async_trait::async_trait]
impl RoomFeature for Questions {
    fn name(&self) -> &'static str {
        "questions"
    }

    fn kinds(&self) -> &'static [&'static str] {
        QuestionRequest::TYPES
    }

    async fn handle(&self, cx: &mut Cx<'_>, message: ClientMessage) -> Outcome {
        let request = super::own_request!(cx, message, Questions);
        let room = cx.room.clone();
        let questions = room.feature::<RoomQuestionList>();
        let store = cx.services.questions.clone();
        match request {
            QuestionRequest::QuestionAsk { text, anonymous } => {
                let text = checked_text(&text)?;
                cx.buckets
                    .questions
                    .try_take(cx.now)
                    .map_err(|wait| Refused::Limit {
                        message: format!(
                            "questions_per_minute: at most {QUESTIONS_PER_MINUTE} a minute; ask again in {} s",
                            wait.as_secs().max(1)
                        ),
                        wait,
                    })?;
                let mut held = questions.load(cx.services, &room.name).await?;
                let list = held.get_or_insert_with(Default::default);
                if list.questions.len() >= MAX_QUESTIONS_PER_ROOM {
                    return Err(Refused::new(
                        ErrorCode::LimitReached,
                        format!(
                            "questions_per_room: a room keeps at most {MAX_QUESTIONS_PER_ROOM}"
                        ),
                    ));
                }
                let asked = NewQuestion {
                    by: cx.identity.to_string(),
                    by_name: cx.name.to_string(),
                    text: cx.services.filter.mask(&text),
                    anonymous,
                    asked_at: now_ms(),
                };
                let id = store
                    .ask(&room.name, &asked, QUESTIONS_TTL)
                    .await
                    .map_err(|e| storage("saved", e))?;
                list.questions.push(StoredQuestion {
                    id: id.clone(),
                    asked,
                    state: QuestionState::Open,
                    voters: Default::default(),
                });
                let reply_to = cx.request_id.as_deref().map(|rid| (cx.identity, rid));
                tell(&room, list, &[&id], reply_to);
                // The asker's copy carried the request id: no separate ack.
                Ok(Reply::Told)
            }
            QuestionRequest::QuestionUpvote { id } => {
                check_id(&id)?;
                let mut held = questions.load(cx.services, &room.name).await?;
                let list = held.get_or_insert_with(Default::default);
                let q = list
                    .questions
                    .iter()
                    .find(|q| q.id == id)
                    .ok_or_else(|| not_found(&id))?;
                if q.state != QuestionState::Open {
                    return Err(Refused::new(
                        ErrorCode::InvalidState,
                        format!(
                            "question `{id}` is {}; only open ones take votes",
                            q.state.as_str()
                        ),
                    ));
                }
                if q.voters.contains(cx.identity) {
                    return Ok(Reply::Ack);
                }
                if store
                    .upvote(&room.name, &id, cx.identity, QUESTIONS_TTL)
                    .await
                    .map_err(|e| storage("saved", e))?
                    .is_none()
                {
                    return Err(not_found(&id));
                }
                if let Some(q) = list.questions.iter_mut().find(|q| q.id == id) {
                    q.voters.insert(cx.identity.to_string());
                }
                tell(&room, list, &[&id], None);
                Ok(Reply::Ack)
            }
            QuestionRequest::QuestionClose { id, outcome } => {
                if !cx.presents() {
                    return Err(super::only_presenters("answer or dismiss questions"));
                }
                check_id(&id)?;
                let mut held = questions.load(cx.services, &room.name).await?;
                let list = held.get_or_insert_with(Default::default);
                let q = list
                    .questions
                    .iter()
                    .find(|q| q.id == id)
                    .ok_or_else(|| not_found(&id))?;
                if q.state != QuestionState::Open {
                    // Two presenters closing one question: the first one counts.
                    return Ok(Reply::Ack);
                }
                let state = QuestionState::from(outcome);
                if store
                    .close(&room.name, &id, state, QUESTIONS_TTL)
                    .await
                    .map_err(|e| storage("saved", e))?
                    .is_none()
                {
                    return Err(not_found(&id));
                }
                if let Some(q) = list.questions.iter_mut().find(|q| q.id == id) {
                    q.state = state;
                }
                if list.pinned.as_deref() == Some(id.as_str()) {
                    list.pinned = None;
                }
                tell(&room, list, &[&id], None);
                Ok(Reply::Ack)
            }
            QuestionRequest::QuestionPin { id } => {
                if !cx.presents() {
                    return Err(super::only_presenters("pin questions"));
                }
                if let Some(id) = &id {
                    check_id(id)?;
                }
                let mut held = questions.load(cx.services, &room.name).await?;
                let list = held.get_or_insert_with(Default::default);
                if let Some(id) = &id {
                    let q = list
                        .questions
                        .iter()
                        .find(|q| q.id == *id)
                        .ok_or_else(|| not_found(id))?;
                    if q.state != QuestionState::Open {
                        return Err(Refused::new(
                            ErrorCode::InvalidState,
                            format!(
                                "question `{id}` is {}; only open ones can be pinned",
                                q.state.as_str()
                            ),
                        ));
                    }
                }
                if list.pinned == id {
                    return Ok(Reply::Ack);
                }
                store
                    .pin(&room.name, id.as_deref(), QUESTIONS_TTL)
                    .await
                    .map_err(|e| storage("saved", e))?;
                let before = std::mem::replace(&mut list.pinned, id.clone());
                let changed: Vec<&str> =
                    before.iter().chain(id.iter()).map(String::as_str).collect();
                tell(&room, list, &changed, None);
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
        // (`you` is set by `features::snapshot` for every joiner.)
        match room
            .feature::<RoomQuestionList>()
            .load(services, &room.name)
            .await
        {
            Ok(held) => {
                if let Some(list) = held.as_ref() {
                    into.features.questions = view_all(list, &you.identity, you.role.presents());
                }
            }
            Err(refused) => super::warn_refused(services, conn, refused),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::Harness;
    use super::*;
    use studyhall_protocol::{LectureRequest, QuestionOutcome};

    fn ask(text: &str, anonymous: bool) -> ClientMessage {
        QuestionRequest::QuestionAsk {
            text: text.into(),
            anonymous,
        }
        .into()
    }

    fn questions_of(msgs: &[serde_json::Value]) -> Vec<serde_json::Value> {
        msgs.iter()
            .filter(|m| m["type"] == "question")
            .map(|m| m["question"].clone())
            .collect()
    }

    fn refused_code(outcome: Outcome) -> ErrorCode {
        match outcome {
            Err(Refused::Error { code, .. }) => code,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn an_anonymous_question_hides_its_asker_from_students_only() {
        let (h, mut host) = Harness::new();
        let mut ada = h.join("ada");
        let mut bob = h.join("bob");
        let mut pat = h.join("pat");
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
            h.room.role_of("pat"),
            Some(studyhall_protocol::Role::Presenter)
        );
        for m in [&mut host, &mut ada, &mut bob, &mut pat] {
            m.drain();
        }

        assert_eq!(
            h.send(&mut ada, ask("  Why is the sky blue?  ", true))
                .await,
            Ok(Reply::Told)
        );
        let to_ada = ada.drain();
        assert_eq!(
            to_ada[0]["request_id"], "t1",
            "the asker's copy answers the request"
        );
        let mine = &questions_of(&to_ada)[0];
        assert_eq!(
            (mine["mine"].clone(), mine["by"].clone()),
            (true.into(), "ada".into())
        );
        assert_eq!(mine["text"], "Why is the sky blue?");
        let to_bob = questions_of(&bob.drain());
        assert!(
            to_bob[0]["by"].is_null() && to_bob[0]["by_name"].is_null(),
            "{to_bob:?}"
        );
        assert!(bob.drain().is_empty());
        for m in [&mut host, &mut pat] {
            let q = &questions_of(&m.drain())[0];
            assert_eq!(q["by"], "ada", "the host and presenters see who asked");
            assert_eq!(q["request_id"], serde_json::Value::Null);
        }
    }

    #[tokio::test]
    async fn votes_count_once_and_only_presenters_close_and_pin() {
        let (h, mut host) = Harness::new();
        let mut ada = h.join("ada");
        let mut bob = h.join("bob");
        h.send(&mut ada, ask("first", false)).await.unwrap();
        h.send(&mut ada, ask("second", false)).await.unwrap();
        let id = questions_of(&ada.drain())[1]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let up = || -> ClientMessage { QuestionRequest::QuestionUpvote { id: id.clone() }.into() };
        h.send(&mut bob, up()).await.unwrap();
        h.send(&mut bob, up()).await.unwrap();
        h.send(&mut host, up()).await.unwrap();
        let seen = questions_of(&bob.drain());
        assert_eq!(seen.last().unwrap()["votes"], 2, "{seen:?}");
        assert_eq!(seen.last().unwrap()["voted"], true);
        let unknown: ClientMessage = QuestionRequest::QuestionUpvote { id: "nope".into() }.into();
        assert_eq!(
            refused_code(h.send(&mut bob, unknown).await),
            ErrorCode::NotFound
        );

        let close = |outcome| -> ClientMessage {
            QuestionRequest::QuestionClose {
                id: id.clone(),
                outcome,
            }
            .into()
        };
        let pin =
            |id: Option<String>| -> ClientMessage { QuestionRequest::QuestionPin { id }.into() };
        assert_eq!(
            refused_code(h.send(&mut bob, close(QuestionOutcome::Answered)).await),
            ErrorCode::Forbidden
        );
        assert_eq!(
            refused_code(h.send(&mut bob, pin(Some(id.clone()))).await),
            ErrorCode::Forbidden
        );
        h.send(&mut host, pin(Some(id.clone()))).await.unwrap();
        h.send(&mut host, close(QuestionOutcome::Answered))
            .await
            .unwrap();
        h.send(&mut host, close(QuestionOutcome::Dismissed))
            .await
            .unwrap();
        assert_eq!(
            refused_code(h.send(&mut bob, up()).await),
            ErrorCode::InvalidState,
            "a closed question takes no votes"
        );
        assert_eq!(
            refused_code(h.send(&mut host, pin(Some(id.clone()))).await),
            ErrorCode::InvalidState
        );

        // A joiner's snapshot: everything, in list order, as they see it.
        let list = h.room.feature::<RoomQuestionList>();
        let held = list.held.lock().await;
        let all = view_all(held.as_ref().unwrap(), "bob", false);
        assert_eq!(all[0].state, QuestionState::Answered);
        assert_eq!(
            (all[0].votes, all[0].voted, all[0].pinned),
            (2, true, false)
        );
        assert_eq!(all[1].text, "first");
        drop(held);
        // What was stored is what the room holds.
        let stored = h.services.questions.load("r").await.unwrap();
        assert_eq!(stored.questions[1].state, QuestionState::Answered);
        assert_eq!(stored.pinned, None);
    }

    #[tokio::test]
    async fn bad_questions_and_floods_get_named_errors() {
        let (h, _host) = Harness::new();
        let mut ada = h.join("ada");
        assert_eq!(
            refused_code(h.send(&mut ada, ask("   ", false)).await),
            ErrorCode::InvalidText
        );
        let long = "x".repeat(MAX_QUESTION_BYTES + 1);
        match h.send(&mut ada, ask(&long, false)).await {
            Err(Refused::Error {
                code: ErrorCode::InvalidText,
                message,
            }) => {
                assert!(message.starts_with("question_bytes"), "{message}")
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            refused_code(h.send(&mut ada, ask("a\u{7}b", false)).await),
            ErrorCode::InvalidText
        );
        for i in 0..QUESTIONS_PER_MINUTE {
            h.send(&mut ada, ask(&format!("q{i}"), false))
                .await
                .unwrap();
        }
        match h.send(&mut ada, ask("one too many", false)).await {
            Err(Refused::Limit { message, wait }) => {
                assert!(message.starts_with("questions_per_minute"), "{message}");
                assert!(wait > std::time::Duration::from_secs(5), "{wait:?}");
            }
            other => panic!("{other:?}"),
        }
        let stored = h.services.questions.load("r").await.unwrap();
        assert_eq!(
            stored.questions.len(),
            QUESTIONS_PER_MINUTE as usize,
            "nothing refused was kept"
        );
    }
}
