//! The signaling connection: one WebSocket to the relay carrying typed protocol messages.

use std::time::Duration;

use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use studyhall_protocol::{
    ChatPage, ClientFrame, ClientMessage, ErrorCode, FeatureSnapshot, Heartbeat, Limits,
    MediaState, Participant, ServerMessage, PROTOCOL_VERSION,
};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode as WsCloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Why a WebSocket connect failed. An HTTP refusal (503 at the relay's connection cap, 429
/// when too many sockets from this address are still joining) carries the relay's reason
/// in its body; say that, not only the status line.
fn connect_failure(e: tokio_tungstenite::tungstenite::Error) -> String {
    use tokio_tungstenite::tungstenite::Error;
    match e {
        Error::Http(response) => {
            let status = response.status();
            let reason = response
                .body()
                .as_deref()
                .map(|b| {
                    String::from_utf8_lossy(&b[..b.len().min(512)])
                        .trim()
                        .to_string()
                })
                .unwrap_or_default();
            if reason.is_empty() {
                format!("HTTP {status}")
            } else {
                format!("HTTP {status}: {reason}")
            }
        }
        e => e.to_string(),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SignalError {
    #[error("cannot reach the relay at {url}: {message}")]
    Connect { url: String, message: String },
    #[error("the relay refused: {message} ({code})")]
    Refused { code: ErrorCode, message: String },
    #[error("the connection closed (code {code}: {reason})")]
    Closed { code: u16, reason: String },
    #[error("no answer from the relay within {0:?}")]
    Timeout(Duration),
    #[error("unexpected message from the relay: {0}")]
    Protocol(String),
    #[error("invalid token: {0}")]
    Token(String),
}

/// What the relay said in `joined`.
#[derive(Debug, Clone)]
pub struct JoinInfo {
    pub room: String,
    pub you: Participant,
    pub participants: Vec<Participant>,
    pub chat: ChatPage,
    pub limits: Limits,
    pub heartbeat: Heartbeat,
    /// What each room feature held at the join (raised hands, ...).
    pub features: FeatureSnapshot,
}

/// `ws://host:port` → `ws://host:port/ws`; a URL with a path is used as given.
pub fn websocket_url(base: &str) -> String {
    let trimmed = base.trim_end_matches('/');
    let after_scheme = trimmed.split_once("://").map(|(_, r)| r).unwrap_or(trimmed);
    if after_scheme.contains('/') {
        trimmed.to_string()
    } else {
        format!("{trimmed}/ws")
    }
}

/// The room a token is for, read without verifying it (the relay verifies).
pub fn room_of_token(token: &str) -> Result<String, SignalError> {
    let payload = token.split('.').nth(1).ok_or_else(|| {
        SignalError::Token("not a JWT (expected three dot-separated parts)".into())
    })?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| SignalError::Token(format!("payload is not base64url: {e}")))?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| SignalError::Token(format!("payload is not JSON: {e}")))?;
    claims["room"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| SignalError::Token("no `room` claim".into()))
}

/// A connection to the relay.
pub struct SignalClient {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl SignalClient {
    /// Open the WebSocket (no `join` yet).
    pub async fn connect(base_url: &str) -> Result<SignalClient, SignalError> {
        let url = websocket_url(base_url);
        // Nagle off: signaling messages are small and each one should leave at once
        // (with Nagle, a message written while an earlier one is unacknowledged waits for
        // the peer's delayed ACK, about 40 ms).
        let (ws, _) = tokio_tungstenite::connect_async_with_config(url.as_str(), None, true)
            .await
            .map_err(|e| SignalError::Connect {
                url: url.clone(),
                message: connect_failure(e),
            })?;
        Ok(SignalClient { ws })
    }

    /// Connect and join; returns once the relay answered `joined`.
    pub async fn join(
        base_url: &str,
        room: &str,
        token: &str,
        media: MediaState,
    ) -> Result<(SignalClient, JoinInfo), SignalError> {
        let mut client = Self::connect(base_url).await?;
        client
            .send(ClientMessage::Join {
                room: room.to_string(),
                token: token.to_string(),
                protocol: PROTOCOL_VERSION,
                media,
            })
            .await?;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let wait = deadline.saturating_duration_since(tokio::time::Instant::now());
            match client.recv_timeout(wait).await? {
                ServerMessage::Joined {
                    room,
                    you,
                    participants,
                    chat,
                    limits,
                    heartbeat,
                    features,
                    ..
                } => {
                    return Ok((
                        client,
                        JoinInfo {
                            room,
                            you,
                            participants,
                            chat,
                            limits,
                            heartbeat,
                            features,
                        },
                    ))
                }
                // A warning before `joined` (such as history that could not be read) does
                // not refuse the join.
                ServerMessage::Error {
                    fatal: false,
                    code,
                    message,
                    ..
                } => tracing::warn!(?code, %message, "the relay warned while joining"),
                ServerMessage::Error { code, message, .. } => {
                    return Err(SignalError::Refused { code, message })
                }
                other => {
                    return Err(SignalError::Protocol(format!(
                        "expected `joined`, got {other:?}"
                    )))
                }
            }
        }
    }

    pub async fn send(&mut self, message: ClientMessage) -> Result<(), SignalError> {
        self.send_frame(&ClientFrame::new(message)).await
    }

    pub async fn send_frame(&mut self, frame: &ClientFrame) -> Result<(), SignalError> {
        let text =
            serde_json::to_string(frame).map_err(|e| SignalError::Protocol(e.to_string()))?;
        self.send_raw(Message::Text(text.into())).await
    }

    /// Send any WebSocket message as is (tests use this for malformed input).
    pub async fn send_raw(&mut self, message: Message) -> Result<(), SignalError> {
        self.ws
            .send(message)
            .await
            .map_err(|e| SignalError::Closed {
                code: 0,
                reason: e.to_string(),
            })
    }

    /// The next protocol message. Pings are answered by the socket itself.
    pub async fn recv(&mut self) -> Result<ServerMessage, SignalError> {
        loop {
            match self.ws.next().await {
                Some(Ok(Message::Text(text))) => match serde_json::from_str(&text) {
                    Ok(message) => return Ok(message),
                    // A newer relay may send messages this client does not know: they are
                    // skipped, as the protocol asks, not taken for a broken connection.
                    Err(e) => {
                        let kind = serde_json::from_str::<serde_json::Value>(&text)
                            .ok()
                            .and_then(|v| v.get("type")?.as_str().map(str::to_string));
                        tracing::warn!(kind = ?kind, error = %e, "skipping a message this client cannot read");
                        continue;
                    }
                },
                Some(Ok(Message::Close(frame))) => {
                    // Send the close reply tungstenite queued, so the relay sees a clean close.
                    let _ = self.ws.flush().await;
                    let (code, reason) = frame
                        .map(|f| (u16::from(f.code), f.reason.to_string()))
                        .unwrap_or((1005, String::new()));
                    return Err(SignalError::Closed { code, reason });
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => {
                    return Err(SignalError::Closed {
                        code: 1006,
                        reason: e.to_string(),
                    })
                }
                None => {
                    return Err(SignalError::Closed {
                        code: 1006,
                        reason: "connection ended".into(),
                    })
                }
            }
        }
    }

    pub async fn recv_timeout(&mut self, wait: Duration) -> Result<ServerMessage, SignalError> {
        tokio::time::timeout(wait, self.recv())
            .await
            .map_err(|_| SignalError::Timeout(wait))?
    }

    /// Send `leave` and close.
    pub async fn leave(mut self) -> Result<(), SignalError> {
        self.send(ClientMessage::Leave).await?;
        let wait = Duration::from_secs(5);
        loop {
            match self.recv_timeout(wait).await {
                Ok(ServerMessage::Left { .. }) => continue,
                Ok(_) => continue,
                Err(SignalError::Closed { .. }) => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    }

    /// Close the socket without `leave` (as a dropped network would, but politely).
    pub async fn close(mut self) {
        let _ = self
            .ws
            .close(Some(CloseFrame {
                code: WsCloseCode::Normal,
                reason: "".into(),
            }))
            .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            websocket_url("ws://127.0.0.1:7450"),
            "ws://127.0.0.1:7450/ws"
        );
        assert_eq!(
            websocket_url("ws://127.0.0.1:7450/"),
            "ws://127.0.0.1:7450/ws"
        );
        assert_eq!(
            websocket_url("wss://relay.example/ws"),
            "wss://relay.example/ws"
        );
    }

    #[test]
    fn token_room() {
        let payload =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"room":"algebra"}"#);
        assert_eq!(room_of_token(&format!("h.{payload}.s")).unwrap(), "algebra");
        assert!(room_of_token("nonsense").is_err());
    }
}
