//! The WebSocket edge: one socket per user carries signaling, chat and presence.
//!
//! [`socket`] moves frames between the socket and a [`session::Session`]; the session
//! holds the rules (auth, limits, chat, host actions) and never touches the socket, so
//! the two are tested apart.

pub mod presence;
pub mod relayed;
pub mod remote;
pub mod session;
pub mod socket;

use studyhall_protocol::{ClientFrame, ClientMessage, ErrorCode};

/// Why a frame could not be decoded, with the `request_id` it carried (if it had a
/// valid one) so the error can echo it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    pub code: ErrorCode,
    pub message: String,
    pub request_id: Option<String>,
}

/// Decode a text frame into a client message. An unknown `type` is `unknown_type`; any
/// other problem (not JSON, missing or mistyped field, invalid value) is `bad_message`;
/// a malformed `request_id` is `invalid_id`.
pub fn decode(text: &str) -> Result<ClientFrame, DecodeError> {
    let fail = |code, message: String, request_id| DecodeError {
        code,
        message,
        request_id,
    };
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| fail(ErrorCode::BadMessage, format!("not JSON: {e}"), None))?;
    let Some(object) = value.as_object() else {
        return Err(fail(
            ErrorCode::BadMessage,
            "a frame must be a JSON object".into(),
            None,
        ));
    };
    let request_id = match object.get("request_id") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(id)) => {
            if let Err(m) = crate::ids::check_client_id(id) {
                return Err(fail(ErrorCode::InvalidId, format!("request_id: {m}"), None));
            }
            Some(id.clone())
        }
        Some(_) => {
            return Err(fail(
                ErrorCode::BadMessage,
                "request_id must be a string".into(),
                None,
            ))
        }
    };
    match object.get("type").and_then(|t| t.as_str()) {
        None => Err(fail(
            ErrorCode::BadMessage,
            "missing string field `type`".into(),
            request_id,
        )),
        Some(kind) if !ClientMessage::is_known(kind) => Err(fail(
            ErrorCode::UnknownType,
            format!("unknown message type `{kind}`"),
            request_id,
        )),
        Some(kind) => match ClientMessage::decode(kind, value.clone()) {
            Ok(message) => Ok(ClientFrame {
                request_id,
                message,
            }),
            Err(e) => Err(fail(
                ErrorCode::BadMessage,
                format!("invalid `{kind}`: {e}"),
                request_id,
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_classifies_errors() {
        let code = |t: &str| decode(t).unwrap_err().code;
        assert_eq!(code(r#"{"type":"teleport"}"#), ErrorCode::UnknownType);
        assert_eq!(code("not json"), ErrorCode::BadMessage);
        assert_eq!(code("[1,2]"), ErrorCode::BadMessage);
        assert_eq!(code(r#"{"no_type":1}"#), ErrorCode::BadMessage);
        assert_eq!(
            code(r#"{"type":"chat_send","text":5}"#),
            ErrorCode::BadMessage
        );
        assert_eq!(
            code(r#"{"type":"set_presence","presence":"sleeping"}"#),
            ErrorCode::BadMessage,
            "an invalid value is not an unknown type"
        );
        assert_eq!(
            code(r#"{"type":"ping","request_id":""}"#),
            ErrorCode::InvalidId
        );
        assert_eq!(
            code(r#"{"type":"ping","request_id":7}"#),
            ErrorCode::BadMessage
        );
        assert!(decode(r#"{"type":"ping","nonce":3}"#).is_ok());
        assert!(decode(r#"{"type":"raise_hand"}"#).is_ok());
        let e = decode(r#"{"type":"lower_hand_of","request_id":"q"}"#).unwrap_err();
        assert_eq!(e.code, ErrorCode::BadMessage);
        assert!(e.message.contains("identity"), "{}", e.message);
        assert_eq!(e.request_id.as_deref(), Some("q"));
    }

    #[test]
    fn errors_keep_a_valid_request_id() {
        let e = decode(r#"{"type":"teleport","request_id":"r1"}"#).unwrap_err();
        assert_eq!(e.request_id.as_deref(), Some("r1"));
        let e = decode(r#"{"type":"ping","nonce":"abc","request_id":"r2"}"#).unwrap_err();
        assert_eq!(
            (e.code, e.request_id.as_deref()),
            (ErrorCode::BadMessage, Some("r2"))
        );
    }
}
