//! Study groups from the participant's side: the relay's group calls over HTTP
//! ([`GroupsApi`]), group invites (`studyhall://group?relay=…&code=G-…` or
//! `G-K7QX-29FD@host:port`), and the presence socket ([`PresenceWatch`]), which keeps
//! itself connected and says what changed.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde::de::DeserializeOwned;
use serde_json::json;
use studyhall_protocol::groups::{
    display_invite, normalize_invite, Group, GroupJoined, PresenceClient, PresenceServer,
    RoomTicket, PRESENCE_PATH,
};
use studyhall_protocol::schedule::{SessionDraft, StudySession};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use crate::features::materials::http_base;

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum GroupsError {
    #[error("{0}")]
    Invalid(String),
    #[error("cannot reach the relay: {0}")]
    Unreachable(String),
    /// The relay refused: its HTTP status, error code and message.
    #[error("{message}")]
    Refused {
        status: u16,
        code: String,
        message: String,
    },
}

impl GroupsError {
    /// The relay's error code (`invite_not_found`, `banned`, …), if it refused.
    pub fn code(&self) -> Option<&str> {
        match self {
            GroupsError::Refused { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// Where a group invite points: the relay (`host:port`) and the code (`G-K7QX-29FD`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupInvite {
    pub relay: String,
    pub code: String,
}

impl GroupInvite {
    pub fn link(&self) -> String {
        format!(
            "studyhall://group?relay={}&code={}",
            self.relay.replace(':', "%3A"),
            self.code
        )
    }

    /// `G-K7QX-29FD@192.168.1.20:7450`.
    pub fn short(&self) -> String {
        format!("{}@{}", self.code, self.relay)
    }

    /// Read a group invite link or short code.
    pub fn parse(text: &str) -> Result<GroupInvite, GroupsError> {
        let text = text.trim();
        let invalid = |m: &str| GroupsError::Invalid(m.to_string());
        let (relay, code) = if let Some(query) = text.strip_prefix("studyhall://group?") {
            let mut relay = None;
            let mut code = None;
            for pair in query.split('&') {
                match pair.split_once('=') {
                    Some(("relay", v)) => relay = Some(v.replace("%3A", ":").replace("%3a", ":")),
                    Some(("code", v)) => code = Some(v.to_string()),
                    _ => {}
                }
            }
            (
                relay.ok_or_else(|| invalid("the link has no relay address; copy it again"))?,
                code.ok_or_else(|| invalid("the link has no code; copy it again"))?,
            )
        } else if text.starts_with("studyhall://join?") {
            return Err(invalid(
                "that is a room invite; join it from the start screen's room box",
            ));
        } else {
            let (code, relay) = text.split_once('@').ok_or_else(|| {
                invalid("a group invite looks like G-K7QX-29FD@192.168.1.20:7450")
            })?;
            (relay.to_string(), code.to_string())
        };
        let code = normalize_invite(&code)
            .ok_or_else(|| invalid("the code is not a group invite code (like G-K7QX-29FD)"))?;
        // The same address rules as room invites.
        let checked = crate::invite::parse(&format!("K7QX-29FD@{}", relay.trim()))
            .map_err(|e| GroupsError::Invalid(e.to_string()))?;
        Ok(GroupInvite {
            relay: checked.relay,
            code: display_invite(&code),
        })
    }
}

/// The relay's group calls.
#[derive(Clone)]
pub struct GroupsApi {
    base: String,
    http: reqwest::Client,
}

fn unreachable(e: reqwest::Error) -> GroupsError {
    GroupsError::Unreachable(e.to_string())
}

async fn answer<T: DeserializeOwned>(response: reqwest::Response) -> Result<T, GroupsError> {
    let status = response.status().as_u16();
    if response.status().is_success() {
        return response.json().await.map_err(unreachable);
    }
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    Err(GroupsError::Refused {
        status,
        code: body["error"]["code"]
            .as_str()
            .unwrap_or("http_error")
            .to_string(),
        message: body["error"]["message"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| format!("the relay answered {status}")),
    })
}

async fn no_content(response: reqwest::Response) -> Result<(), GroupsError> {
    if response.status().is_success() {
        return Ok(());
    }
    answer::<serde_json::Value>(response).await.map(|_| ())
}

impl GroupsApi {
    /// `relay`: `host:port`, or a `ws://`/`http://` URL.
    pub fn new(relay: &str) -> Result<GroupsApi, GroupsError> {
        let url = if relay.contains("://") {
            relay.to_string()
        } else {
            format!("http://{relay}")
        };
        let base = http_base(&url).map_err(|e| GroupsError::Invalid(e.to_string()))?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .build()
            .map_err(unreachable)?;
        Ok(GroupsApi { base, http })
    }

    /// The presence socket's URL.
    pub fn presence_url(&self) -> String {
        format!(
            "{}{}",
            self.base
                .replacen("http://", "ws://", 1)
                .replacen("https://", "wss://", 1),
            PRESENCE_PATH
        )
    }

    fn url(&self, path: &str, group: &str) -> String {
        format!("{}{}", self.base, path.replace("{group}", group))
    }

    /// Create a group (`token`: a group token of this relay you hold, to keep your
    /// identity).
    pub async fn create(
        &self,
        name: &str,
        your_name: &str,
        device: &str,
        token: Option<&str>,
    ) -> Result<GroupJoined, GroupsError> {
        let body =
            json!({ "name": name, "your_name": your_name, "device": device, "token": token });
        let response = self
            .http
            .post(self.url(studyhall_protocol::groups::GROUPS_PATH, ""))
            .json(&body)
            .send()
            .await
            .map_err(unreachable)?;
        answer(response).await
    }

    /// Join by invite code.
    pub async fn join(
        &self,
        code: &str,
        name: &str,
        device: &str,
        token: Option<&str>,
    ) -> Result<GroupJoined, GroupsError> {
        let body = json!({ "code": code, "name": name, "device": device, "token": token });
        let response = self
            .http
            .post(self.url(studyhall_protocol::groups::GROUP_JOIN_PATH, ""))
            .json(&body)
            .send()
            .await
            .map_err(unreachable)?;
        answer(response).await
    }

    /// The group, and a renewed token when the relay gave one.
    pub async fn show(
        &self,
        group: &str,
        token: &str,
    ) -> Result<(Group, Option<String>), GroupsError> {
        let response = self
            .http
            .get(self.url(studyhall_protocol::groups::GROUP_PATH, group))
            .bearer_auth(token)
            .send()
            .await
            .map_err(unreachable)?;
        let renewed = response
            .headers()
            .get("studyhall-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        Ok((answer(response).await?, renewed))
    }

    /// Remove a member (the owner), or leave (your own identity).
    pub async fn remove_member(
        &self,
        group: &str,
        token: &str,
        identity: &str,
    ) -> Result<(), GroupsError> {
        let path = studyhall_protocol::groups::GROUP_MEMBER_PATH.replace("{identity}", identity);
        let response = self
            .http
            .delete(self.url(&path, group))
            .bearer_auth(token)
            .send()
            .await
            .map_err(unreachable)?;
        no_content(response).await
    }

    /// A new invite code (the owner); the old one stops working.
    pub async fn new_invite(&self, group: &str, token: &str) -> Result<Group, GroupsError> {
        let response = self
            .http
            .post(self.url(studyhall_protocol::groups::GROUP_INVITE_PATH, group))
            .bearer_auth(token)
            .send()
            .await
            .map_err(unreachable)?;
        answer(response).await
    }

    /// Delete the group (the owner).
    pub async fn delete(&self, group: &str, token: &str) -> Result<(), GroupsError> {
        let response = self
            .http
            .delete(self.url(studyhall_protocol::groups::GROUP_PATH, group))
            .bearer_auth(token)
            .send()
            .await
            .map_err(unreachable)?;
        no_content(response).await
    }

    pub async fn add_session(
        &self,
        group: &str,
        token: &str,
        draft: &SessionDraft,
    ) -> Result<StudySession, GroupsError> {
        let response = self
            .http
            .post(self.url(studyhall_protocol::groups::GROUP_SESSIONS_PATH, group))
            .bearer_auth(token)
            .json(draft)
            .send()
            .await
            .map_err(unreachable)?;
        answer(response).await
    }

    /// Replace a session (`draft`), or remove it (`None`).
    pub async fn change_session(
        &self,
        group: &str,
        token: &str,
        session: &str,
        draft: Option<&SessionDraft>,
    ) -> Result<(), GroupsError> {
        let url = self.url(
            &studyhall_protocol::groups::GROUP_SESSION_PATH.replace("{session}", session),
            group,
        );
        let request = match draft {
            Some(d) => self.http.put(url).json(d),
            None => self.http.delete(url),
        };
        let response = request
            .bearer_auth(token)
            .send()
            .await
            .map_err(unreachable)?;
        no_content(response).await
    }

    /// A room token for the group's standing room.
    pub async fn room_ticket(&self, group: &str, token: &str) -> Result<RoomTicket, GroupsError> {
        let response = self
            .http
            .post(self.url(studyhall_protocol::groups::GROUP_ROOM_PATH, group))
            .bearer_auth(token)
            .send()
            .await
            .map_err(unreachable)?;
        answer(response).await
    }
}

/// What a [`PresenceWatch`] reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PresenceEvent {
    /// A frame from the relay (`watching` first after every (re)connect).
    Server(PresenceServer),
    /// The socket dropped; it connects again by itself (`retry_in` from now).
    Lost { reason: String, retry_in: Duration },
}

enum Command {
    Watch(Vec<String>),
    Hidden(bool),
}

/// A presence socket to one relay that reconnects by itself (1 s, doubling to 30 s),
/// watching with the latest tokens and the latest choice to appear offline.
pub struct PresenceWatch {
    commands: mpsc::UnboundedSender<Command>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for PresenceWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl PresenceWatch {
    /// Start watching `tokens` on the relay at `relay` (`host:port` or a URL). Events
    /// arrive on the returned receiver.
    pub fn start(
        relay: &str,
        tokens: Vec<String>,
        hidden: bool,
    ) -> Result<(PresenceWatch, mpsc::UnboundedReceiver<PresenceEvent>), GroupsError> {
        let url = GroupsApi::new(relay)?.presence_url();
        let (events, rx) = mpsc::unbounded_channel();
        let (commands, commands_rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(keep_watching(url, tokens, hidden, events, commands_rx));
        Ok((PresenceWatch { commands, task }, rx))
    }

    /// Watch this set of tokens from now on.
    pub fn watch(&self, tokens: Vec<String>) {
        let _ = self.commands.send(Command::Watch(tokens));
    }

    /// Appear offline (or not).
    pub fn set_hidden(&self, hidden: bool) {
        let _ = self.commands.send(Command::Hidden(hidden));
    }
}

async fn keep_watching(
    url: String,
    mut tokens: Vec<String>,
    mut hidden: bool,
    events: mpsc::UnboundedSender<PresenceEvent>,
    mut commands: mpsc::UnboundedReceiver<Command>,
) {
    let mut backoff = Duration::from_secs(1);
    loop {
        let reason = match tokio_tungstenite::connect_async(url.as_str()).await {
            Err(e) => format!("cannot connect: {e}"),
            Ok((mut socket, _)) => {
                let watch = PresenceClient::Watch {
                    tokens: tokens.clone(),
                    hidden,
                    request_id: None,
                };
                let first = serde_json::to_string(&watch).unwrap_or_default();
                if let Err(e) = socket.send(Message::Text(first.into())).await {
                    format!("cannot send: {e}")
                } else {
                    let mut ping = tokio::time::interval(Duration::from_secs(10));
                    ping.tick().await;
                    loop {
                        tokio::select! {
                            frame = socket.next() => match frame {
                                Some(Ok(Message::Text(text))) => {
                                    match serde_json::from_str::<PresenceServer>(&text) {
                                        Ok(msg) => {
                                            if matches!(msg, PresenceServer::Watching { .. }) {
                                                backoff = Duration::from_secs(1);
                                            }
                                            if events.send(PresenceEvent::Server(msg)).is_err() {
                                                return;
                                            }
                                        }
                                        Err(e) => tracing::warn!(error = %e, "unreadable presence frame"),
                                    }
                                }
                                Some(Ok(Message::Close(frame))) => {
                                    break frame.map_or_else(|| "closed".to_string(), |f| format!("closed ({}): {}", u16::from(f.code), f.reason));
                                }
                                Some(Ok(_)) => {}
                                Some(Err(e)) => break format!("connection broke: {e}"),
                                None => break "connection ended".to_string(),
                            },
                            command = commands.recv() => {
                                let frame = match command {
                                    None => return,
                                    Some(Command::Watch(t)) => {
                                        tokens = t;
                                        PresenceClient::Watch { tokens: tokens.clone(), hidden, request_id: None }
                                    }
                                    Some(Command::Hidden(h)) => {
                                        hidden = h;
                                        PresenceClient::SetHidden { hidden, request_id: None }
                                    }
                                };
                                let text = serde_json::to_string(&frame).unwrap_or_default();
                                if let Err(e) = socket.send(Message::Text(text.into())).await {
                                    break format!("cannot send: {e}");
                                }
                            }
                            _ = ping.tick() => {
                                let text = serde_json::to_string(&PresenceClient::Ping { request_id: None }).unwrap_or_default();
                                if let Err(e) = socket.send(Message::Text(text.into())).await {
                                    break format!("cannot send: {e}");
                                }
                            }
                        }
                    }
                }
            }
        };
        if events
            .send(PresenceEvent::Lost {
                reason,
                retry_in: backoff,
            })
            .is_err()
        {
            return;
        }
        // Commands that came while away are kept for the next watch.
        let sleep = tokio::time::sleep(backoff);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                _ = &mut sleep => break,
                command = commands.recv() => match command {
                    None => return,
                    Some(Command::Watch(t)) => tokens = t,
                    Some(Command::Hidden(h)) => hidden = h,
                },
            }
        }
        backoff = (backoff * 2).min(Duration::from_secs(30));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_invites_read_as_links_and_codes() {
        let short = GroupInvite::parse("g-k7qx-29fd@192.168.1.20:7450").unwrap();
        assert_eq!(short.code, "G-K7QX-29FD");
        assert_eq!(short.relay, "192.168.1.20:7450");
        assert_eq!(GroupInvite::parse(&short.link()).unwrap(), short);
        assert_eq!(GroupInvite::parse(&short.short()).unwrap(), short);
        assert!(
            GroupInvite::parse("studyhall://join?relay=a%3A1&code=K7QX-29FD")
                .unwrap_err()
                .to_string()
                .contains("room invite")
        );
        assert!(GroupInvite::parse("G-K7QX@host:1").is_err());
        assert!(GroupInvite::parse("G-K7QX-29FD@host").is_err());
        assert!(GroupInvite::parse("G-K7QX-29FD").is_err());
    }
}
