//! A participant's view of the whiteboard over a real socket: the client library's
//! [`RoomBoard`] fed with everything the relay sends.

use studyhall_client::features::board::RoomBoard;
use studyhall_client::SignalClient;
use studyhall_protocol::{
    Board, BoardEvent, BoardRequest, BoardSummary, ClientFrame, ErrorCode, FeatureEvent,
    ServerMessage,
};

use crate::WAIT;

pub struct BoardView {
    pub client: SignalClient,
    pub board: RoomBoard,
    /// `board_live` events seen, in order.
    pub live: Vec<BoardEvent>,
    next_id: u32,
}

impl BoardView {
    pub fn new(client: SignalClient, summary: &BoardSummary) -> Self {
        BoardView {
            client,
            board: RoomBoard::new(summary),
            live: vec![],
            next_id: 0,
        }
    }

    /// Take one message; returns it.
    async fn pump(&mut self, what: &str, deadline: tokio::time::Instant) -> ServerMessage {
        let msg = match tokio::time::timeout_at(deadline, self.client.recv()).await {
            Err(_) => panic!("timed out waiting for {what}"),
            Ok(Err(e)) => panic!("connection ended while waiting for {what}: {e}"),
            Ok(Ok(msg)) => msg,
        };
        if let ServerMessage::Feature(FeatureEvent::Board(event)) = &msg {
            if matches!(event, BoardEvent::BoardLive { .. }) {
                self.live.push(event.clone());
            }
            self.board.apply(event);
        }
        msg
    }

    /// Send `request`; `Ok` on its ack, the error's code and message when refused.
    pub async fn send(&mut self, request: BoardRequest) -> Result<(), (ErrorCode, String)> {
        self.next_id += 1;
        let id = format!("b{}", self.next_id);
        self.client
            .send_frame(&ClientFrame::with_request_id(request.into(), &id))
            .await
            .expect("send");
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match self.pump(&format!("the answer to {id}"), deadline).await {
                ServerMessage::Ack { request_id } if request_id == id => return Ok(()),
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

    /// Bring the board up to date (only what was missed when the board is held).
    pub async fn sync(&mut self) -> &Board {
        let held = self.board.board.as_ref();
        let request = BoardRequest::BoardSync {
            board: held.map(|b| b.id.clone()),
            since: held.map(|b| b.seq),
        };
        self.send(request).await.expect("board_sync answered");
        self.board.board.as_ref().expect("the board arrived")
    }

    /// Take messages until the board is at `seq`.
    pub async fn settle(&mut self, seq: u64) -> &Board {
        let deadline = tokio::time::Instant::now() + WAIT;
        while self.board.board.as_ref().is_none_or(|b| b.seq < seq) {
            self.pump(&format!("board op #{seq}"), deadline).await;
        }
        self.board.board.as_ref().expect("held")
    }

    /// Take messages until `n` live strokes were seen.
    pub async fn live_strokes(&mut self, n: usize) -> &[BoardEvent] {
        let deadline = tokio::time::Instant::now() + WAIT;
        while self.live.len() < n {
            self.pump("live strokes", deadline).await;
        }
        &self.live
    }

    /// Every message until nothing came for `quiet`.
    pub async fn drain(&mut self, quiet: std::time::Duration) -> Vec<ServerMessage> {
        let mut out = vec![];
        loop {
            let deadline = tokio::time::Instant::now() + quiet;
            match tokio::time::timeout_at(deadline, self.client.recv()).await {
                Ok(Ok(msg)) => {
                    if let ServerMessage::Feature(FeatureEvent::Board(event)) = &msg {
                        self.board.apply(event);
                    }
                    out.push(msg)
                }
                _ => return out,
            }
        }
    }
}
