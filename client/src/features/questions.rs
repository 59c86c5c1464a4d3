//! The lecture from a participant's side: presenters (the host names them) and
//! questions — ask, upvote once, and (presenters and the host) answer, dismiss and pin.
//! The list is kept as the relay last told this participant, in list order.

use std::path::PathBuf;

use studyhall_protocol::questions::list_order;
use studyhall_protocol::{
    ClientMessage, LectureEvent, LectureRequest, LectureState, Question, QuestionEvent,
    QuestionOutcome, QuestionRequest, QuestionState, Reaction, ReactionEvent, ReactionRequest,
    RoomMode,
};

use crate::session::{RoomSession, SessionError};

impl RoomSession {
    /// Host only: make `identity` a presenter, or take it back.
    pub async fn set_presenter(&self, identity: &str, presenter: bool) -> Result<(), SessionError> {
        self.acked(
            LectureRequest::SetPresenter {
                identity: identity.to_string(),
                presenter,
            }
            .into(),
        )
        .await
    }

    /// Ask a question (answered when the relay has stored it).
    pub async fn ask_question(&self, text: &str, anonymous: bool) -> Result<(), SessionError> {
        self.acked(
            QuestionRequest::QuestionAsk {
                text: text.to_string(),
                anonymous,
            }
            .into(),
        )
        .await
    }

    /// Upvote a question (a second upvote changes nothing).
    pub async fn upvote_question(&self, id: &str) -> Result<(), SessionError> {
        self.acked(QuestionRequest::QuestionUpvote { id: id.to_string() }.into())
            .await
    }

    /// Presenters and the host: close a question as answered or dismissed.
    pub async fn close_question(
        &self,
        id: &str,
        outcome: QuestionOutcome,
    ) -> Result<(), SessionError> {
        self.acked(
            QuestionRequest::QuestionClose {
                id: id.to_string(),
                outcome,
            }
            .into(),
        )
        .await
    }

    /// Presenters and the host: pin the question being answered (`None` unpins).
    pub async fn pin_question(&self, id: Option<&str>) -> Result<(), SessionError> {
        self.acked(
            QuestionRequest::QuestionPin {
                id: id.map(str::to_string),
            }
            .into(),
        )
        .await
    }
}

/// The room's questions as this participant sees them, in list order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuestionList(pub Vec<Question>);

impl QuestionList {
    pub fn new(questions: &[Question]) -> Self {
        let mut list = QuestionList(questions.to_vec());
        list.0.sort_by(list_order);
        list
    }

    pub fn open(&self) -> impl Iterator<Item = &Question> {
        self.0.iter().filter(|q| q.state == QuestionState::Open)
    }

    pub fn get(&self, id: &str) -> Option<&Question> {
        self.0.iter().find(|q| q.id == id)
    }

    /// Take in a changed or new question; true when something changed.
    pub fn apply(&mut self, event: &QuestionEvent) -> bool {
        let QuestionEvent::Question { question, .. } = event;
        match self.0.iter_mut().find(|q| q.id == question.id) {
            Some(q) if q == question => return false,
            Some(q) => *q = question.clone(),
            None => self.0.push(question.clone()),
        }
        self.0.sort_by(list_order);
        true
    }
}

/// The lecture's presenters as the relay last said.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lecture(pub LectureState);

impl Lecture {
    pub fn apply(&mut self, event: &LectureEvent) -> bool {
        let LectureEvent::Lecture { lecture, .. } = event;
        let changed = self.0 != *lecture;
        self.0 = lecture.clone();
        changed
    }
}

pub fn describe_question(event: &QuestionEvent) -> String {
    let QuestionEvent::Question { question: q, .. } = event;
    let by = match (&q.by_name, q.anonymous) {
        (Some(name), true) => format!("{name} (anonymous)"),
        (Some(name), false) => name.clone(),
        (None, _) => "anonymous".into(),
    };
    format!(
        "question {} [{}{}] {} votes, by {by}: {}",
        q.id,
        q.state.as_str(),
        if q.pinned { ", answering now" } else { "" },
        q.votes,
        q.text
    )
}

pub fn describe_lecture(event: &LectureEvent) -> String {
    let LectureEvent::Lecture { lecture, by } = event;
    let presenters = if lecture.presenters.is_empty() {
        "none".to_string()
    } else {
        lecture.presenters.join(", ")
    };
    let mut line = format!(
        "lecture: {} room, presenters {presenters}",
        match lecture.mode {
            RoomMode::Study => "study",
            RoomMode::Lecture => "lecture",
        }
    );
    if lecture.locked {
        line.push_str(", locked");
    }
    if lecture.mode == RoomMode::Lecture {
        if lecture.everyone_speaks {
            line.push_str(", everyone may speak");
        } else if !lecture.speakers.is_empty() {
            line.push_str(&format!(", speaking: {}", lecture.speakers.join(", ")));
        }
    }
    line.push_str(&format!(" (by {by})"));
    line
}

pub fn describe_reaction(event: &ReactionEvent) -> String {
    let ReactionEvent::Reaction { identity, reaction } = event;
    format!("reaction from {identity}: {}", reaction.emoji())
}

/// A room mode as typed on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ModeArg {
    Study,
    Lecture,
}

impl From<ModeArg> for RoomMode {
    fn from(m: ModeArg) -> Self {
        match m {
            ModeArg::Study => RoomMode::Study,
            ModeArg::Lecture => RoomMode::Lecture,
        }
    }
}

/// A reaction as typed on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReactionArg {
    ThumbsUp,
    Clap,
    Laugh,
    Question,
    Party,
}

impl From<ReactionArg> for Reaction {
    fn from(r: ReactionArg) -> Self {
        match r {
            ReactionArg::ThumbsUp => Reaction::ThumbsUp,
            ReactionArg::Clap => Reaction::Clap,
            ReactionArg::Laugh => Reaction::Laugh,
            ReactionArg::Question => Reaction::Question,
            ReactionArg::Party => Reaction::Party,
        }
    }
}

/// Command-line options of the lecture: presenters, the room's mode, questions and
/// reactions.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct QuestionArgs {
    /// Host only: make this identity a presenter once joined (repeatable).
    #[arg(long = "make-presenter", value_name = "IDENTITY")]
    pub make_presenter: Vec<String>,
    /// Host only: run the room as a lecture (students muted until let speak) or a study
    /// room.
    #[arg(long, value_enum, value_name = "MODE")]
    pub room_mode: Option<ModeArg>,
    /// Host only: lock the room once joined (no new people).
    #[arg(long, conflicts_with = "unlock_room")]
    pub lock_room: bool,
    /// Host only: open a locked room again once joined.
    #[arg(long)]
    pub unlock_room: bool,
    /// Send this reaction once joined (thumbs-up, clap, laugh, question, party).
    #[arg(long, value_enum, value_name = "REACTION")]
    pub react: Option<ReactionArg>,
    /// Ask this question once joined (repeatable; at most 5 a minute).
    #[arg(long = "ask", value_name = "TEXT")]
    pub ask: Vec<String>,
    /// Ask the `--ask` questions anonymously.
    #[arg(long)]
    pub ask_anonymously: bool,
    /// Upvote every open question of others, those there and those asked later.
    #[arg(long)]
    pub upvote_all: bool,
    /// Write the questions as this participant last saw them (JSON) on leaving.
    #[arg(long, value_name = "FILE")]
    pub questions_dump: Option<PathBuf>,
}

impl QuestionArgs {
    pub fn requests(&self) -> Vec<ClientMessage> {
        let mut out: Vec<ClientMessage> = vec![];
        if let Some(mode) = self.room_mode {
            out.push(LectureRequest::SetRoomMode { mode: mode.into() }.into());
        }
        if self.lock_room || self.unlock_room {
            out.push(
                LectureRequest::LockRoom {
                    locked: self.lock_room,
                }
                .into(),
            );
        }
        if let Some(reaction) = self.react {
            out.push(
                ReactionRequest::React {
                    reaction: reaction.into(),
                }
                .into(),
            );
        }
        let presenters = self.make_presenter.iter().map(|identity| {
            LectureRequest::SetPresenter {
                identity: identity.clone(),
                presenter: true,
            }
            .into()
        });
        let questions = self.ask.iter().map(|text| {
            QuestionRequest::QuestionAsk {
                text: text.clone(),
                anonymous: self.ask_anonymously,
            }
            .into()
        });
        out.extend(presenters.chain(questions));
        out
    }

    /// The upvotes `--upvote-all` sends for what `list` holds now (each question once:
    /// the list marks the ones already voted when the relay confirms).
    pub fn upvotes(&self, list: &QuestionList, sent: &mut Vec<String>) -> Vec<ClientMessage> {
        if !self.upvote_all {
            return vec![];
        }
        let new: Vec<String> = list
            .open()
            .filter(|q| !q.mine && !q.voted && !sent.contains(&q.id))
            .map(|q| q.id.clone())
            .collect();
        sent.extend(new.iter().cloned());
        new.into_iter()
            .map(|id| QuestionRequest::QuestionUpvote { id }.into())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(id: &str, votes: u32, at: u64) -> Question {
        Question {
            id: id.into(),
            text: format!("question {id}"),
            asked_at: at,
            anonymous: false,
            by: Some("ada".into()),
            by_name: Some("Ada".into()),
            votes,
            voted: false,
            mine: false,
            state: QuestionState::Open,
            pinned: false,
        }
    }

    #[test]
    fn the_list_follows_the_relay_in_vote_order() {
        let mut list = QuestionList::new(&[q("1", 0, 1), q("2", 2, 2)]);
        assert_eq!(list.0[0].id, "2", "most votes first");
        let event = QuestionEvent::Question {
            request_id: None,
            question: q("1", 3, 1),
        };
        assert!(list.apply(&event));
        assert!(
            !list.apply(&event),
            "the same question again changes nothing"
        );
        assert_eq!(list.0[0].id, "1");
        let new = QuestionEvent::Question {
            request_id: None,
            question: q("3", 0, 0),
        };
        assert!(list.apply(&new));
        let order: Vec<_> = list.0.iter().map(|q| q.id.as_str()).collect();
        assert_eq!(order, ["1", "2", "3"]);
        assert!(describe_question(&event).contains("3 votes, by Ada"));
    }

    #[test]
    fn upvote_all_votes_once_for_others_open_questions() {
        let args = QuestionArgs {
            upvote_all: true,
            ..Default::default()
        };
        let mut mine = q("m", 0, 1);
        mine.mine = true;
        let mut closed = q("c", 0, 1);
        closed.state = QuestionState::Answered;
        let list = QuestionList::new(&[mine, closed, q("o", 0, 1)]);
        let mut sent = vec![];
        assert_eq!(args.upvotes(&list, &mut sent).len(), 1);
        assert!(args.upvotes(&list, &mut sent).is_empty(), "once");
        assert_eq!(sent, ["o"]);
    }
}
