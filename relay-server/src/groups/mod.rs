//! Study groups: creating and joining them, their members, invite and schedule, the
//! room token for a group's standing room, and the members' presence ([`presence`]).
//!
//! A group is one document in a [`GroupStore`]; every change reads it, changes it with
//! the rules here and writes it back only if nobody wrote in between (else it reads
//! again). The HTTP edge (`http/groups.rs`) maps [`GroupError`]s to statuses; the
//! presence socket (`signal/presence.rs`) uses [`Groups::watch_view`].

pub mod presence;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use studyhall_protocol::groups::{
    check_group_name, display_invite, group_room, is_group_id, normalize_invite, CreateGroup,
    Group, GroupJoined, GroupMember, JoinGroup, RoomTicket, GROUP_TOKEN_DAYS, INVITE_CODE_LEN,
    MAX_MEMBERS, MAX_SESSIONS,
};
use studyhall_protocol::schedule::{self, SessionDraft, StudySession};
use studyhall_protocol::Grants;

use crate::auth::{AuthError, GroupClaims, TokenKeys};
use crate::ids;
use crate::invites::Invites;
use crate::store::{GroupStore, Replaced, StoreError, StoredGroup};

pub use presence::PresenceHub;

/// How long a group token lasts.
pub const GROUP_TOKEN_TTL: Duration = Duration::from_secs(GROUP_TOKEN_DAYS * 24 * 3600);
/// How long a room token for a group's room lasts.
const ROOM_TICKET_TTL: Duration = Duration::from_secs(12 * 3600);
/// Tries at a write before giving up when others keep writing the same group.
const WRITE_TRIES: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum GroupError {
    #[error("{0}")]
    Invalid(String),
    #[error("no such group (it may have been deleted)")]
    NotFound,
    /// Something in the group that is not there (a session, a member).
    #[error("{0}")]
    Missing(String),
    #[error("no group has this invite code (the owner may have made a new one)")]
    InviteNotFound,
    #[error("{0}")]
    Forbidden(String),
    #[error("you were removed from this group")]
    Removed,
    #[error("{0}")]
    Token(#[from] AuthError),
    #[error("{0}")]
    Limit(String),
    #[error("too many attempts; try again in {} s", .0.as_secs().max(1))]
    RateLimited(Duration),
    #[error("groups cannot be reached right now; try again ({0})")]
    Unavailable(String),
}

impl From<StoreError> for GroupError {
    fn from(e: StoreError) -> Self {
        GroupError::Unavailable(e.to_string())
    }
}

/// What the relay keeps for groups: the store, the keys that sign group tokens, the
/// per-address limit on guessing invite codes, and presence.
pub struct Groups {
    pub store: Arc<dyn GroupStore>,
    keys: TokenKeys,
    /// The per-address limit on trying invite codes and creating groups (its own, beside
    /// the one on room invites: 1 a second, 10 at once).
    admission: Invites,
    max_groups: u64,
    pub presence: Arc<PresenceHub>,
}

/// A member checked against their group: the token's claims and the stored group.
pub struct Member {
    pub claims: GroupClaims,
    pub group: StoredGroup,
}

impl Member {
    pub fn is_owner(&self) -> bool {
        self.group.group.owner == self.claims.sub
    }
}

fn new_identity() -> String {
    format!("m-{}", hex::encode(rand::random::<[u8; 6]>()))
}

fn new_group_id() -> String {
    format!("g{}", hex::encode(rand::random::<[u8; 6]>()))
}

fn new_session_id() -> String {
    hex::encode(rand::random::<[u8; 4]>())
}

fn new_invite() -> String {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    (0..INVITE_CODE_LEN)
        .map(|_| ALPHABET[usize::from(rand::random::<u8>() & 31)] as char)
        .collect()
}

/// The group as its members see it (the invite shown `G-XXXX-XXXX`).
pub fn members_view(stored: &StoredGroup) -> Group {
    let mut group = stored.group.clone();
    group.invite = display_invite(&group.invite);
    group
}

fn check_name(name: &str) -> Result<String, GroupError> {
    let name = name.trim();
    ids::check_display_name(name).map_err(|m| GroupError::Invalid(format!("name {m}")))?;
    Ok(name.to_string())
}

fn check_device(device: &str) -> Result<(), GroupError> {
    ids::check_client_id(device).map_err(|m| GroupError::Invalid(format!("device {m}")))
}

impl Groups {
    pub fn new(
        store: Arc<dyn GroupStore>,
        keys: TokenKeys,
        admission: Invites,
        max_groups: u64,
        presence: Arc<PresenceHub>,
    ) -> Self {
        Groups {
            store,
            keys,
            admission,
            max_groups,
            presence,
        }
    }

    /// The identity of a group token of this relay the caller already holds (any group,
    /// even one they were removed from, even one whose time ran out): joining keeps it.
    fn identity_from(&self, token: Option<&str>) -> Option<String> {
        token.and_then(|t| self.keys.group_identity(t, GROUP_TOKEN_TTL))
    }

    fn joined(
        &self,
        stored: &StoredGroup,
        identity: &str,
        name: &str,
    ) -> Result<GroupJoined, GroupError> {
        let token = self
            .keys
            .issue_group(&stored.group.id, identity, name, GROUP_TOKEN_TTL)
            .map_err(|e| GroupError::Unavailable(e.to_string()))?;
        Ok(GroupJoined {
            group: members_view(stored),
            identity: identity.to_string(),
            token,
            expires_at: (crate::auth::now_secs() + GROUP_TOKEN_TTL.as_secs()) * 1000,
        })
    }

    /// A fresh group token for a member (their tokens are renewed as they use them).
    pub fn renew(&self, member: &Member) -> Option<String> {
        let name = member
            .group
            .group
            .members
            .iter()
            .find(|m| m.identity == member.claims.sub)
            .map_or(member.claims.name.as_str(), |m| m.name.as_str());
        self.keys
            .issue_group(
                &member.group.group.id,
                &member.claims.sub,
                name,
                GROUP_TOKEN_TTL,
            )
            .ok()
    }

    pub async fn create(
        &self,
        request: CreateGroup,
        addr: IpAddr,
    ) -> Result<GroupJoined, GroupError> {
        let group_name = request.name.trim().to_string();
        check_group_name(&group_name).map_err(GroupError::Invalid)?;
        let your_name = check_name(&request.your_name)?;
        check_device(&request.device)?;
        if self.max_groups == 0 {
            return Err(GroupError::Forbidden(
                "this relay does not keep study groups (max_groups is 0)".into(),
            ));
        }
        self.admission
            .admit(addr)
            .map_err(|_| GroupError::RateLimited(Duration::from_secs(1)))?;
        if self.store.count().await? >= self.max_groups {
            return Err(GroupError::Limit(format!(
                "this relay keeps at most {} groups",
                self.max_groups
            )));
        }
        let identity = self
            .identity_from(request.token.as_deref())
            .unwrap_or_else(new_identity);
        let now = ids::now_ms();
        for _ in 0..WRITE_TRIES {
            let id = new_group_id();
            let stored = StoredGroup {
                group: Group {
                    room: group_room(&id),
                    id,
                    name: group_name.clone(),
                    owner: identity.clone(),
                    members: vec![GroupMember {
                        identity: identity.clone(),
                        name: your_name.clone(),
                        joined_at: now,
                    }],
                    sessions: vec![],
                    invite: new_invite(),
                    created_at: now,
                },
                version: 1,
                devices: [(identity.clone(), request.device.clone())].into(),
                removed: vec![],
                removed_devices: vec![],
            };
            if self.store.create(&stored).await? {
                tracing::info!(group = %stored.group.id, "group created");
                return self.joined(&stored, &identity, &your_name);
            }
        }
        Err(GroupError::Unavailable(
            "no free group id or invite code".into(),
        ))
    }

    pub async fn join(&self, request: JoinGroup, addr: IpAddr) -> Result<GroupJoined, GroupError> {
        let name = check_name(&request.name)?;
        check_device(&request.device)?;
        let code = normalize_invite(&request.code).ok_or_else(|| {
            GroupError::Invalid(format!(
                "{:?} is not a group invite code (like G-K7QX-29FD)",
                request.code.trim()
            ))
        })?;
        self.admission.admit(addr).map_err(|e| match e {
            crate::invites::InviteError::RateLimited(wait) => GroupError::RateLimited(wait),
            other => GroupError::Unavailable(other.to_string()),
        })?;
        let id = self
            .store
            .by_invite(&code)
            .await?
            .ok_or(GroupError::InviteNotFound)?;
        // The identity of a token held (a device id is never proof of one: it is not a
        // secret), else a new one.
        let identity = self
            .identity_from(request.token.as_deref())
            .unwrap_or_else(new_identity);
        let device = request.device.clone();
        let (stored, _) = self
            .modify(&id, |g| {
                if g.removed.contains(&identity) || g.removed_devices.contains(&device) {
                    return Err(GroupError::Removed);
                }
                // The code may have changed since it was looked up.
                if g.group.invite != code {
                    return Err(GroupError::InviteNotFound);
                }
                match g.group.members.iter_mut().find(|m| m.identity == identity) {
                    Some(member) => member.name = name.clone(),
                    None => {
                        if g.group.members.len() >= MAX_MEMBERS {
                            return Err(GroupError::Limit(format!(
                                "the group has {MAX_MEMBERS} members, as many as a group may"
                            )));
                        }
                        g.group.members.push(GroupMember {
                            identity: identity.clone(),
                            name: name.clone(),
                            joined_at: ids::now_ms(),
                        });
                    }
                }
                g.devices.insert(identity.clone(), device.clone());
                Ok(())
            })
            .await?;
        self.presence.group_changed(&stored);
        self.joined(&stored, &identity, &name)
    }

    /// Check a group token against its group: the group exists, and the holder is a
    /// member of it.
    pub async fn member(&self, token: &str, group: &str) -> Result<Member, GroupError> {
        let claims = self.keys.verify_group(token)?;
        if claims.group != group {
            return Err(GroupError::Forbidden(format!(
                "your token is for group `{}`, not `{group}`: you are not a member of this one",
                claims.group
            )));
        }
        self.member_of(claims).await
    }

    async fn member_of(&self, claims: GroupClaims) -> Result<Member, GroupError> {
        if !is_group_id(&claims.group) {
            return Err(GroupError::NotFound);
        }
        let stored = self
            .store
            .get(&claims.group)
            .await?
            .ok_or(GroupError::NotFound)?;
        if !stored
            .group
            .members
            .iter()
            .any(|m| m.identity == claims.sub)
        {
            return Err(if stored.removed.contains(&claims.sub) {
                GroupError::Removed
            } else {
                GroupError::Forbidden("you are not a member of this group".into())
            });
        }
        Ok(Member {
            claims,
            group: stored,
        })
    }

    /// Whether `identity` may be in room `room`: any room that is not a group's standing
    /// room, and a group's to its members only.
    pub async fn admits(&self, room: &str, identity: &str) -> Result<(), GroupError> {
        let Some(id) = room.strip_prefix("group-").filter(|id| is_group_id(id)) else {
            return Ok(());
        };
        let stored = self.store.get(id).await?.ok_or(GroupError::NotFound)?;
        if stored.group.members.iter().any(|m| m.identity == identity) {
            Ok(())
        } else if stored.removed.iter().any(|r| r == identity) {
            Err(GroupError::Removed)
        } else {
            Err(GroupError::Forbidden(
                "this is a study group's room, for its members only".into(),
            ))
        }
    }

    /// A token of a presence `watch`: its claims and group, when it is a member's.
    pub async fn watch_view(&self, token: &str) -> Result<Member, GroupError> {
        let claims = self.keys.verify_group(token)?;
        self.member_of(claims).await
    }

    /// Read, change and write back group `id`, again while others write in between.
    /// Returns the group as written and what `change` returned.
    async fn modify<T>(
        &self,
        id: &str,
        mut change: impl FnMut(&mut StoredGroup) -> Result<T, GroupError>,
    ) -> Result<(StoredGroup, T), GroupError> {
        for _ in 0..WRITE_TRIES {
            let mut stored = self.store.get(id).await?.ok_or(GroupError::NotFound)?;
            let read = stored.version;
            let out = change(&mut stored)?;
            stored.version = read + 1;
            match self.store.replace(read, &stored).await? {
                Replaced::Done => return Ok((stored, out)),
                Replaced::InviteTaken => {
                    stored.group.invite = new_invite();
                    continue;
                }
                Replaced::Conflict => tokio::task::yield_now().await,
            }
        }
        Err(GroupError::Unavailable(
            "the group is being changed by many at once".into(),
        ))
    }

    /// The owner removes `target`, or a member removes themselves (leaves). A removed
    /// member (and the device they joined on) may not join again; one who left may.
    pub async fn remove_member(&self, member: &Member, target: &str) -> Result<(), GroupError> {
        let leaving = target == member.claims.sub;
        if !leaving && !member.is_owner() {
            return Err(GroupError::Forbidden(
                "only the group's owner removes members".into(),
            ));
        }
        if leaving && member.is_owner() {
            return Err(GroupError::Forbidden(
                "the owner cannot leave the group; delete it instead".into(),
            ));
        }
        let id = member.group.group.id.clone();
        let (stored, _) = self
            .modify(&id, |g| {
                let before = g.group.members.len();
                g.group.members.retain(|m| m.identity != target);
                if g.group.members.len() == before {
                    return Err(GroupError::Missing(format!("`{target}` is not a member")));
                }
                let device = g.devices.remove(target);
                if !leaving {
                    if !g.removed.iter().any(|r| r == target) {
                        g.removed.push(target.to_string());
                    }
                    // The invite they hold stops working too (the others see the new one).
                    g.group.invite = new_invite();
                    if let Some(device) = device.filter(|d| !g.removed_devices.contains(d)) {
                        g.removed_devices.push(device);
                    }
                }
                Ok(())
            })
            .await?;
        self.presence.member_removed(&stored, target);
        Ok(())
    }

    /// The owner makes a new invite code; the old one stops working.
    pub async fn new_invite(&self, member: &Member) -> Result<Group, GroupError> {
        if !member.is_owner() {
            return Err(GroupError::Forbidden(
                "only the group's owner makes a new invite".into(),
            ));
        }
        let (stored, _) = self
            .modify(&member.group.group.id, |g| {
                g.group.invite = new_invite();
                Ok(())
            })
            .await?;
        self.presence.group_changed(&stored);
        Ok(members_view(&stored))
    }

    /// The owner deletes the group.
    pub async fn delete(&self, member: &Member) -> Result<(), GroupError> {
        if !member.is_owner() {
            return Err(GroupError::Forbidden(
                "only the group's owner deletes it".into(),
            ));
        }
        self.store.delete(&member.group.group.id).await?;
        self.presence.group_deleted(&member.group);
        Ok(())
    }

    /// A member adds a session to the group's schedule.
    pub async fn add_session(
        &self,
        member: &Member,
        draft: SessionDraft,
    ) -> Result<StudySession, GroupError> {
        let draft = checked_draft(draft)?;
        let by = member.claims.sub.clone();
        let (stored, session) = self
            .modify(&member.group.group.id, |g| {
                if g.group.sessions.len() >= MAX_SESSIONS {
                    return Err(GroupError::Limit(format!(
                        "a group's schedule holds at most {MAX_SESSIONS} sessions"
                    )));
                }
                let session = StudySession {
                    id: new_session_id(),
                    by: by.clone(),
                    draft: draft.clone(),
                };
                g.group.sessions.push(session.clone());
                Ok(session)
            })
            .await?;
        self.presence.group_changed(&stored);
        Ok(session)
    }

    /// The owner, or whoever added it, replaces or (`draft` none) removes a session.
    pub async fn change_session(
        &self,
        member: &Member,
        session: &str,
        draft: Option<SessionDraft>,
    ) -> Result<Option<StudySession>, GroupError> {
        let draft = draft.map(checked_draft).transpose()?;
        let (owner, who) = (member.is_owner(), member.claims.sub.clone());
        let (stored, changed) = self
            .modify(&member.group.group.id, |g| {
                let at = g
                    .group
                    .sessions
                    .iter()
                    .position(|s| s.id == session)
                    .ok_or_else(|| GroupError::Missing(format!("no session `{session}`")))?;
                if !owner && g.group.sessions[at].by != who {
                    return Err(GroupError::Forbidden(
                        "only the group's owner, or whoever added it, changes a session".into(),
                    ));
                }
                Ok(match &draft {
                    Some(d) => {
                        g.group.sessions[at].draft = d.clone();
                        Some(g.group.sessions[at].clone())
                    }
                    None => {
                        g.group.sessions.remove(at);
                        None
                    }
                })
            })
            .await?;
        self.presence.group_changed(&stored);
        Ok(changed)
    }

    /// A room token for the group's standing room: a host's for the owner, a member's
    /// for the others. The room opens when the first of them joins it.
    pub fn room_ticket(&self, member: &Member) -> Result<RoomTicket, GroupError> {
        let group = &member.group.group;
        let name = group
            .members
            .iter()
            .find(|m| m.identity == member.claims.sub)
            .map_or(member.claims.name.as_str(), |m| m.name.as_str());
        let host = member.is_owner();
        let grants = if host {
            Grants::host()
        } else {
            Grants::member()
        };
        let device = member
            .group
            .devices
            .get(&member.claims.sub)
            .map(String::as_str);
        let token = self
            .keys
            .issue_on_device(
                &group.room,
                &member.claims.sub,
                name,
                grants,
                ROOM_TICKET_TTL,
                device,
            )
            .map_err(|e| GroupError::Unavailable(e.to_string()))?;
        Ok(RoomTicket {
            room: group.room.clone(),
            title: group.name.clone(),
            token,
            host,
            expires_at: (crate::auth::now_secs() + ROOM_TICKET_TTL.as_secs()) * 1000,
        })
    }
}

/// A draft with its title trimmed, checked against every schedule rule.
fn checked_draft(mut draft: SessionDraft) -> Result<SessionDraft, GroupError> {
    draft.title = draft.title.trim().to_string();
    schedule::validate(&draft).map_err(|e| GroupError::Invalid(e.0))?;
    Ok(draft)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SqliteGroups;

    fn groups(dir: &std::path::Path, max_groups: u64) -> Groups {
        let store: Arc<dyn GroupStore> = Arc::new(SqliteGroups::open_in(dir).unwrap());
        Groups::new(
            store.clone(),
            TokenKeys::new(b"unit-test-secret", Duration::ZERO),
            Invites::default(),
            max_groups,
            PresenceHub::embedded(store),
        )
    }

    fn addr(n: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, n])
    }

    fn create(name: &str, who: &str) -> CreateGroup {
        CreateGroup {
            name: name.into(),
            your_name: who.into(),
            device: format!("dev-{who}"),
            token: None,
        }
    }

    fn join(code: &str, who: &str, token: Option<&str>) -> JoinGroup {
        JoinGroup {
            code: code.into(),
            name: who.into(),
            device: format!("dev-{who}"),
            token: token.map(str::to_string),
        }
    }

    async fn invite_of(g: &Groups, id: &str) -> String {
        g.store.get(id).await.unwrap().unwrap().group.invite
    }

    async fn member(g: &Groups, joined: &GroupJoined) -> Member {
        g.member(&joined.token, &joined.group.id).await.unwrap()
    }

    #[tokio::test]
    async fn membership_rules() {
        let dir = tempfile::tempdir().unwrap();
        let g = groups(dir.path(), 10);
        let owner = g.create(create("Algebra", "ada"), addr(1)).await.unwrap();
        let code = owner.group.invite.clone();
        let bob = g.join(join(&code, "bob", None), addr(2)).await.unwrap();
        let cy = g.join(join(&code, "cy", None), addr(3)).await.unwrap();
        assert_eq!(
            g.store
                .get(&owner.group.id)
                .await
                .unwrap()
                .unwrap()
                .group
                .members
                .len(),
            3
        );

        // The same person on this relay keeps one identity across groups.
        let other = g
            .create(
                CreateGroup {
                    token: Some(bob.token.clone()),
                    ..create("Chemistry", "bob")
                },
                addr(2),
            )
            .await
            .unwrap();
        assert_eq!(other.identity, bob.identity);
        // A token for one group opens no other.
        assert!(matches!(
            g.member(&other.token, &owner.group.id).await,
            Err(GroupError::Forbidden(_))
        ));
        // Knowing a member's device id is not being them: a join on the owner's device
        // with no token is someone new, not the owner.
        let impostor = g
            .join(
                JoinGroup {
                    device: "dev-ada".into(),
                    ..join(&code, "mallory", None)
                },
                addr(5),
            )
            .await
            .unwrap();
        assert_ne!(impostor.identity, owner.identity);
        assert!(!member(&g, &impostor).await.is_owner());
        g.remove_member(&member(&g, &owner).await, &impostor.identity)
            .await
            .unwrap();
        // A member whose token ran out joins again as themselves.
        let expired = g.keys.sign_group(&crate::auth::GroupClaims {
            iss: crate::auth::ISSUER.into(),
            aud: crate::auth::GROUP_AUDIENCE.into(),
            sub: bob.identity.clone(),
            name: "bob".into(),
            group: owner.group.id.clone(),
            iat: 1,
            nbf: 1,
            exp: crate::auth::now_secs() - 60,
        });
        assert!(g.keys.verify_group(&expired).is_err(), "expired");
        let mut long_ago = g.keys.verify_group(&owner.token).unwrap();
        long_ago.exp = crate::auth::now_secs() - GROUP_TOKEN_TTL.as_secs() - 60;
        long_ago.sub = bob.identity.clone();
        let long_ago = g.keys.sign_group(&long_ago);
        // (Removing the impostor made a new invite.)
        let code = invite_of(&g, &owner.group.id).await;
        let stranger = g
            .join(join(&code, "stranger", Some(&long_ago)), addr(6))
            .await
            .unwrap();
        assert_ne!(
            stranger.identity, bob.identity,
            "a token expired longer ago than its lifetime names nobody"
        );
        g.remove_member(&member(&g, &owner).await, &stranger.identity)
            .await
            .unwrap();
        let code = invite_of(&g, &owner.group.id).await;
        let bob_again = g
            .join(join(&code, "bob", Some(&expired)), addr(2))
            .await
            .unwrap();
        assert_eq!(bob_again.identity, bob.identity);
        assert_eq!(
            g.store
                .get(&owner.group.id)
                .await
                .unwrap()
                .unwrap()
                .group
                .members
                .len(),
            3
        );

        let (o, b) = (member(&g, &owner).await, member(&g, &bob).await);
        assert!(o.is_owner() && !b.is_owner());
        // Only the owner removes; the owner cannot leave.
        assert!(matches!(
            g.remove_member(&b, &cy.identity).await,
            Err(GroupError::Forbidden(_))
        ));
        assert!(matches!(
            g.remove_member(&o, &owner.identity).await,
            Err(GroupError::Forbidden(_))
        ));
        assert!(matches!(
            g.new_invite(&b).await,
            Err(GroupError::Forbidden(_))
        ));
        assert!(matches!(g.delete(&b).await, Err(GroupError::Forbidden(_))));

        // Cy leaves and may come back; Bob is removed and may not.
        let c = member(&g, &cy).await;
        g.remove_member(&c, &cy.identity).await.unwrap();
        assert!(matches!(
            g.member(&cy.token, &owner.group.id).await,
            Err(GroupError::Forbidden(_))
        ));
        let code = invite_of(&g, &owner.group.id).await;
        g.join(join(&code, "cy", Some(&cy.token)), addr(3))
            .await
            .unwrap();
        g.remove_member(&o, &bob.identity).await.unwrap();
        assert!(matches!(
            g.member(&bob.token, &owner.group.id).await,
            Err(GroupError::Removed)
        ));
        // The invite Bob held stops working; the new one does not let him in either.
        assert!(matches!(
            g.join(join(&code, "bob", None), addr(2)).await,
            Err(GroupError::InviteNotFound)
        ));
        let code = invite_of(&g, &owner.group.id).await;
        assert!(matches!(
            g.join(join(&code, "bob", None), addr(2)).await,
            Err(GroupError::Removed)
        ));
        assert!(matches!(
            g.remove_member(&o, &bob.identity).await,
            Err(GroupError::Missing(_))
        ));

        // Owner tickets host the room; members' do not.
        assert!(g.room_ticket(&o).unwrap().host);
        assert!(!g.room_ticket(&member(&g, &cy).await).unwrap().host);

        // A new invite retires the old code.
        let renewed = g.new_invite(&o).await.unwrap();
        assert!(matches!(
            g.join(join(&code, "dee", None), addr(4)).await,
            Err(GroupError::InviteNotFound)
        ));
        g.join(join(&renewed.invite, "dee", None), addr(4))
            .await
            .unwrap();

        // Deleting ends every member's access.
        g.delete(&o).await.unwrap();
        assert!(matches!(
            g.member(&owner.token, &owner.group.id).await,
            Err(GroupError::NotFound)
        ));
    }

    #[tokio::test]
    async fn limits_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let g = groups(dir.path(), 1);
        g.create(create("One", "ada"), addr(1)).await.unwrap();
        assert!(matches!(
            g.create(create("Two", "ada"), addr(1)).await,
            Err(GroupError::Limit(m)) if m.contains("at most 1 groups")
        ));
        let off = groups(tempfile::tempdir().unwrap().path(), 0);
        assert!(matches!(
            off.create(create("x", "ada"), addr(1)).await,
            Err(GroupError::Forbidden(m)) if m.contains("max_groups")
        ));
        assert!(matches!(
            g.create(create(" ", "ada"), addr(1)).await,
            Err(GroupError::Invalid(_))
        ));
        assert!(matches!(
            g.join(join("nonsense!", "bob", None), addr(2)).await,
            Err(GroupError::Invalid(_))
        ));
        // Guessing codes is rate-limited per address.
        let mut limited = false;
        for _ in 0..20 {
            if let Err(GroupError::RateLimited(_)) =
                g.join(join("G-0000-0000", "bob", None), addr(9)).await
            {
                limited = true;
                break;
            }
        }
        assert!(limited);
    }
}
