//! A participant's view of the lecture's questions over a real socket: the client
//! library's [`QuestionList`] fed with everything the relay sends.

use studyhall_client::features::questions::QuestionList;
use studyhall_client::{JoinInfo, SignalClient};
use studyhall_protocol::{
    ClientFrame, ClientMessage, ErrorCode, FeatureEvent, Question, QuestionEvent, QuestionOutcome,
    QuestionRequest, QuestionState, Role, ServerMessage,
};

use crate::WAIT;

pub struct QuestionsView {
    pub client: SignalClient,
    pub list: QuestionList,
    pub role: Role,
    identity: String,
    next_id: u32,
}

impl QuestionsView {
    pub fn new(client: SignalClient, info: &JoinInfo) -> Self {
        QuestionsView {
            client,
            list: QuestionList::new(&info.features.questions),
            role: info.you.role,
            identity: info.you.identity.clone(),
            next_id: 0,
        }
    }

    async fn pump(&mut self, what: &str, deadline: tokio::time::Instant) -> ServerMessage {
        let msg = match tokio::time::timeout_at(deadline, self.client.recv()).await {
            Err(_) => panic!("{}: timed out waiting for {what}", self.identity),
            Ok(Err(e)) => panic!(
                "{}: connection ended waiting for {what}: {e}",
                self.identity
            ),
            Ok(Ok(msg)) => msg,
        };
        match &msg {
            ServerMessage::Feature(FeatureEvent::Questions(event)) => {
                self.list.apply(event);
            }
            ServerMessage::ParticipantUpdated { participant }
                if participant.identity == self.identity =>
            {
                self.role = participant.role;
            }
            _ => {}
        }
        msg
    }

    /// Send `request`; `Ok` when answered (its ack, or the `question` that carries its
    /// id), the error's code and message when refused.
    pub async fn send(&mut self, request: ClientMessage) -> Result<(), (ErrorCode, String)> {
        self.next_id += 1;
        let id = format!("q{}", self.next_id);
        self.client
            .send_frame(&ClientFrame::with_request_id(request, &id))
            .await
            .expect("send");
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match self.pump(&format!("the answer to {id}"), deadline).await {
                ServerMessage::Ack { request_id } if request_id == id => return Ok(()),
                ServerMessage::Feature(FeatureEvent::Questions(QuestionEvent::Question {
                    request_id: Some(r),
                    ..
                })) if r == id => return Ok(()),
                ServerMessage::Error {
                    code,
                    message,
                    request_id: Some(r),
                    ..
                } if r == id => return Err((code, message)),
                _ => {}
            }
        }
    }

    pub async fn ask(&mut self, text: &str, anonymous: bool) -> Question {
        self.send(
            QuestionRequest::QuestionAsk {
                text: text.into(),
                anonymous,
            }
            .into(),
        )
        .await
        .expect("question asked");
        self.list
            .0
            .iter()
            .filter(|q| q.mine && q.text == text)
            .max_by_key(|q| q.asked_at)
            .cloned()
            .expect("the asked question came back")
    }

    pub async fn upvote(&mut self, id: &str) -> Result<(), (ErrorCode, String)> {
        self.send(QuestionRequest::QuestionUpvote { id: id.into() }.into())
            .await
    }

    pub async fn close(
        &mut self,
        id: &str,
        outcome: QuestionOutcome,
    ) -> Result<(), (ErrorCode, String)> {
        self.send(
            QuestionRequest::QuestionClose {
                id: id.into(),
                outcome,
            }
            .into(),
        )
        .await
    }

    /// Take messages until `done` holds for the list.
    pub async fn until(&mut self, what: &str, done: impl Fn(&QuestionList) -> bool) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while !done(&self.list) {
            self.pump(what, deadline).await;
        }
    }

    /// The ids of the open questions, in list order.
    pub fn open_ids(&self) -> Vec<String> {
        self.list.open().map(|q| q.id.clone()).collect()
    }
}

/// The ids of `questions` that are open, in the order given.
pub fn open_ids(questions: &[Question]) -> Vec<String> {
    questions
        .iter()
        .filter(|q| q.state == QuestionState::Open)
        .map(|q| q.id.clone())
        .collect()
}
