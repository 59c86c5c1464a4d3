//! Study groups in the app: the groups this app belongs to (kept in `groups.json`), the
//! personal study blocks (`study-blocks.json`), one presence socket per relay those
//! groups live on, the calendar (sessions expanded in their own time zones), reminders
//! a few minutes before a session, and the relay that keeps the groups hosted on this
//! computer (started with the app when there are any).
//!
//! Everything the UI shows of groups comes as one [`GroupsChanged`] event carrying the
//! whole [`GroupsView`], sent after every change; it is small (a handful of groups).

pub mod commands;
pub mod reminders;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use studyhall_client::groups::{GroupInvite, GroupsApi, PresenceEvent, PresenceWatch};
use studyhall_client::host::{HostOptions, HostedRelay};
use studyhall_protocol::groups::{Group, GroupJoined, MemberPresence, PresenceServer};
use studyhall_protocol::schedule::{self, Occurrence, StudySession};
use tokio::sync::Mutex;

use crate::error::{AppError, AppErrorKind};

/// The groups this app belongs to, in its data directory.
pub const GROUPS_FILE: &str = "groups.json";
/// Personal study blocks.
pub const BLOCKS_FILE: &str = "study-blocks.json";
/// The port of the relay keeping this computer's groups, kept so invites stay good.
pub const RELAY_FILE: &str = "group-relay.json";
/// Most personal study blocks.
pub const MAX_BLOCKS: usize = 200;

/// One group this app belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    /// The relay, `host:port`.
    pub relay: String,
    pub group: String,
    pub identity: String,
    pub token: String,
    /// Kept on this computer's relay.
    #[serde(default)]
    pub hosted_here: bool,
    /// The group as last seen (shown while its relay cannot be reached).
    pub last_seen: Option<Group>,
}

/// A group as the UI shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct GroupCard {
    pub group: Group,
    pub relay: String,
    /// Your identity in it.
    pub you: String,
    pub owner: bool,
    pub hosted_here: bool,
    /// `studyhall://group?…` and `G-XXXX-XXXX@host:port`.
    pub invite_link: String,
    pub invite_code: String,
    /// Every member's presence (offline until told otherwise).
    pub presence: Vec<MemberPresence>,
    /// Whether its relay's presence socket is up; otherwise why not.
    pub connected: bool,
    pub problem: Option<String>,
}

/// Everything the UI shows of groups.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
#[serde(rename_all = "camelCase")]
pub struct GroupsChanged {
    pub groups: Vec<GroupCard>,
    /// Personal study blocks.
    pub blocks: Vec<StudySession>,
    /// Appearing offline to every group.
    pub hidden: bool,
}

/// One occurrence on the calendar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct CalendarEntry {
    /// The group it belongs to; `null` for a personal block.
    pub group: Option<String>,
    pub group_name: Option<String>,
    pub occurrence: Occurrence,
}

/// What the window side must do for groups: tell the UI, raise notifications.
pub trait GroupsBridge: Send + Sync {
    fn groups_changed(&self, view: GroupsChanged);
    fn reminder(&self, reminder: reminders::SessionReminder);
}

#[derive(Default)]
struct Inner {
    memberships: Vec<Membership>,
    blocks: Vec<StudySession>,
    hidden: bool,
    /// Presence by relay, then identity.
    presence: HashMap<String, HashMap<String, MemberPresence>>,
    /// The presence socket of each relay, and whether it is up (or why not).
    watches: HashMap<String, PresenceWatch>,
    status: HashMap<String, Result<(), String>>,
    /// This computer's group relay, while it runs.
    relay: Option<HostedRelay>,
}

/// The app's groups.
pub struct Groups {
    dir: PathBuf,
    bridge: Arc<dyn GroupsBridge>,
    inner: Mutex<Inner>,
    /// Held while this computer's group relay starts.
    starting: Mutex<()>,
    pub reminders: std::sync::Mutex<reminders::Reminders>,
}

/// `path` read as JSON; an unreadable file is moved aside (`<name>.unreadable`, never
/// overwritten by the next save) and the app starts afresh.
fn read_json<T: serde::de::DeserializeOwned + Default>(path: &Path) -> T {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text).unwrap_or_else(|e| {
            let aside = path.with_extension("unreadable");
            let kept = std::fs::rename(path, &aside).is_ok();
            tracing::warn!(file = %path.display(), error = %e, kept = %aside.display(), moved = kept, "unreadable; starting afresh");
            T::default()
        }),
        Err(_) => T::default(),
    }
}

/// Write `value` as JSON to `path` through a temporary file, so a crash never leaves half.
fn write_json(path: &Path, value: &impl Serialize) -> Result<(), AppError> {
    let storage = |e: std::io::Error| {
        AppError::new(
            AppErrorKind::Storage,
            format!("Could not save {}: {e}", path.display()),
        )
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(storage)?;
    }
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| AppError::new(AppErrorKind::Internal, e.to_string()))?;
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).map_err(storage)?;
    std::fs::rename(&tmp, path).map_err(storage)
}

fn invite_of(relay: &str, group: &Group) -> GroupInvite {
    GroupInvite {
        relay: relay.to_string(),
        code: group.invite.clone(),
    }
}

impl Groups {
    /// The groups kept in `dir`.
    pub fn open(dir: &Path, bridge: Arc<dyn GroupsBridge>) -> Arc<Groups> {
        let memberships: Vec<Membership> = read_json(&dir.join(GROUPS_FILE));
        let blocks: Vec<StudySession> = read_json(&dir.join(BLOCKS_FILE));
        Arc::new(Groups {
            dir: dir.to_path_buf(),
            bridge,
            inner: Mutex::new(Inner {
                memberships,
                blocks,
                ..Inner::default()
            }),
            starting: Mutex::new(()),
            reminders: std::sync::Mutex::new(reminders::Reminders::default()),
        })
    }

    /// Start the relay for this computer's groups (if any) and a presence socket per
    /// relay, then keep the reminders ticking.
    pub async fn start(self: &Arc<Self>) {
        let hosted = self
            .inner
            .lock()
            .await
            .memberships
            .iter()
            .any(|m| m.hosted_here);
        if hosted {
            if let Err(e) = self.ensure_relay().await {
                tracing::warn!(error = %e.message, "the relay for this computer's groups did not start");
            }
        }
        self.rewatch().await;
        self.refresh_all().await;
        tokio::spawn(reminders::run(Arc::downgrade(self)));
    }

    /// The relay of this computer's groups: running, or started now (on its old port
    /// when it is free, so invites already handed out stay good).
    pub async fn ensure_relay(&self) -> Result<String, AppError> {
        // One start at a time; the groups stay readable while it starts (seconds).
        let _starting = self.starting.lock().await;
        if let Some(relay) = &self.inner.lock().await.relay {
            return Ok(relay.addr().to_string());
        }
        #[derive(Default, Serialize, Deserialize)]
        struct Kept {
            port: u16,
        }
        let kept: Kept = read_json(&self.dir.join(RELAY_FILE));
        let ip = crate::hosting::lan_ip(std::env::var("STUDYHALL_HOST_IP").ok().as_deref())?;
        let options = |port| HostOptions {
            binary: None,
            ip,
            port,
            media_port: 0,
            data_dir: self.dir.join("group-relay"),
            upload_budget_kbps: Some(studyhall_client::host::DEFAULT_UPLOAD_BUDGET_KBPS),
        };
        let relay = match HostedRelay::start(options(kept.port)).await {
            Ok(relay) => relay,
            Err(e) if kept.port != 0 => {
                tracing::warn!(port = kept.port, error = %e, "the groups' old port is taken; members must be invited again");
                HostedRelay::start(options(0)).await?
            }
            Err(e) => return Err(e.into()),
        };
        let addr = relay.addr().to_string();
        let _ = write_json(
            &self.dir.join(RELAY_FILE),
            &Kept {
                port: relay.addr().port(),
            },
        );
        let mut inner = self.inner.lock().await;
        // Memberships kept here follow the relay to its address.
        let mut moved = false;
        for m in inner.memberships.iter_mut().filter(|m| m.hosted_here) {
            moved |= m.relay != addr;
            m.relay = addr.clone();
        }
        if moved {
            if let Err(e) = self.save(&inner) {
                tracing::warn!(error = %e.message, "the groups' new address is not saved");
            }
        }
        inner.relay = Some(relay);
        tracing::info!(relay = %addr, "the relay for this computer's groups runs");
        Ok(addr)
    }

    /// Stop this computer's group relay (the app quits).
    pub async fn stop(&self) {
        let relay = {
            let mut inner = self.inner.lock().await;
            inner.watches.clear();
            inner.relay.take()
        };
        if let Some(relay) = relay {
            relay.stop().await;
        }
    }

    /// The whole view, as the UI gets it.
    pub async fn view(&self) -> GroupsChanged {
        Self::view_of(&*self.inner.lock().await)
    }

    fn view_of(inner: &Inner) -> GroupsChanged {
        let groups = inner
            .memberships
            .iter()
            .filter_map(|m| {
                let group = m.last_seen.clone()?;
                let known = inner.presence.get(&m.relay);
                let presence = group
                    .members
                    .iter()
                    .map(|member| {
                        known
                            .and_then(|k| k.get(&member.identity))
                            .cloned()
                            .unwrap_or_else(|| MemberPresence::offline(&member.identity))
                    })
                    .collect();
                let invite = invite_of(&m.relay, &group);
                let status = inner.status.get(&m.relay);
                Some(GroupCard {
                    owner: group.owner == m.identity,
                    invite_link: invite.link(),
                    invite_code: invite.short(),
                    relay: m.relay.clone(),
                    you: m.identity.clone(),
                    hosted_here: m.hosted_here,
                    presence,
                    connected: matches!(status, Some(Ok(()))),
                    problem: match status {
                        Some(Err(why)) => Some(why.clone()),
                        Some(Ok(())) => None,
                        None => Some("connecting…".into()),
                    },
                    group,
                })
            })
            .collect();
        GroupsChanged {
            groups,
            blocks: inner.blocks.clone(),
            hidden: inner.hidden,
        }
    }

    async fn changed(&self) {
        let view = self.view().await;
        self.bridge.groups_changed(view);
    }

    fn save(&self, inner: &Inner) -> Result<(), AppError> {
        write_json(&self.dir.join(GROUPS_FILE), &inner.memberships)
    }

    /// One presence socket per relay, watching every group kept there.
    /// (Boxed: the presence pump it starts calls it again, and an `async fn` that reaches
    /// itself has no nameable type to be `Send`.)
    fn rewatch(
        self: &Arc<Self>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
        Box::pin(async move {
            let mut inner = self.inner.lock().await;
            let mut by_relay: HashMap<String, Vec<String>> = HashMap::new();
            for m in &inner.memberships {
                by_relay
                    .entry(m.relay.clone())
                    .or_default()
                    .push(m.token.clone());
            }
            inner
                .watches
                .retain(|relay, _| by_relay.contains_key(relay));
            inner.status.retain(|relay, _| by_relay.contains_key(relay));
            let hidden = inner.hidden;
            for (relay, tokens) in by_relay {
                if let Some(watch) = inner.watches.get(&relay) {
                    watch.watch(tokens);
                    continue;
                }
                match PresenceWatch::start(&relay, tokens, hidden) {
                    Ok((watch, events)) => {
                        inner.watches.insert(relay.clone(), watch);
                        tokio::spawn(pump(Arc::downgrade(self), relay, events));
                    }
                    Err(e) => {
                        inner.status.insert(relay, Err(e.to_string()));
                    }
                }
            }
        })
    }

    /// What a relay's presence socket said.
    async fn heard(self: &Arc<Self>, relay: &str, event: PresenceEvent) {
        let mut dropped = false;
        {
            let mut inner = self.inner.lock().await;
            match event {
                PresenceEvent::Lost { reason, .. } => {
                    inner
                        .status
                        .insert(relay.to_string(), Err(format!("reconnecting: {reason}")));
                }
                PresenceEvent::Server(msg) => match msg {
                    PresenceServer::Watching {
                        groups,
                        presence,
                        refused,
                        ..
                    } => {
                        // Tokens for groups that are gone for us (deleted, or we were
                        // removed while away): the groups are dropped. `index` is the
                        // token's place in the watch, the memberships' order there.
                        let gone: Vec<String> = refused
                            .iter()
                            .filter(|r| is_gone(Some(r.code.as_str())))
                            .filter_map(|r| {
                                inner
                                    .memberships
                                    .iter()
                                    .filter(|m| m.relay == relay)
                                    .nth(r.index as usize)
                                    .map(|m| m.group.clone())
                            })
                            .collect();
                        if !gone.is_empty() {
                            inner
                                .memberships
                                .retain(|m| !(m.relay == relay && gone.contains(&m.group)));
                            let _ = self.save(&inner);
                            dropped = true;
                        }
                        inner.status.insert(relay.to_string(), Ok(()));
                        let known = inner.presence.entry(relay.to_string()).or_default();
                        known.clear();
                        for p in presence {
                            known.insert(p.identity.clone(), p);
                        }
                        for g in groups {
                            Self::seen(&mut inner, relay, g);
                        }
                    }
                    PresenceServer::Presence { presence } => {
                        inner
                            .presence
                            .entry(relay.to_string())
                            .or_default()
                            .insert(presence.identity.clone(), presence);
                    }
                    PresenceServer::GroupUpdated { group } => Self::seen(&mut inner, relay, group),
                    PresenceServer::GroupGone { group, reason } => {
                        tracing::info!(group, reason, "a group is gone");
                        inner
                            .memberships
                            .retain(|m| !(m.relay == relay && m.group == group));
                        let _ = self.save(&inner);
                        dropped = true;
                    }
                    _ => {}
                },
            }
        }
        if dropped {
            self.rewatch().await;
        }
        self.changed().await;
    }

    fn seen(inner: &mut Inner, relay: &str, group: Group) {
        if let Some(m) = inner
            .memberships
            .iter_mut()
            .find(|m| m.relay == relay && m.group == group.id)
        {
            m.last_seen = Some(group);
        }
    }

    /// Read every group again (and renew its token).
    async fn refresh_all(self: &Arc<Self>) {
        self.refresh(None).await;
    }

    /// Read `group` (or every group) again, renewing its token; a group that is gone,
    /// or that we were removed from, is dropped.
    async fn refresh(self: &Arc<Self>, only: Option<&str>) {
        let memberships: Vec<Membership> = self
            .inner
            .lock()
            .await
            .memberships
            .iter()
            .filter(|m| only.is_none_or(|g| m.group == g))
            .cloned()
            .collect();
        let mut dropped = false;
        for m in memberships {
            let Ok(api) = GroupsApi::new(&m.relay) else {
                continue;
            };
            match api.show(&m.group, &m.token).await {
                Ok((group, renewed)) => {
                    let mut inner = self.inner.lock().await;
                    if let Some(kept) = inner
                        .memberships
                        .iter_mut()
                        .find(|k| k.relay == m.relay && k.group == m.group)
                    {
                        kept.last_seen = Some(group);
                        if let Some(token) = renewed {
                            kept.token = token;
                        }
                    }
                    let _ = self.save(&inner);
                }
                Err(e) if is_gone(e.code()) => {
                    tracing::info!(group = %m.group, error = %e, "a group is gone for us");
                    let mut inner = self.inner.lock().await;
                    inner
                        .memberships
                        .retain(|k| !(k.relay == m.relay && k.group == m.group));
                    let _ = self.save(&inner);
                    dropped = true;
                }
                Err(e) => tracing::info!(group = %m.group, error = %e, "a group could not be read"),
            }
        }
        if dropped {
            self.rewatch().await;
        }
        self.changed().await;
    }

    async fn add_membership(
        self: &Arc<Self>,
        relay: &str,
        joined: GroupJoined,
        hosted_here: bool,
    ) -> Result<GroupCard, AppError> {
        let id = joined.group.id.clone();
        {
            let mut inner = self.inner.lock().await;
            inner
                .memberships
                .retain(|m| !(m.relay == relay && m.group == id));
            inner.memberships.push(Membership {
                relay: relay.to_string(),
                group: id.clone(),
                identity: joined.identity,
                token: joined.token,
                hosted_here,
                last_seen: Some(joined.group),
            });
            self.save(&inner)?;
        }
        self.rewatch().await;
        self.changed().await;
        self.card(&id).await
    }

    async fn card(&self, group: &str) -> Result<GroupCard, AppError> {
        self.view()
            .await
            .groups
            .into_iter()
            .find(|c| c.group.id == group)
            .ok_or_else(|| no_group(group))
    }

    /// A token of this relay already held: the same identity joins the next group.
    async fn token_on(&self, relay: &str) -> Option<String> {
        self.inner
            .lock()
            .await
            .memberships
            .iter()
            .find(|m| m.relay == relay)
            .map(|m| m.token.clone())
    }

    /// The membership of `group`.
    async fn membership(&self, group: &str) -> Result<Membership, AppError> {
        self.inner
            .lock()
            .await
            .memberships
            .iter()
            .find(|m| m.group == group)
            .cloned()
            .ok_or_else(|| no_group(group))
    }

    async fn forget(self: &Arc<Self>, group: &str) -> Result<(), AppError> {
        {
            let mut inner = self.inner.lock().await;
            inner.memberships.retain(|m| m.group != group);
            self.save(&inner)?;
        }
        self.rewatch().await;
        self.changed().await;
        Ok(())
    }

    /// Every occurrence in `[from_ms, to_ms)`: the groups' sessions and personal blocks.
    pub async fn calendar(&self, from_ms: u64, to_ms: u64) -> Result<Vec<CalendarEntry>, AppError> {
        let inner = self.inner.lock().await;
        let mut out = vec![];
        if to_ms < from_ms || to_ms - from_ms > schedule::MAX_WINDOW_DAYS * 86_400_000 {
            return Err(AppError::new(
                AppErrorKind::InvalidInput,
                format!(
                    "The calendar shows at most {} days at once.",
                    schedule::MAX_WINDOW_DAYS
                ),
            ));
        }
        // A session this app cannot expand (a time zone it does not know, say) is left
        // out, not the whole calendar.
        let mut add = |group: Option<&Group>, session: &StudySession| match schedule::expand(
            session, from_ms, to_ms,
        ) {
            Ok(occurrences) => {
                out.extend(occurrences.into_iter().map(|occurrence| CalendarEntry {
                    group: group.map(|g| g.id.clone()),
                    group_name: group.map(|g| g.name.clone()),
                    occurrence,
                }))
            }
            Err(e) => {
                tracing::warn!(session = %session.id, error = %e, "a session left off the calendar")
            }
        };
        for m in &inner.memberships {
            if let Some(group) = &m.last_seen {
                for s in &group.sessions {
                    add(Some(group), s);
                }
            }
        }
        for s in &inner.blocks {
            add(None, s);
        }
        out.sort_by_key(|e| e.occurrence.start_ms);
        Ok(out)
    }

    /// Every session the reminders look at: (group, group name, session).
    pub async fn all_sessions(&self) -> Vec<(Option<String>, Option<String>, StudySession)> {
        let inner = self.inner.lock().await;
        let mut out = vec![];
        for m in &inner.memberships {
            if let Some(g) = &m.last_seen {
                for s in &g.sessions {
                    out.push((Some(g.id.clone()), Some(g.name.clone()), s.clone()));
                }
            }
        }
        out.extend(inner.blocks.iter().map(|s| (None, None, s.clone())));
        out
    }

    async fn save_blocks(
        &self,
        change: impl FnOnce(&mut Vec<StudySession>) -> Result<(), AppError>,
    ) -> Result<(), AppError> {
        {
            let mut inner = self.inner.lock().await;
            let mut blocks = inner.blocks.clone();
            change(&mut blocks)?;
            write_json(&self.dir.join(BLOCKS_FILE), &blocks)?;
            inner.blocks = blocks;
        }
        self.changed().await;
        Ok(())
    }

    async fn set_hidden(&self, hidden: bool) {
        {
            let mut inner = self.inner.lock().await;
            inner.hidden = hidden;
            for watch in inner.watches.values() {
                watch.set_hidden(hidden);
            }
        }
        self.changed().await;
    }
}

/// Whether a relay's error code means the group is gone for us: deleted, or we were
/// removed (or left) while away.
fn is_gone(code: Option<&str>) -> bool {
    matches!(code, Some("not_found" | "banned" | "forbidden"))
}

fn no_group(group: &str) -> AppError {
    AppError::new(
        AppErrorKind::InvalidInput,
        format!("This app is not in the group `{group}`."),
    )
}

/// Hand a relay's presence events to the groups while both live.
async fn pump(
    groups: std::sync::Weak<Groups>,
    relay: String,
    mut events: tokio::sync::mpsc::UnboundedReceiver<PresenceEvent>,
) {
    while let Some(event) = events.recv().await {
        let Some(groups) = groups.upgrade() else {
            return;
        };
        groups.heard(&relay, event).await;
    }
}
