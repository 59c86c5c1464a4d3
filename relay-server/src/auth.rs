//! Access tokens: HS256 JWTs carrying room, identity, display name, grants and expiry.
//!
//! The algorithm is pinned to HS256 and `exp`, `nbf`, `iss`, `aud` and `sub` are required,
//! so `alg: none`, tokens signed with another key and tokens for another service are all
//! refused. Identity always comes from a verified token, never from a client message.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use studyhall_protocol::{ErrorCode, Grants};

use crate::ids;

/// `iss` and `aud` of every Studyhall token.
pub const ISSUER: &str = "studyhall";
pub const AUDIENCE: &str = "studyhall-relay";

/// `aud` of group tokens (see [`GroupClaims`]): never accepted as a room token.
pub const GROUP_AUDIENCE: &str = "studyhall-groups";

/// The claims of a group token: a member's identity on this relay and the one group it
/// is for. Membership is checked against the group on every use, so a removed member's
/// token opens nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupClaims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub name: String,
    pub group: String,
    #[serde(default)]
    pub iat: u64,
    pub nbf: u64,
    pub exp: u64,
}

/// File in the data directory holding the generated secret (embedded mode).
pub const SECRET_FILE: &str = "relay-secret";

/// The claims of a Studyhall access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// Participant identity.
    pub sub: String,
    /// Display name.
    pub name: String,
    /// The one room this token admits to.
    pub room: String,
    /// What the holder may do; a grant that is missing (or the whole object) is `false`.
    #[serde(default)]
    pub grants: Grants,
    /// Issued at; optional (the relay does not use it).
    #[serde(default)]
    pub iat: u64,
    pub nbf: u64,
    pub exp: u64,
    /// The device a guest redeemed an invite on (its app's own id), when it said: a
    /// host's kick holds against the device, not only the identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("no token: `join` must carry the access token")]
    Missing,
    #[error("the token has expired; ask for a new invite")]
    Expired,
    #[error("the token is not valid: {0}")]
    Invalid(String),
    #[error("the token is for room `{token_room}`, not `{asked}`")]
    WrongRoom { token_room: String, asked: String },
    #[error("the token does not grant `{0}`")]
    MissingGrant(&'static str),
}

impl AuthError {
    pub fn code(&self) -> ErrorCode {
        match self {
            AuthError::Missing => ErrorCode::TokenMissing,
            AuthError::Expired => ErrorCode::TokenExpired,
            AuthError::Invalid(_) => ErrorCode::TokenInvalid,
            AuthError::WrongRoom { .. } => ErrorCode::TokenWrongRoom,
            AuthError::MissingGrant(_) => ErrorCode::Forbidden,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TokenIssueError {
    #[error("invalid {what}: {message}")]
    InvalidInput { what: &'static str, message: String },
    #[error("cannot sign token: {0}")]
    Sign(#[from] jsonwebtoken::errors::Error),
}

/// Signs and verifies tokens with one secret.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    group_validation: Validation,
    /// Group tokens whose time ran out still name who held them (see
    /// [`TokenKeys::group_identity`]).
    group_identity: Validation,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys(<secret>)")
    }
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl TokenKeys {
    pub fn new(secret: &[u8], leeway: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = leeway.as_secs();
        validation.validate_nbf = true;
        validation.validate_exp = true;
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        let mut group_validation = validation.clone();
        group_validation.set_audience(&[GROUP_AUDIENCE]);
        let mut group_identity = group_validation.clone();
        group_identity.validate_exp = false;
        TokenKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            group_validation,
            group_identity,
        }
    }

    /// Sign a token for `identity` in `room`, valid for `ttl` from now.
    pub fn issue(
        &self,
        room: &str,
        identity: &str,
        name: &str,
        grants: Grants,
        ttl: Duration,
    ) -> Result<String, TokenIssueError> {
        self.issue_on_device(room, identity, name, grants, ttl, None)
    }

    /// [`TokenKeys::issue`], for a guest on `device`.
    pub fn issue_on_device(
        &self,
        room: &str,
        identity: &str,
        name: &str,
        grants: Grants,
        ttl: Duration,
        device: Option<&str>,
    ) -> Result<String, TokenIssueError> {
        ids::check_room(room).map_err(|message| TokenIssueError::InvalidInput {
            what: "room",
            message,
        })?;
        ids::check_identity(identity).map_err(|message| TokenIssueError::InvalidInput {
            what: "identity",
            message,
        })?;
        ids::check_display_name(name).map_err(|message| TokenIssueError::InvalidInput {
            what: "name",
            message,
        })?;
        if ttl.is_zero() {
            return Err(TokenIssueError::InvalidInput {
                what: "ttl",
                message: "must be longer than 0".into(),
            });
        }
        let now = now_secs();
        let claims = Claims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: identity.into(),
            name: name.into(),
            room: room.into(),
            grants,
            iat: now,
            nbf: now,
            exp: now + ttl.as_secs().max(1),
            device: device.map(str::to_string),
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }

    /// Sign claims exactly as given (no checks): for tools and tests that need tokens
    /// the relay must refuse, such as expired ones.
    pub fn sign(&self, claims: &Claims) -> Result<String, TokenIssueError> {
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &self.encoding,
        )?)
    }

    /// Sign a group token for `identity` in `group`, valid for `ttl` from now.
    pub fn issue_group(
        &self,
        group: &str,
        identity: &str,
        name: &str,
        ttl: Duration,
    ) -> Result<String, TokenIssueError> {
        let now = now_secs();
        let claims = GroupClaims {
            iss: ISSUER.into(),
            aud: GROUP_AUDIENCE.into(),
            sub: identity.into(),
            name: name.into(),
            group: group.into(),
            iat: now,
            nbf: now,
            exp: now + ttl.as_secs().max(1),
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }

    /// Check a group token and return its claims (membership is the caller's to check).
    pub fn verify_group(&self, token: &str) -> Result<GroupClaims, AuthError> {
        if token.trim().is_empty() {
            return Err(AuthError::Missing);
        }
        let data =
            jsonwebtoken::decode::<GroupClaims>(token, &self.decoding, &self.group_validation)
                .map_err(|e| match e.kind() {
                    ErrorKind::ExpiredSignature => AuthError::Expired,
                    ErrorKind::InvalidAudience => {
                        AuthError::Invalid("not a group token (wrong audience)".into())
                    }
                    ErrorKind::InvalidSignature => AuthError::Invalid(
                        "signature does not match (signed by another relay?)".into(),
                    ),
                    _ => AuthError::Invalid("malformed group token".into()),
                })?;
        let claims = data.claims;
        ids::check_identity(&claims.sub)
            .map_err(|m| AuthError::Invalid(format!("identity: {m}")))?;
        if !studyhall_protocol::groups::is_group_id(&claims.group) {
            return Err(AuthError::Invalid("group: not a group id".into()));
        }
        Ok(claims)
    }

    /// Sign group claims exactly as given (tests: expired tokens).
    pub fn sign_group(&self, claims: &GroupClaims) -> String {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .unwrap_or_default()
    }

    /// The identity a group token signed here names, even when its time ran out (up to
    /// `grace` ago): a member whose token expired joins again as themselves. `None` for
    /// anything not signed by this relay, or expired longer ago.
    pub fn group_identity(&self, token: &str, grace: Duration) -> Option<String> {
        jsonwebtoken::decode::<GroupClaims>(token, &self.decoding, &self.group_identity)
            .ok()
            .filter(|d| d.claims.exp.saturating_add(grace.as_secs()) > now_secs())
            .map(|d| d.claims.sub)
            .filter(|sub| ids::check_identity(sub).is_ok())
    }

    /// Check a token presented for `room` and return its claims.
    pub fn verify(&self, token: &str, room: &str) -> Result<Claims, AuthError> {
        let claims = self.verify_any_room(token)?;
        if claims.room != room {
            return Err(AuthError::WrongRoom {
                token_room: claims.room,
                asked: room.to_string(),
            });
        }
        Ok(claims)
    }

    /// Check a token whatever room it is for (HTTP calls carry no room of their own).
    pub fn verify_any_room(&self, token: &str) -> Result<Claims, AuthError> {
        if token.trim().is_empty() {
            return Err(AuthError::Missing);
        }
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => AuthError::Expired,
                ErrorKind::ImmatureSignature => AuthError::Invalid("not valid yet (nbf)".into()),
                ErrorKind::InvalidSignature => AuthError::Invalid(
                    "signature does not match (signed with another secret?)".into(),
                ),
                ErrorKind::InvalidAlgorithm => AuthError::Invalid("algorithm must be HS256".into()),
                ErrorKind::InvalidIssuer => AuthError::Invalid("wrong issuer".into()),
                ErrorKind::InvalidAudience => AuthError::Invalid("wrong audience".into()),
                ErrorKind::MissingRequiredClaim(c) => {
                    AuthError::Invalid(format!("missing claim `{c}`"))
                }
                _ => AuthError::Invalid("malformed token".into()),
            })?;
        let claims = data.claims;
        ids::check_room(&claims.room).map_err(|m| AuthError::Invalid(format!("room: {m}")))?;
        ids::check_identity(&claims.sub)
            .map_err(|m| AuthError::Invalid(format!("identity: {m}")))?;
        ids::check_display_name(&claims.name)
            .map_err(|m| AuthError::Invalid(format!("name: {m}")))?;
        if !claims.grants.join {
            return Err(AuthError::MissingGrant("join"));
        }
        Ok(claims)
    }
}

/// Read the secret kept in the data directory, creating it (32 random bytes, hex, mode
/// 0600) on first use.
pub fn load_or_create_secret(data_dir: &Path) -> std::io::Result<String> {
    let path = data_dir.join(SECRET_FILE);
    match std::fs::read_to_string(&path) {
        Ok(s) if s.trim().len() >= 32 => return Ok(s.trim().to_string()),
        Ok(_) => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{} is shorter than 32 characters", path.display()),
            ))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    std::fs::create_dir_all(data_dir)?;
    let secret = hex::encode(rand::random::<[u8; 32]>());
    let tmp = data_dir.join(format!("{SECRET_FILE}.tmp"));
    {
        use std::io::Write;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp)?;
        f.write_all(secret.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, &path)?;
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        TokenKeys::new(b"0123456789abcdef0123456789abcdef", Duration::from_secs(0))
    }

    #[test]
    fn issue_then_verify() {
        let k = keys();
        let t = k
            .issue(
                "algebra",
                "ada",
                "Ada L",
                Grants::host(),
                Duration::from_secs(60),
            )
            .unwrap();
        let c = k.verify(&t, "algebra").unwrap();
        assert_eq!(c.sub, "ada");
        assert_eq!(c.name, "Ada L");
        assert!(c.grants.host);
    }

    /// A token minted elsewhere, from the documented rules only: HS256 keyed by the
    /// secret file's text, without `iat` or `grants`.
    #[test]
    fn a_token_minted_from_the_docs_verifies_with_the_secret_file() {
        let dir = tempfile::tempdir().unwrap();
        let secret = load_or_create_secret(dir.path()).unwrap();
        let on_disk = std::fs::read_to_string(dir.path().join(SECRET_FILE)).unwrap();
        assert_eq!(on_disk, secret, "the file holds the key as it is");
        let now = now_secs();
        let minimal = serde_json::json!({
            "iss": ISSUER, "aud": AUDIENCE, "sub": "ada", "name": "Ada", "room": "algebra",
            "nbf": now, "exp": now + 60, "grants": {"join": true},
        });
        let sign = |claims: &serde_json::Value| {
            jsonwebtoken::encode(
                &Header::new(Algorithm::HS256),
                claims,
                &EncodingKey::from_secret(on_disk.trim().as_bytes()),
            )
            .unwrap()
        };
        let keys = TokenKeys::new(secret.as_bytes(), Duration::ZERO);
        let claims = keys.verify(&sign(&minimal), "algebra").unwrap();
        assert!(claims.grants.join);
        assert!(
            !claims.grants.chat && !claims.grants.host,
            "missing grants are false"
        );
        assert_eq!(claims.iat, 0, "iat is optional");
        let without = |field: &str| {
            let mut c = minimal.clone();
            c.as_object_mut().unwrap().remove(field);
            sign(&c)
        };
        assert_eq!(
            keys.verify(&without("grants"), "algebra"),
            Err(AuthError::MissingGrant("join")),
            "no grants object grants nothing: it cannot join"
        );
        assert!(
            keys.verify(&without("sub"), "algebra").is_err(),
            "sub is required"
        );
    }

    #[test]
    fn refusals() {
        let k = keys();
        let t = k
            .issue(
                "algebra",
                "ada",
                "Ada",
                Grants::member(),
                Duration::from_secs(60),
            )
            .unwrap();
        assert!(matches!(
            k.verify(&t, "physics"),
            Err(AuthError::WrongRoom { .. })
        ));
        assert_eq!(k.verify("", "algebra"), Err(AuthError::Missing));
        assert!(matches!(
            k.verify("a.b.c", "algebra"),
            Err(AuthError::Invalid(_))
        ));
        let other = TokenKeys::new(b"ffffffffffffffffffffffffffffffff", Duration::ZERO);
        assert!(matches!(
            other.verify(&t, "algebra"),
            Err(AuthError::Invalid(m)) if m.contains("signature")
        ));
        let no_join = Grants {
            join: false,
            ..Grants::member()
        };
        let t = k
            .issue("algebra", "bob", "Bob", no_join, Duration::from_secs(60))
            .unwrap();
        assert_eq!(
            k.verify(&t, "algebra"),
            Err(AuthError::MissingGrant("join"))
        );
    }

    #[test]
    fn alg_none_is_refused() {
        use base64_like::encode;
        let header = encode(br#"{"alg":"none","typ":"JWT"}"#);
        let now = now_secs();
        let body = encode(
            format!(
                r#"{{"iss":"studyhall","aud":"studyhall-relay","sub":"eve","name":"Eve","room":"algebra","grants":{{"join":true,"host":true}},"iat":{now},"nbf":{now},"exp":{}}}"#,
                now + 60
            )
            .as_bytes(),
        );
        let token = format!("{header}.{body}.");
        assert!(matches!(
            keys().verify(&token, "algebra"),
            Err(AuthError::Invalid(_))
        ));
    }

    /// Just enough base64url to forge a test token without another dependency.
    mod base64_like {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        pub fn encode(input: &[u8]) -> String {
            let mut out = String::new();
            for chunk in input.chunks(3) {
                let b = [
                    chunk[0],
                    *chunk.get(1).unwrap_or(&0),
                    *chunk.get(2).unwrap_or(&0),
                ];
                let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
                let chars = chunk.len() + 1;
                for i in 0..chars {
                    out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
                }
            }
            out
        }
    }

    #[test]
    fn secret_is_created_once() {
        let dir = tempfile::tempdir().unwrap();
        let a = load_or_create_secret(dir.path()).unwrap();
        let b = load_or_create_secret(dir.path()).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(SECRET_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
