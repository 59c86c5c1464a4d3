//! Invite codes: a host asks for a short code; whoever holds it trades it (with the
//! display name they chose) for a personal access token to that room.
//!
//! A code is 8 characters of Crockford base32 (40 random bits), shown as `K7QX-29FD`.
//! Codes live in an [`InviteStore`]: in memory on an embedded relay, in Redis on a
//! cluster node, so a code made on one node redeems on any. Guessing is bounded by a
//! per-address rate limit on redeeming (see [`Invites::redeem`]).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::room::limits::TokenBucket;
pub use crate::store::invites::MAX_INVITES;
pub use crate::store::Invite;
use crate::store::{InviteStore, MemoryInvites, StoreError};

/// Characters of a code: Crockford's base32 (no I, L, O, U).
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Characters in a code, without the dash.
pub const CODE_LEN: usize = 8;

/// How long an invite lasts unless the host asks otherwise, and the longest allowed.
pub const DEFAULT_TTL: Duration = Duration::from_secs(24 * 3600);
pub const MAX_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// Redeem attempts per second from one address, and the burst above it.
const REDEEM_RATE: u32 = 1;
const REDEEM_BURST: u32 = 10;
/// Invites one host identity may make per second, and the burst above it: a host
/// token must not be able to fill the store (Redis keeps what it is given).
const CREATE_RATE: u32 = 1;
const CREATE_BURST: u32 = 20;
/// Most addresses (or hosts) tracked for these limits (the oldest are forgotten first).
const MAX_TRACKED_ADDRS: usize = 4096;
/// Tries at a free code before giving up (40 random bits: a clash is already rare).
const CODE_TRIES: usize = 8;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InviteError {
    #[error("no such invite code (it may have expired, or the room's host ended it)")]
    NotFound,
    #[error("too many attempts; try again in {} s", .0.as_secs().max(1))]
    RateLimited(Duration),
    #[error("this relay holds too many invites; try again later")]
    Full,
    #[error("invites cannot be reached right now; try again ({0})")]
    Unavailable(String),
}

impl From<StoreError> for InviteError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Full(_) => InviteError::Full,
            other => InviteError::Unavailable(other.to_string()),
        }
    }
}

/// Invite codes: made by hosts, redeemed by guests (rate-limited per address), kept in
/// an [`InviteStore`].
pub struct Invites {
    store: Arc<dyn InviteStore>,
    attempts: Mutex<HashMap<IpAddr, (TokenBucket, Instant)>>,
    /// Invites made, per host identity.
    made: Mutex<HashMap<String, (TokenBucket, Instant)>>,
}

/// Take one token from `key`'s bucket in `buckets`, made with `rate`/`burst` on first use;
/// the key seen longest ago is forgotten when too many are tracked.
fn take<K: std::hash::Hash + Eq + Clone>(
    buckets: &Mutex<HashMap<K, (TokenBucket, Instant)>>,
    key: &K,
    rate: u32,
    burst: u32,
) -> Result<(), Duration> {
    let now = Instant::now();
    let mut buckets = buckets.lock().unwrap_or_else(|p| p.into_inner());
    if buckets.len() >= MAX_TRACKED_ADDRS && !buckets.contains_key(key) {
        if let Some(oldest) = buckets
            .iter()
            .min_by_key(|(_, (_, seen))| *seen)
            .map(|(k, _)| k.clone())
        {
            buckets.remove(&oldest);
        }
    }
    let (bucket, seen) = buckets
        .entry(key.clone())
        .or_insert_with(|| (TokenBucket::new(rate, burst, now), now));
    *seen = now;
    bucket.try_take(now)
}

impl Default for Invites {
    /// Invites in memory (an embedded relay).
    fn default() -> Self {
        Invites::new(Arc::new(MemoryInvites::default()))
    }
}

/// A new random code.
fn new_code() -> String {
    (0..CODE_LEN)
        .map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// A code as people type it (any case, dashes and spaces, O for 0, I or L for 1) in the
/// canonical form, or `None` when it cannot be a code.
pub fn normalize(code: &str) -> Option<String> {
    let mut out = String::with_capacity(CODE_LEN);
    for c in code.chars() {
        let c = match c.to_ascii_uppercase() {
            '-' | ' ' => continue,
            'O' => '0',
            'I' | 'L' => '1',
            c if c.is_ascii() && ALPHABET.contains(&(c as u8)) => c,
            _ => return None,
        };
        out.push(c);
    }
    (out.len() == CODE_LEN).then_some(out)
}

/// The code as shown to people: `K7QX-29FD`.
pub fn display(code: &str) -> String {
    if code.len() == CODE_LEN {
        format!("{}-{}", &code[..4], &code[4..])
    } else {
        code.to_string()
    }
}

impl Invites {
    pub fn new(store: Arc<dyn InviteStore>) -> Self {
        Invites {
            store,
            attempts: Mutex::new(HashMap::new()),
            made: Mutex::new(HashMap::new()),
        }
    }

    /// Make an invite to `room` lasting `ttl` (capped at [`MAX_TTL`]). Each host identity
    /// may make [`CREATE_BURST`] at once, then one a second.
    pub async fn create(
        &self,
        room: &str,
        created_by: &str,
        ttl: Duration,
        now_ms: u64,
    ) -> Result<Invite, InviteError> {
        take(
            &self.made,
            &created_by.to_string(),
            CREATE_RATE,
            CREATE_BURST,
        )
        .map_err(InviteError::RateLimited)?;
        let ttl = ttl.min(MAX_TTL);
        for _ in 0..CODE_TRIES {
            let invite = Invite::new(new_code(), room, created_by, ttl, now_ms);
            if self.store.put(&invite).await? {
                return Ok(invite);
            }
        }
        Err(InviteError::Full)
    }

    /// Look up a code on behalf of `addr`. Every attempt, found or not, counts against
    /// the address's rate limit, so codes cannot be guessed quickly.
    pub async fn redeem(&self, code: &str, addr: IpAddr) -> Result<Invite, InviteError> {
        self.admit(addr)?;
        self.find(code).await
    }

    /// Count one redeem attempt from `addr` against its rate limit.
    pub fn admit(&self, addr: IpAddr) -> Result<(), InviteError> {
        take(&self.attempts, &addr, REDEEM_RATE, REDEEM_BURST).map_err(InviteError::RateLimited)
    }

    /// A live invite, without counting an attempt.
    pub async fn find(&self, code: &str) -> Result<Invite, InviteError> {
        let code = normalize(code).ok_or(InviteError::NotFound)?;
        self.store.get(&code).await?.ok_or(InviteError::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADDR: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    #[test]
    fn codes_normalize_the_way_people_type_them() {
        assert_eq!(normalize("k7qx-29fd").as_deref(), Some("K7QX29FD"));
        assert_eq!(normalize(" K7QX 29FD ").as_deref(), Some("K7QX29FD"));
        assert_eq!(normalize("O1LI-0000").as_deref(), Some("01110000"));
        assert_eq!(normalize("K7QX-29F"), None, "too short");
        assert_eq!(normalize("K7QX-29FDX"), None, "too long");
        assert_eq!(normalize("K7QU-29FD"), None, "U is not in the alphabet");
        assert_eq!(normalize("K7QX/29FD"), None);
        assert_eq!(display("K7QX29FD"), "K7QX-29FD");
    }

    #[tokio::test]
    async fn created_codes_redeem_until_they_expire() {
        let store = Arc::new(MemoryInvites::default());
        let invites = Invites::new(store.clone());
        let invite = invites
            .create("algebra", "host-1", Duration::from_secs(60), 1_000)
            .await
            .unwrap();
        assert_eq!(invite.code.len(), CODE_LEN);
        assert!(normalize(&invite.code).is_some());
        assert_eq!(invite.expires_at_ms, 61_000);
        let typed = display(&invite.code).to_lowercase();
        let found = invites.redeem(&typed, ADDR).await.unwrap();
        assert_eq!(found.room, "algebra");
        assert_eq!(found.created_by, "host-1");

        let short = invites
            .create("algebra", "host-1", Duration::from_millis(1), 0)
            .await
            .unwrap();
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(
            invites.redeem(&short.code, ADDR).await,
            Err(InviteError::NotFound)
        );
        assert_eq!(store.len(), 1);
    }

    #[tokio::test]
    async fn guessing_is_rate_limited_per_address() {
        let invites = Invites::default();
        let invite = invites
            .create("algebra", "host-1", DEFAULT_TTL, 0)
            .await
            .unwrap();
        let mut limited = false;
        for _ in 0..(REDEEM_BURST + 5) {
            match invites.redeem("0000-0000", ADDR).await {
                Err(InviteError::NotFound) => {}
                Err(InviteError::RateLimited(_)) => {
                    limited = true;
                    break;
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(limited, "a burst of wrong guesses is cut off");
        // Even the right code is refused while the address is limited ...
        assert!(matches!(
            invites.redeem(&invite.code, ADDR).await,
            Err(InviteError::RateLimited(_))
        ));
        // ... but another address is not affected.
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        assert_eq!(
            invites.redeem(&invite.code, other).await.unwrap().room,
            "algebra"
        );
    }

    #[tokio::test]
    async fn a_host_cannot_make_invites_without_limit() {
        let invites = Invites::default();
        for _ in 0..CREATE_BURST {
            invites
                .create("algebra", "host-1", DEFAULT_TTL, 0)
                .await
                .unwrap();
        }
        assert!(matches!(
            invites.create("algebra", "host-1", DEFAULT_TTL, 0).await,
            Err(InviteError::RateLimited(_))
        ));
        assert!(
            invites
                .create("algebra", "host-2", DEFAULT_TTL, 0)
                .await
                .is_ok(),
            "another host is not affected"
        );
    }

    #[tokio::test]
    async fn ttl_is_capped() {
        let invites = Invites::default();
        let invite = invites
            .create("algebra", "h", Duration::from_secs(365 * 24 * 3600), 0)
            .await
            .unwrap();
        assert_eq!(invite.expires_at_ms, MAX_TTL.as_millis() as u64);
    }
}
