//! Polls: a presenter (or the host) launches a poll — prepared beforehand as a draft the
//! app keeps — with single or multiple choice, and anonymous or named votes. Everyone
//! votes once. Presenters and the host see the results as they come; everyone sees them
//! when the poll closes. A late joiner sees the open poll. At most one poll is open at a
//! time. Polls are kept with the room (they outlive reconnects and a relay restart); when
//! the host ends the room, an open poll is closed.
//!
//! What each participant receives about a poll is cut for them: `results` and `votes`
//! only when they may see results, `voters` (who chose what) only for presenters and the
//! host of a named poll, and `your_choices` their own.

use serde::{Deserialize, Serialize};

/// Longest poll question, in bytes of UTF-8.
pub const MAX_POLL_QUESTION_BYTES: usize = 500;
/// Longest option, in bytes of UTF-8.
pub const MAX_OPTION_BYTES: usize = 200;
/// Options of a poll: at least 2, at most this many.
pub const MAX_OPTIONS: usize = 10;
/// Closed polls a room keeps (the oldest go first).
pub const MAX_CLOSED_POLLS: usize = 20;

/// Single choice (one option) or multiple choice (one or more).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum PollKind {
    #[default]
    Single,
    Multiple,
}

/// A poll as prepared: what a presenter launches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PollDraft {
    pub question: String,
    pub options: Vec<String>,
    #[serde(default)]
    pub kind: PollKind,
    /// Votes are anonymous (nobody sees who chose what) unless this is `false`.
    #[serde(default = "yes")]
    pub anonymous: bool,
}

fn yes() -> bool {
    true
}

/// Open until a presenter closes it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum PollState {
    #[default]
    Open,
    Closed,
}

/// Who chose what, in a named poll.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PollVoter {
    pub identity: String,
    pub name: String,
    /// Indexes into `options`.
    pub choices: Vec<u32>,
}

/// A poll as one participant sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Poll {
    pub id: String,
    pub question: String,
    pub options: Vec<String>,
    pub kind: PollKind,
    pub anonymous: bool,
    /// Who launched it.
    pub by: String,
    /// ms since the Unix epoch.
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub opened_at: u64,
    #[serde(default)]
    #[cfg_attr(feature = "specta", specta(type = Option<u32>))]
    pub closed_at: Option<u64>,
    pub state: PollState,
    /// How many voted (everyone sees this).
    pub votes: u32,
    /// Votes per option, in the options' order: for presenters and the host always, for
    /// everyone once the poll is closed; `null` otherwise.
    #[serde(default)]
    pub results: Option<Vec<u32>>,
    /// Who chose what: named polls, for presenters and the host; `null` otherwise.
    #[serde(default)]
    pub voters: Option<Vec<PollVoter>>,
    /// Your vote (empty until you vote).
    #[serde(default)]
    pub your_choices: Vec<u32>,
}

/// Requests of the polls feature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PollRequest {
    /// Presenters and the host: launch a poll. The reply is the new `poll`, with the
    /// `request_id`.
    PollLaunch { poll: PollDraft },
    /// Vote in the open poll: one option (single choice) or one or more (multiple). The
    /// first vote counts; another is acknowledged and changes nothing.
    PollVote { id: String, choices: Vec<u32> },
    /// Presenters and the host: close a poll; everyone then sees its results.
    PollClose { id: String },
}

impl PollRequest {
    pub const TYPES: &'static [&'static str] = &["poll_launch", "poll_vote", "poll_close"];

    pub fn kind(&self) -> &'static str {
        match self {
            PollRequest::PollLaunch { .. } => "poll_launch",
            PollRequest::PollVote { .. } => "poll_vote",
            PollRequest::PollClose { .. } => "poll_close",
        }
    }
}

/// Events of the polls feature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PollEvent {
    /// A poll was launched, voted in or closed, as you see it. The launcher's copy of a
    /// new poll carries the `request_id` of the `poll_launch`.
    Poll {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request_id: Option<String>,
        poll: Poll,
    },
}

impl PollEvent {
    pub const TYPES: &'static [&'static str] = &["poll"];
}

/// Why a draft cannot be launched: the field and what is wrong, naming the limit.
pub fn check_draft(draft: &PollDraft) -> Result<(), (crate::ErrorCode, String)> {
    use crate::ErrorCode;
    let text = |what: &str, s: &str, max: usize| -> Result<(), (ErrorCode, String)> {
        if s.trim().is_empty() {
            return Err((ErrorCode::InvalidText, format!("{what} is empty")));
        }
        if s.len() > max {
            return Err((
                ErrorCode::InvalidText,
                format!("{what}: at most {max} bytes (got {})", s.len()),
            ));
        }
        if let Some(c) = crate::forbidden_control(s) {
            return Err((
                ErrorCode::InvalidText,
                format!("{what} holds the control character U+{:04X}", c as u32),
            ));
        }
        Ok(())
    };
    text(
        "poll_question_bytes: the question",
        &draft.question,
        MAX_POLL_QUESTION_BYTES,
    )?;
    if draft.options.len() < 2 || draft.options.len() > MAX_OPTIONS {
        return Err((
            ErrorCode::OutOfRange,
            format!(
                "options: a poll has 2 to {MAX_OPTIONS} options (got {})",
                draft.options.len()
            ),
        ));
    }
    for (i, option) in draft.options.iter().enumerate() {
        text(
            &format!("option_bytes: option {i}"),
            option,
            MAX_OPTION_BYTES,
        )?;
    }
    Ok(())
}

/// Why `choices` is not a valid vote in a poll of `options` options and `kind`.
pub fn check_choices(choices: &[u32], options: usize, kind: PollKind) -> Result<(), String> {
    if choices.is_empty() {
        return Err("choices: choose at least one option".into());
    }
    if kind == PollKind::Single && choices.len() > 1 {
        return Err("choices: this poll takes one option".into());
    }
    let mut seen = std::collections::BTreeSet::new();
    for &c in choices {
        if c as usize >= options {
            return Err(format!(
                "choices: option {c} does not exist (the poll has {options})"
            ));
        }
        if !seen.insert(c) {
            return Err(format!("choices: option {c} is chosen twice"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(options: &[&str]) -> PollDraft {
        PollDraft {
            question: "Which proof?".into(),
            options: options.iter().map(|s| s.to_string()).collect(),
            kind: PollKind::Single,
            anonymous: true,
        }
    }

    #[test]
    fn drafts_and_votes_are_checked_with_named_limits() {
        assert!(check_draft(&draft(&["a", "b"])).is_ok());
        assert!(check_draft(&draft(&["a"]))
            .unwrap_err()
            .1
            .starts_with("options"));
        let many: Vec<String> = (0..=MAX_OPTIONS).map(|i| i.to_string()).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert!(check_draft(&draft(&many)).is_err());
        let long = "x".repeat(MAX_OPTION_BYTES + 1);
        assert!(check_draft(&draft(&["a", &long]))
            .unwrap_err()
            .1
            .starts_with("option_bytes"));
        assert!(check_draft(&draft(&["a", " "])).is_err());
        let mut d = draft(&["a", "b"]);
        d.question = "q".repeat(MAX_POLL_QUESTION_BYTES + 1);
        assert!(check_draft(&d)
            .unwrap_err()
            .1
            .starts_with("poll_question_bytes"));

        assert!(check_choices(&[1], 2, PollKind::Single).is_ok());
        assert!(check_choices(&[], 2, PollKind::Single).is_err());
        assert!(check_choices(&[0, 1], 2, PollKind::Single).is_err());
        assert!(check_choices(&[0, 1], 2, PollKind::Multiple).is_ok());
        assert!(check_choices(&[2], 2, PollKind::Multiple).is_err());
        assert!(check_choices(&[1, 1], 2, PollKind::Multiple).is_err());
    }

    #[test]
    fn a_draft_is_anonymous_unless_it_says_not() {
        let d: PollDraft = serde_json::from_str(r#"{"question":"q","options":["a","b"]}"#).unwrap();
        assert!(d.anonymous);
        assert_eq!(d.kind, PollKind::Single);
    }
}
