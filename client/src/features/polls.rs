//! Polls from a participant's side: launch (presenters and the host), vote once, close,
//! and the room's polls as the relay last showed them to this participant.

use studyhall_protocol::{
    ClientMessage, Poll, PollDraft, PollEvent, PollKind, PollRequest, PollState,
};

use crate::session::{RoomSession, SessionError};

impl RoomSession {
    /// Presenters and the host: launch a poll (answered when the relay has stored it).
    pub async fn launch_poll(&self, poll: PollDraft) -> Result<(), SessionError> {
        self.acked(PollRequest::PollLaunch { poll }.into()).await
    }

    /// Vote in a poll (indexes into its options).
    pub async fn vote(&self, id: &str, choices: &[u32]) -> Result<(), SessionError> {
        self.acked(
            PollRequest::PollVote {
                id: id.to_string(),
                choices: choices.to_vec(),
            }
            .into(),
        )
        .await
    }

    /// Presenters and the host: close a poll.
    pub async fn close_poll(&self, id: &str) -> Result<(), SessionError> {
        self.acked(PollRequest::PollClose { id: id.to_string() }.into())
            .await
    }
}

/// The room's polls, first launched first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollList(pub Vec<Poll>);

impl PollList {
    pub fn open(&self) -> Option<&Poll> {
        self.0.iter().find(|p| p.state == PollState::Open)
    }

    pub fn apply(&mut self, event: &PollEvent) -> bool {
        let PollEvent::Poll { poll, .. } = event;
        match self.0.iter_mut().find(|p| p.id == poll.id) {
            Some(p) if p == poll => false,
            Some(p) => {
                *p = poll.clone();
                true
            }
            None => {
                self.0.push(poll.clone());
                true
            }
        }
    }
}

pub fn describe(event: &PollEvent) -> String {
    let PollEvent::Poll { poll, .. } = event;
    let state = match poll.state {
        PollState::Open => "open",
        PollState::Closed => "closed",
    };
    let mut line = format!(
        "poll {} [{state}] {} votes: {}",
        poll.id, poll.votes, poll.question
    );
    if let Some(results) = &poll.results {
        let parts: Vec<String> = poll
            .options
            .iter()
            .zip(results)
            .map(|(o, n)| format!("{o} {n}"))
            .collect();
        line.push_str(&format!(" — {}", parts.join(", ")));
    }
    line
}

/// Command-line options of polls.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PollArgs {
    /// Presenters and the host: launch a poll once joined, as
    /// `QUESTION|OPTION|OPTION...` (single choice, anonymous).
    #[arg(long, value_name = "QUESTION|OPTIONS")]
    pub poll: Option<String>,
    /// Vote for this option (0 is the first) in every open poll as it arrives.
    #[arg(long, value_name = "N")]
    pub vote: Option<u32>,
}

impl PollArgs {
    pub fn requests(&self) -> anyhow_free::Result<Vec<ClientMessage>> {
        let Some(spec) = &self.poll else {
            return Ok(vec![]);
        };
        let mut parts = spec.split('|').map(str::trim);
        let question = parts.next().unwrap_or_default().to_string();
        let options: Vec<String> = parts.map(str::to_string).collect();
        let draft = PollDraft {
            question,
            options,
            kind: PollKind::Single,
            anonymous: true,
        };
        studyhall_protocol::polls::check_draft(&draft).map_err(|(_, m)| format!("--poll: {m}"))?;
        Ok(vec![PollRequest::PollLaunch { poll: draft }.into()])
    }

    /// The vote `--vote` sends for the open poll, once per poll.
    pub fn votes(&self, list: &PollList, sent: &mut Vec<String>) -> Vec<ClientMessage> {
        let (Some(choice), Some(open)) = (self.vote, list.open()) else {
            return vec![];
        };
        if !open.your_choices.is_empty() || sent.contains(&open.id) {
            return vec![];
        }
        sent.push(open.id.clone());
        vec![PollRequest::PollVote {
            id: open.id.clone(),
            choices: vec![choice],
        }
        .into()]
    }
}

/// Results as `Result<T, String>`: the CLI turns the message into its own error.
pub mod anyhow_free {
    pub type Result<T> = std::result::Result<T, String>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_poll_is_parsed_from_the_command_line_and_voted_once() {
        let args = PollArgs {
            poll: Some("Which is prime? | 4 | 7".into()),
            vote: Some(1),
        };
        let requests = args.requests().unwrap();
        let ClientMessage::Feature(studyhall_protocol::FeatureRequest::Polls(
            PollRequest::PollLaunch { poll },
        )) = &requests[0]
        else {
            panic!("{requests:?}")
        };
        assert_eq!(poll.options, ["4", "7"]);
        let bad = PollArgs {
            poll: Some("Only one|x".into()),
            vote: None,
        };
        assert!(bad.requests().unwrap_err().contains("options"));

        let open = Poll {
            id: "p1".into(),
            question: "q".into(),
            options: vec!["a".into(), "b".into()],
            kind: PollKind::Single,
            anonymous: true,
            by: "pat".into(),
            opened_at: 1,
            closed_at: None,
            state: PollState::Open,
            votes: 0,
            results: None,
            voters: None,
            your_choices: vec![],
        };
        let mut list = PollList::default();
        assert!(list.apply(&PollEvent::Poll {
            request_id: None,
            poll: open
        }));
        let mut sent = vec![];
        assert_eq!(args.votes(&list, &mut sent).len(), 1);
        assert!(args.votes(&list, &mut sent).is_empty());
    }
}
