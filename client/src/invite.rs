//! Invites: the link and the short code a host hands out, and trading them at the relay
//! for a personal token (`POST /v1/invites/redeem`), or making one (`POST /v1/invites`).
//!
//! - link: `studyhall://join?relay=192.168.1.20%3A7450&code=K7QX-29FD`
//! - code: `K7QX-29FD@192.168.1.20:7450`
//!
//! The relay's HTTP API is plain HTTP/1.1 with small JSON bodies; one request per
//! connection is all we need, so it is spoken here directly over a TCP stream.

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Characters of a code: Crockford's base32 (the relay's alphabet).
const CODE_ALPHABET: &str = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const CODE_LEN: usize = 8;
/// Largest HTTP response read.
const MAX_RESPONSE: usize = 64 * 1024;
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InviteError {
    #[error("{0}")]
    Invalid(String),
    #[error("cannot reach the relay at {relay}: {reason}")]
    Unreachable { relay: String, reason: String },
    /// The relay answered with an error: its code and message.
    #[error("{message}")]
    Refused {
        status: u16,
        code: String,
        message: String,
    },
    #[error("the relay's answer is not understood: {0}")]
    BadResponse(String),
}

/// Where an invite points: the relay's `host:port` and the code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteTarget {
    pub relay: String,
    /// The code as shown (`K7QX-29FD`).
    pub code: String,
}

impl InviteTarget {
    pub fn link(&self) -> String {
        format!(
            "studyhall://join?relay={}&code={}",
            self.relay.replace(':', "%3A"),
            self.code
        )
    }

    /// The short form: `K7QX-29FD@192.168.1.20:7450`.
    pub fn short(&self) -> String {
        format!("{}@{}", self.code, self.relay)
    }

    /// The relay's base URL for signaling (`ws://host:port`).
    pub fn relay_url(&self) -> String {
        format!("ws://{}", self.relay)
    }
}

/// A code as typed (any case, dashes, spaces; O for 0, I/L for 1) in its shown form.
fn normalize_code(code: &str) -> Option<String> {
    let mut out = String::new();
    for c in code.chars() {
        let c = match c.to_ascii_uppercase() {
            '-' | ' ' => continue,
            'O' => '0',
            'I' | 'L' => '1',
            c if CODE_ALPHABET.contains(c) => c,
            _ => return None,
        };
        out.push(c);
    }
    (out.len() == CODE_LEN).then(|| format!("{}-{}", &out[..4], &out[4..]))
}

fn check_relay(relay: &str) -> Result<String, InviteError> {
    let relay = relay.trim();
    let (host, port) = relay
        .rsplit_once(':')
        .ok_or_else(|| InviteError::Invalid(format!("{relay:?} has no port")))?;
    // A name or an IPv4 address, or an IPv6 address in brackets.
    let host_ok = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => v6.parse::<std::net::Ipv6Addr>().is_ok(),
        None => {
            !host.is_empty()
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
        }
    };
    if !host_ok {
        return Err(InviteError::Invalid(format!("{host:?} is not a host name")));
    }
    // Digits only: `parse` alone would take "+9".
    Some(port)
        .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|p| p.parse::<u16>().ok())
        .filter(|p| *p != 0)
        .ok_or_else(|| InviteError::Invalid(format!("{port:?} is not a port")))?;
    Ok(relay.to_string())
}

fn percent_decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Read an invite link or short code.
pub fn parse(text: &str) -> Result<InviteTarget, InviteError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(InviteError::Invalid(
            "paste an invite link or code from the room's host".into(),
        ));
    }
    if let Some(query) = text.strip_prefix("studyhall://join?") {
        let mut relay = None;
        let mut code = None;
        for pair in query.split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "relay" => relay = Some(percent_decode(value)),
                "code" => code = Some(percent_decode(value)),
                _ => {}
            }
        }
        let relay = relay.ok_or_else(|| {
            InviteError::Invalid("the link has no relay address; copy it again".into())
        })?;
        let code =
            code.ok_or_else(|| InviteError::Invalid("the link has no code; copy it again".into()))?;
        return Ok(InviteTarget {
            relay: check_relay(&relay)?,
            code: normalize_code(&code)
                .ok_or_else(|| InviteError::Invalid(format!("{code:?} is not an invite code")))?,
        });
    }
    if text.contains("://") {
        return Err(InviteError::Invalid(
            "an invite link starts with studyhall://join?".into(),
        ));
    }
    let (code, relay) = text.split_once('@').ok_or_else(|| {
        InviteError::Invalid(
            "an invite code looks like K7QX-29FD@192.168.1.20:7450 (the part after @ is the host)"
                .into(),
        )
    })?;
    Ok(InviteTarget {
        relay: check_relay(relay)?,
        code: normalize_code(code).ok_or_else(|| {
            InviteError::Invalid(format!(
                "{:?} is not an invite code (8 letters and digits, like K7QX-29FD)",
                code.trim()
            ))
        })?,
    })
}

/// What a redeemed invite gives: the room and a personal token.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Redeemed {
    pub room: String,
    pub identity: String,
    pub name: String,
    pub token: String,
    pub expires_at: u64,
}

/// A code the relay made.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Created {
    pub code: String,
    pub room: String,
    pub expires_at: u64,
}

/// Trade an invite for a token, joining as `name`.
pub async fn redeem(target: &InviteTarget, name: &str) -> Result<Redeemed, InviteError> {
    redeem_on(target, name, None).await
}

/// [`redeem`] on `device` (the app's own id): a host's kick then holds against this
/// device, whatever identity it gets next.
pub async fn redeem_on(
    target: &InviteTarget,
    name: &str,
    device: Option<&str>,
) -> Result<Redeemed, InviteError> {
    let mut body = json!({ "code": target.code, "name": name });
    if let Some(device) = device {
        body["device"] = json!(device);
    }
    let value = post_json(&target.relay, "/v1/invites/redeem", None, &body).await?;
    serde_json::from_value(value).map_err(|e| InviteError::BadResponse(e.to_string()))
}

/// Ask the relay at `relay` (`host:port`) for a new invite code; `host_token` must be a
/// host's token for the room.
pub async fn create(
    relay: &str,
    host_token: &str,
    ttl: Option<Duration>,
) -> Result<Created, InviteError> {
    let body = match ttl {
        Some(ttl) => json!({ "ttl_secs": ttl.as_secs().max(1) }),
        None => json!({}),
    };
    let value = post_json(relay, "/v1/invites", Some(host_token), &body).await?;
    serde_json::from_value(value).map_err(|e| InviteError::BadResponse(e.to_string()))
}

async fn post_json(
    relay: &str,
    path: &str,
    bearer: Option<&str>,
    body: &serde_json::Value,
) -> Result<serde_json::Value, InviteError> {
    let unreachable = |reason: String| InviteError::Unreachable {
        relay: relay.to_string(),
        reason,
    };
    let exchange = async {
        let mut stream = TcpStream::connect(relay)
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        let body = body.to_string();
        let auth = bearer
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {relay}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n{auth}Connection: close\r\n\r\n{body}",
            body.len()
        );
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        let mut response = Vec::new();
        (&mut stream)
            .take(MAX_RESPONSE as u64)
            .read_to_end(&mut response)
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        Ok::<_, InviteError>(response)
    };
    let response = tokio::time::timeout(HTTP_TIMEOUT, exchange)
        .await
        .map_err(|_| unreachable(format!("no answer within {HTTP_TIMEOUT:?}")))??;
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| InviteError::BadResponse("no HTTP header".into()))?;
    let status: u16 = head
        .lines()
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| InviteError::BadResponse("no HTTP status".into()))?;
    let chunked = head.lines().any(|l| {
        l.to_ascii_lowercase()
            .starts_with("transfer-encoding: chunked")
    });
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_string()
    };
    let value: serde_json::Value = serde_json::from_str(&body).map_err(|_| {
        InviteError::BadResponse(format!(
            "HTTP {status}: {}",
            body.trim().chars().take(200).collect::<String>()
        ))
    })?;
    if (200..300).contains(&status) {
        return Ok(value);
    }
    let code = value["error"]["code"]
        .as_str()
        .unwrap_or("unknown")
        .to_string();
    let message = value["error"]["message"]
        .as_str()
        .unwrap_or("the relay refused the request")
        .to_string();
    Err(InviteError::Refused {
        status,
        code,
        message,
    })
}

fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || after.len() < size {
            break;
        }
        out.push_str(&after[..size]);
        rest = after[size..].trim_start_matches("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_and_codes_parse_to_the_same_target() {
        let from_link = parse("studyhall://join?relay=192.168.1.20%3A7450&code=k7qx-29fd").unwrap();
        let from_code = parse("  K7QX29FD@192.168.1.20:7450 ").unwrap();
        assert_eq!(from_link, from_code);
        assert_eq!(from_link.code, "K7QX-29FD");
        assert_eq!(from_link.relay, "192.168.1.20:7450");
        assert_eq!(parse(&from_link.link()).unwrap(), from_link);
        assert_eq!(parse(&from_link.short()).unwrap(), from_link);
        assert_eq!(from_link.relay_url(), "ws://192.168.1.20:7450");
    }

    #[test]
    fn bad_invites_say_what_is_wrong() {
        let msg = |t: &str| parse(t).unwrap_err().to_string();
        assert!(msg("").contains("paste an invite"));
        assert!(msg("K7QX-29FD").contains("looks like"));
        assert!(msg("K7QX-29F@host:1").contains("not an invite code"));
        assert!(msg("K7QX-29FD@host").contains("no port"));
        assert!(msg("K7QX-29FD@host:99999").contains("not a port"));
        assert!(msg("https://example.com").contains("studyhall://join?"));
        assert!(msg("studyhall://join?code=K7QX-29FD").contains("no relay"));
        assert!(msg("K7QX-29FD@ho st:1").contains("not a host"));
        // Found by fuzzing: a "+" port and a bracket host read as a code but not as its
        // own link.
        assert!(msg("c77GOOOO@[:+9").contains("not a host"));
        assert!(msg("K7QX-29FD@host:+9").contains("not a port"));
        assert!(msg("K7QX-29FD@[nope]:7450").contains("not a host"));
        let v6 = parse("K7QX-29FD@[::1]:7450").unwrap();
        assert_eq!(parse(&v6.link()).unwrap(), v6);
    }

    #[test]
    fn any_text_is_refused_without_panicking() {
        for text in [
            "studyhall://join?relay=%€&code=%a€",
            "studyhall://join?relay=%",
            "studyhall://join?relay=%4",
            "€@€:1",
            "studyhall://join?relay=h%3A1&code=%E2%82%AC",
        ] {
            assert!(parse(text).is_err(), "{text}");
        }
        assert_eq!(percent_decode("a%3Ab%zz%"), "a:b%zz%");
    }

    #[test]
    fn chunked_bodies_are_joined() {
        assert_eq!(dechunk("3\r\n{\"a\r\n4\r\n\":1}\r\n0\r\n\r\n"), "{\"a\":1}");
    }
}
