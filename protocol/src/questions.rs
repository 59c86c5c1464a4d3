//! Questions (Q&A): anyone asks, anyone upvotes once, presenters and the host answer,
//! dismiss, and pin the one being answered. Open questions are kept with the room until
//! they are answered or dismissed: they outlive a presenter's reconnect and a relay
//! restart.
//!
//! A question can be anonymous: then other students do not see who asked, while the
//! host and presenters (and the asker) do. So what each participant receives about a
//! question is cut for them: `by`, `mine` and `voted` differ from one to the next.

use serde::{Deserialize, Serialize};

/// Longest question, in bytes of UTF-8.
pub const MAX_QUESTION_BYTES: usize = 1000;
/// Most questions a room keeps (open or not).
pub const MAX_QUESTIONS_PER_ROOM: usize = 500;
/// Questions one person may ask per minute (a burst of this many, then one every
/// `60 / QUESTIONS_PER_MINUTE` seconds).
pub const QUESTIONS_PER_MINUTE: u32 = 5;

/// Where a question stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum QuestionState {
    #[default]
    Open,
    Answered,
    Dismissed,
}

impl QuestionState {
    pub fn as_str(self) -> &'static str {
        match self {
            QuestionState::Open => "open",
            QuestionState::Answered => "answered",
            QuestionState::Dismissed => "dismissed",
        }
    }

    pub fn parse(s: &str) -> Option<QuestionState> {
        match s {
            "open" => Some(QuestionState::Open),
            "answered" => Some(QuestionState::Answered),
            "dismissed" => Some(QuestionState::Dismissed),
            _ => None,
        }
    }
}

/// How a presenter closes a question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum QuestionOutcome {
    Answered,
    Dismissed,
}

impl From<QuestionOutcome> for QuestionState {
    fn from(o: QuestionOutcome) -> Self {
        match o {
            QuestionOutcome::Answered => QuestionState::Answered,
            QuestionOutcome::Dismissed => QuestionState::Dismissed,
        }
    }
}

/// A question as one participant sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Question {
    /// The relay's id for it (opaque; unique in the room).
    pub id: String,
    pub text: String,
    /// When it was asked, ms since the Unix epoch.
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub asked_at: u64,
    pub anonymous: bool,
    /// Who asked; `null` when it is anonymous and you are a student who did not ask it.
    #[serde(default)]
    pub by: Option<String>,
    /// The asker's display name, on the same terms as `by`.
    #[serde(default)]
    pub by_name: Option<String>,
    pub votes: u32,
    /// Whether you upvoted it.
    pub voted: bool,
    /// Whether you asked it.
    pub mine: bool,
    pub state: QuestionState,
    /// Being answered now (at most one question of a room is).
    pub pinned: bool,
}

/// The order questions are listed in: most votes first, then the earliest asked.
pub fn list_order(a: &Question, b: &Question) -> std::cmp::Ordering {
    b.votes
        .cmp(&a.votes)
        .then(a.asked_at.cmp(&b.asked_at))
        .then_with(|| a.id.cmp(&b.id))
}

/// Requests of the questions feature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum QuestionRequest {
    /// Ask a question (anyone). The reply is the new `question`, with the `request_id`.
    QuestionAsk {
        text: String,
        /// Hide who asked from other students.
        #[serde(default)]
        anonymous: bool,
    },
    /// Upvote a question (anyone, once: a second upvote changes nothing).
    QuestionUpvote { id: String },
    /// Presenters and the host: close a question as answered or dismissed.
    QuestionClose {
        id: String,
        outcome: QuestionOutcome,
    },
    /// Presenters and the host: pin the open question being answered now, or unpin
    /// (`id: null`).
    QuestionPin {
        #[serde(default)]
        id: Option<String>,
    },
}

impl QuestionRequest {
    pub const TYPES: &'static [&'static str] = &[
        "question_ask",
        "question_upvote",
        "question_close",
        "question_pin",
    ];

    pub fn kind(&self) -> &'static str {
        match self {
            QuestionRequest::QuestionAsk { .. } => "question_ask",
            QuestionRequest::QuestionUpvote { .. } => "question_upvote",
            QuestionRequest::QuestionClose { .. } => "question_close",
            QuestionRequest::QuestionPin { .. } => "question_pin",
        }
    }
}

/// Events of the questions feature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum QuestionEvent {
    /// A question was asked or changed (votes, state, pin), as you see it. Sent to
    /// everyone; the asker's copy of a new question carries the `request_id` of the
    /// `question_ask`.
    Question {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request_id: Option<String>,
        question: Question,
    },
}

impl QuestionEvent {
    pub const TYPES: &'static [&'static str] = &["question"];
}
