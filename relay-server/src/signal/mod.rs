//! The WebSocket edge: one socket per user carries signaling, chat and presence.
//!
//! [`socket`] moves frames between the socket and a [`session::Session`]; the session
//! holds the rules (auth, limits, chat, host actions) and never touches the socket, so
//! the two are tested apart.

pub mod session;
pub mod socket;

use studyhall_protocol::{ClientFrame, ErrorCode};

/// Decode a text frame into a client message, telling unknown types from malformed ones.
pub fn decode(text: &str) -> Result<ClientFrame, (ErrorCode, String)> {
    serde_json::from_str::<ClientFrame>(text).map_err(|e| {
        let msg = e.to_string();
        if msg.starts_with("unknown variant") {
            (
                ErrorCode::UnknownType,
                format!("unknown message type: {msg}"),
            )
        } else {
            (ErrorCode::BadMessage, format!("malformed message: {msg}"))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_classifies_errors() {
        assert_eq!(
            decode(r#"{"type":"teleport"}"#).unwrap_err().0,
            ErrorCode::UnknownType
        );
        assert_eq!(decode("not json").unwrap_err().0, ErrorCode::BadMessage);
        assert_eq!(
            decode(r#"{"no_type":1}"#).unwrap_err().0,
            ErrorCode::BadMessage
        );
        assert_eq!(
            decode(r#"{"type":"chat_send","text":5}"#).unwrap_err().0,
            ErrorCode::BadMessage
        );
        assert!(decode(r#"{"type":"ping","nonce":3}"#).is_ok());
    }
}
