//! Rooms from the app's side: hosting one (the bundled relay as a child process),
//! joining one by invite, and carrying its events, audio and levels to the UI.
//!
//! The logic of being in a room lives in `studyhall_client::session`; this module wires
//! it to the window: events become [`RoomEvent`]s, received audio goes to the speaker,
//! video frames to the [`VideoHub`](crate::video::VideoHub).

pub mod commands;
mod live;
pub mod types;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use studyhall_client::invite;
use studyhall_client::media::{MediaOptions, MediaSinks, RemoteAudio, VideoFormat};
use studyhall_client::session::{
    ConnectionState as SessionConnection, EndReason, RoomSession, SessionConfig, SessionEvent,
};
use studyhall_client::signal::JoinInfo;
use studyhall_client::source::device::Speaker;
use studyhall_protocol::{self as proto, ErrorCode, ServerMessage, TrackSource};
use tokio::sync::mpsc;

use crate::error::{AppError, AppErrorKind};
use crate::settings::{Profile, RecentRoom, SettingsState};
use crate::video::VideoHub;
pub use live::{ActiveRoom, Bridge, Hosting, Live, Picked, RoomContext};
use types::*;

/// A title from a room name: `linear-algebra-3f9a` → `Linear algebra`.
pub fn title_of(room: &str) -> String {
    let base = match room.rsplit_once('-') {
        Some((base, suffix))
            if suffix.len() == 4 && suffix.chars().all(|c| c.is_ascii_hexdigit()) =>
        {
            base
        }
        _ => room,
    };
    let words = base.replace(['-', '_', '.'], " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => room.to_string(),
    }
}

fn now_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as f64)
        .unwrap_or(0.0)
}

pub(crate) async fn leave_active(state: &RoomContext, mut room: ActiveRoom) {
    for task in room.tasks.drain(..) {
        task.abort();
    }
    if let Err(e) = room.study.flush() {
        tracing::warn!(error = %e.message, "study time not written");
    }
    room.session.leave().await;
    drop(room);
    state.video.forget_all();
}

/// Leave the room we are in (the room goes on; a hosted relay keeps running).
pub async fn leave(state: &RoomContext) -> Result<(), AppError> {
    let room = {
        let mut live = state.live.lock().await;
        live.leaves += 1;
        live.room.take()
    };
    match room {
        Some(room) => {
            leave_active(state, room).await;
            Ok(())
        }
        None => Err(AppError::not_in_room()),
    }
}

/// Join by invite link or code, with the saved profile.
pub async fn join(
    state: &RoomContext,
    settings: &SettingsState,
    invite_text: &str,
    profile: Profile,
    start: JoinMedia,
) -> Result<RoomSnapshot, AppError> {
    let target = invite::parse(invite_text)?;
    if state.live.lock().await.room.is_some() {
        return Err(AppError::new(
            AppErrorKind::AlreadyInRoom,
            "You are already in a room; leave it first.",
        ));
    }
    // Our own hosted room: join with the host's token.
    let hosted = {
        let live = state.live.lock().await;
        live.hosting
            .as_ref()
            .filter(|h| h.target == target)
            .map(|h| {
                (
                    h.room.clone(),
                    h.host_token.clone(),
                    h.title.clone(),
                    h.invite.clone(),
                )
            })
    };
    let (room, token, title, hosting) = match hosted {
        Some((room, token, title, invite)) => (room, token, title, Some(invite)),
        None => {
            let device = device_id(&state.data_dir);
            let redeemed =
                invite::redeem_on(&target, &profile.display_name, device.as_deref()).await?;
            let title = title_of(&redeemed.room);
            (redeemed.room, redeemed.token, title, None)
        }
    };
    let entry = Entry {
        relay: target.relay.clone(),
        room,
        token,
        title,
        hosting,
        recent_link: Some(target.link()),
    };
    join_entry(state, settings, entry, profile, start).await
}

/// A room to enter, resolved: its relay (`host:port`), name, a token for it, its title,
/// our hosting of it (if ours), and the link the recent-rooms list keeps (none for a
/// group's room, which is opened from the group).
pub struct Entry {
    pub relay: String,
    pub room: String,
    pub token: String,
    pub title: String,
    pub hosting: Option<Invite>,
    pub recent_link: Option<String>,
}

/// Enter a resolved room with the saved profile.
pub async fn join_entry(
    state: &RoomContext,
    settings: &SettingsState,
    entry: Entry,
    profile: Profile,
    start: JoinMedia,
) -> Result<RoomSnapshot, AppError> {
    let Entry {
        relay,
        room,
        token,
        title,
        hosting,
        recent_link,
    } = entry;
    let leaves = {
        let live = state.live.lock().await;
        if live.room.is_some() {
            return Err(AppError::new(
                AppErrorKind::AlreadyInRoom,
                "You are already in a room; leave it first.",
            ));
        }
        live.leaves
    };
    // Stop the device check, and wait until it has let go of the devices: the room
    // opens them next.
    let preview = state.live.lock().await.preview.take();
    if let Some(preview) = preview {
        preview.stop().await;
    }

    let (audio_tx, audio_rx) = mpsc::channel::<RemoteAudio>(256);
    state.noise.set(profile.noise_suppression);
    let options = MediaOptions {
        camera: start.camera,
        microphone: start.mic,
        screen: false,
        idle_tracks: true,
        noise_suppression: state.noise.clone(),
        // Also 320×180 at 100 kbit/s, which the relay sends to small tiles.
        small_camera_layer: true,
        camera_input: profile.camera.input(),
        microphone_input: profile.microphone.input(),
        screen_input: profile.screen.input(),
        camera_format: VideoFormat {
            width: 640,
            height: 360,
            fps: 15,
            bitrate_kbps: 500,
        },
        screen_format: VideoFormat {
            width: 1280,
            height: 720,
            fps: 10,
            bitrate_kbps: 1200,
        },
    };
    let sinks = MediaSinks {
        encoded: Some(state.video.sink()),
        audio: Some(audio_tx),
        decoded: None,
    };
    let mut config = SessionConfig {
        url: format!("ws://{relay}"),
        room: room.clone(),
        token,
        options,
        sinks,
    };
    let mut problems = Vec::new();
    let joined = match RoomSession::join(config.clone()).await {
        Err(studyhall_client::media::MediaError::Source(message)) => {
            // A device that will not open must not keep the user out: join with it off.
            tracing::warn!(%message, "joining with camera and microphone off");
            problems.push(message);
            config.options.camera = false;
            config.options.microphone = false;
            RoomSession::join(config.clone()).await
        }
        other => other,
    };
    let (session, info, events) = joined?;
    let materials =
        studyhall_client::features::materials::Materials::new(&config.url, &room, &config.token)
            .map_err(|e| AppError::new(AppErrorKind::RelayUnreachable, e.to_string()))?;
    let session = Arc::new(session);
    let others: HashSet<String> = info
        .participants
        .iter()
        .filter(|p| p.identity != info.you.identity)
        .map(|p| p.identity.clone())
        .collect();
    let others = Arc::new(Mutex::new(others));
    let media = Arc::new(Mutex::new(MediaState::from(info.you.media)));
    let speaker_problem = Arc::new(Mutex::new(None));
    let offset = measure_clock(&session).await;
    let snapshot = snapshot_of(&info, &title, hosting.clone(), offset);
    let study = state.study.track(&room, &title);

    let tasks = vec![
        crate::study::Study::spawn_flusher(&study),
        tokio::spawn(sync_clock(state.bridge.clone(), session.clone())),
        tokio::spawn(play_audio(
            audio_rx,
            profile.speaker.clone(),
            speaker_problem.clone(),
        )),
        tokio::spawn(pump_events(
            state.bridge.clone(),
            state.live.clone(),
            state.video.clone(),
            session.clone(),
            events,
            others.clone(),
            media.clone(),
            title.clone(),
            hosting.clone(),
            study.clone(),
            info.features.timer.clone(),
        )),
    ];
    for message in problems {
        state.bridge.room_event(RoomEvent::Notice {
            message: format!("Joined with camera and microphone off: {message}"),
        });
    }
    if let Some(link) = recent_link {
        let recent = RecentRoom {
            room: room.clone(),
            title: title.clone(),
            invite: link,
            relay: relay.clone(),
            last_joined: now_ms(),
            hosted: hosting.is_some(),
        };
        if let Err(e) = settings
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .touch_recent(&recent)
        {
            tracing::warn!(error = %e, "cannot remember the room");
        }
    }
    let mut live = state.live.lock().await;
    if live.room.is_some() || live.leaves != leaves {
        // Another join finished first, or the user left, while this one connected.
        let left = live.leaves != leaves;
        drop(live);
        for task in &tasks {
            task.abort();
        }
        session.leave().await;
        if left {
            return Err(AppError::new(
                AppErrorKind::NotInRoom,
                "You left before the room opened.",
            ));
        }
        return Err(AppError::new(
            AppErrorKind::AlreadyInRoom,
            "You are already in a room; leave it first.",
        ));
    }
    live.room = Some(ActiveRoom {
        materials,
        session,
        room,
        others,
        media,
        speaker_problem,
        study,
        tasks,
    });
    Ok(snapshot)
}

/// This app's own id (`device-id` in its data directory, made on first use): sent when
/// redeeming an invite, so a host's kick holds against this device. `None` when it
/// cannot be read or written (the invite still works).
pub(crate) fn device_id(dir: &std::path::Path) -> Option<String> {
    let path = dir.join("device-id");
    if let Ok(text) = std::fs::read_to_string(&path) {
        let id = text.trim();
        if id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Some(id.to_string());
        }
    }
    let id = hex::encode(rand::random::<[u8; 16]>());
    match std::fs::create_dir_all(dir).and_then(|()| std::fs::write(&path, &id)) {
        Ok(()) => Some(id),
        Err(e) => {
            tracing::warn!(error = %e, "cannot keep a device id; joining without one");
            None
        }
    }
}

fn snapshot_of(
    info: &JoinInfo,
    title: &str,
    hosting: Option<Invite>,
    clock_offset_ms: Option<i64>,
) -> RoomSnapshot {
    let you = &info.you.identity;
    RoomSnapshot {
        room: info.room.clone(),
        title: title.to_string(),
        you: Participant::from_proto(&info.you, you),
        participants: info
            .participants
            .iter()
            .filter(|p| &p.identity != you)
            .map(|p| Participant::from_proto(p, you))
            .collect(),
        chat: info.chat.clone().into(),
        hosting,
        max_chat_bytes: info.limits.max_chat_bytes as f64,
        features: info.features.clone(),
        clock_offset_ms: clock_offset_ms.map(|o| o as f64),
    }
}

/// The relay clock's offset from ours, measured now (five pings), if it answers soon.
async fn measure_clock(session: &RoomSession) -> Option<i64> {
    match tokio::time::timeout(Duration::from_secs(3), session.relay_clock_offset(5)).await {
        Ok(Ok(offset)) => Some(offset),
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "clock offset not measured");
            None
        }
        Err(_) => None,
    }
}

async fn play_audio(
    mut audio: mpsc::Receiver<RemoteAudio>,
    speaker: Option<String>,
    problem: Arc<Mutex<Option<String>>>,
) {
    let opened = tokio::task::spawn_blocking(move || Speaker::open(speaker.as_deref())).await;
    let speaker = match opened {
        Ok(Ok(speaker)) => Some(speaker),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "no speaker; remote audio is not played");
            *problem.lock().unwrap_or_else(|p| p.into_inner()) = Some(no_speaker(&e));
            None
        }
        Err(e) => {
            *problem.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
            None
        }
    };
    let mut frames: u64 = 0;
    while let Some(frame) = audio.recv().await {
        if let Some(speaker) = &speaker {
            speaker.push(&frame.identity, &frame.pcm);
            // Now and then: did the output stream fail (a device unplugged)?
            frames += 1;
            if frames % 50 == 0 {
                *problem.lock().unwrap_or_else(|p| p.into_inner()) = speaker.last_error();
            }
        }
    }
}

/// What the room says when no speaker could be opened: what it means for the user and
/// what to do, with the system's reason last.
fn no_speaker(error: &impl std::fmt::Display) -> String {
    format!(
        "No speaker could be opened, so you won't hear the others. Choose one under \
         Camera & microphone on the start screen (or connect headphones and rejoin). ({error})"
    )
}

/// Room events to the window, and our bookkeeping of who is here.
#[allow(clippy::too_many_arguments)]
async fn pump_events(
    bridge: Arc<dyn Bridge>,
    live: Arc<tokio::sync::Mutex<Live>>,
    video: VideoHub,
    session: Arc<RoomSession>,
    mut events: mpsc::UnboundedReceiver<SessionEvent>,
    others: Arc<Mutex<HashSet<String>>>,
    media: Arc<Mutex<MediaState>>,
    title: String,
    hosting: Option<Invite>,
    study: Arc<crate::study::Tracking>,
    timer: proto::TimerState,
) {
    let you = session.identity().to_string();
    // The timer as last seen, to tell how long a focus phase that ran out was.
    let mut timer = Some(timer);
    while let Some(event) = events.recv().await {
        let out = match event {
            SessionEvent::Message(message) => match message {
                ServerMessage::ParticipantJoined { participant } => {
                    others
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(participant.identity.clone());
                    Some(RoomEvent::ParticipantJoined {
                        participant: Participant::from_proto(&participant, &you),
                    })
                }
                ServerMessage::ParticipantLeft { identity, reason } => {
                    others
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .remove(&identity);
                    for source in [TrackSource::Camera, TrackSource::Screen] {
                        video.forget(&format!("{identity}:{}", source.as_str()));
                    }
                    let reason = serde_json::to_value(reason)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default();
                    Some(RoomEvent::ParticipantLeft { identity, reason })
                }
                ServerMessage::ParticipantUpdated { participant } => {
                    if participant.identity == you {
                        *media.lock().unwrap_or_else(|p| p.into_inner()) = participant.media.into();
                    }
                    Some(RoomEvent::ParticipantUpdated {
                        participant: Participant::from_proto(&participant, &you),
                    })
                }
                ServerMessage::ChatMessage { message } => Some(RoomEvent::ChatMessage {
                    message: message.into(),
                }),
                ServerMessage::ChatDeleted { seq, .. } => {
                    Some(RoomEvent::ChatDeleted { seq: seq as f64 })
                }
                ServerMessage::Feature(event) => {
                    if let proto::FeatureEvent::Timer(proto::TimerEvent::Timer {
                        timer: t, ..
                    }) = &event
                    {
                        // Events queued before a rejoin's snapshot may be older than it.
                        if timer.as_ref().is_some_and(|held| t.now < held.now) {
                            continue;
                        }
                        for seconds in focus_completed(timer.as_ref(), &event) {
                            if let Err(e) = study.focus_completed(seconds) {
                                tracing::warn!(error = %e.message, "focus phase not recorded");
                            }
                        }
                        timer = Some(t.clone());
                    }
                    Some(RoomEvent::Feature { event })
                }
                ServerMessage::Speakers { active, speaking } => {
                    Some(RoomEvent::Speakers { active, speaking })
                }
                ServerMessage::Shutdown { reason, .. } => Some(RoomEvent::Notice {
                    message: format!("The room's host is restarting ({reason}); reconnecting…"),
                }),
                // The session recovers from these itself (it rejoins, and past a limit
                // sends its own notice); the relay's wording is for clients, not people.
                ServerMessage::Error {
                    code: ErrorCode::MediaFailed,
                    ..
                } => None,
                ServerMessage::Error {
                    message,
                    request_id: None,
                    ..
                } => Some(RoomEvent::Notice { message }),
                _ => None,
            },
            SessionEvent::Connection { state, message } => Some(RoomEvent::Connection {
                state: match state {
                    SessionConnection::Connected => ConnectionState::Connected,
                    SessionConnection::Reconnecting => ConnectionState::Reconnecting,
                    SessionConnection::Lost => ConnectionState::Lost,
                },
                message,
            }),
            SessionEvent::Notice(message) => Some(RoomEvent::Notice { message }),
            SessionEvent::Rejoined(info) => {
                timer = Some(info.features.timer.clone());
                // The room may be on another node now, with another clock.
                let offset = measure_clock(&session).await;
                *others.lock().unwrap_or_else(|p| p.into_inner()) = info
                    .participants
                    .iter()
                    .filter(|p| p.identity != you)
                    .map(|p| p.identity.clone())
                    .collect();
                Some(RoomEvent::Resynced {
                    snapshot: snapshot_of(&info, &title, hosting.clone(), offset),
                })
            }
            SessionEvent::Ended(reason) => {
                let event = match reason {
                    // The `lost` connection event already told the window (it offers to
                    // rejoin); the room is only forgotten here.
                    EndReason::Lost(_) => None,
                    EndReason::Kicked { by, reason } => Some(RoomEvent::Kicked { by, reason }),
                    EndReason::RoomEnded { .. } => Some(RoomEvent::RoomEnded {
                        reason: "The host ended the room.".into(),
                    }),
                    EndReason::Replaced => Some(RoomEvent::RoomEnded {
                        reason: "You joined this room from somewhere else.".into(),
                    }),
                    EndReason::Refused { message, .. } => Some(RoomEvent::RoomEnded {
                        reason: format!("The room no longer admits you: {message}"),
                    }),
                };
                if let Some(event) = event {
                    bridge.room_event(event);
                }
                // The room is over: forget it (if it is still this session).
                let mut live = live.lock().await;
                if live
                    .room
                    .as_ref()
                    .is_some_and(|r| Arc::ptr_eq(&r.session, &session))
                {
                    if let Some(mut room) = live.room.take() {
                        // Do not abort ourselves.
                        room.tasks.clear();
                    }
                }
                video.forget_all();
                return;
            }
        };
        if let Some(out) = out {
            bridge.room_event(out);
        }
    }
}

/// The lengths (seconds) of the focus phases a timer event completed: phases that ran
/// out, not skipped ones. `before` is the timer as last seen (its running phase's length
/// is the one that ended, whatever the settings say now).
fn focus_completed(before: Option<&proto::TimerState>, event: &proto::FeatureEvent) -> Vec<u64> {
    let proto::FeatureEvent::Timer(proto::TimerEvent::Timer {
        timer,
        change: proto::TimerChange::PhaseEnded,
        ..
    }) = event
    else {
        return vec![];
    };
    let Some(run) = timer.run else {
        return vec![];
    };
    let count = match before {
        Some(b) => timer.focus_completed.saturating_sub(b.focus_completed),
        None => u32::from(run.phase != proto::Phase::Focus),
    };
    let setting = u64::from(timer.settings.focus_secs);
    let first = before
        .and_then(|b| b.run)
        .filter(|r| r.phase == proto::Phase::Focus)
        .map_or(setting, |r| r.phase_ms / 1000);
    // A rejoin after a long absence may cover many; a day's worth at most.
    (0..count.min(96))
        .map(|i| if i == 0 { first } else { setting })
        .collect()
}

/// How far the relay's clock is from ours, told to the window every minute so the focus
/// timer shows the same time left everywhere (clocks drift). The first measurement is in
/// the room's snapshot, and a rejoin's in its `resynced`.
async fn sync_clock(bridge: Arc<dyn Bridge>, session: Arc<RoomSession>) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        match session.relay_clock_offset(5).await {
            Ok(offset) => bridge.room_event(RoomEvent::ClockOffset {
                offset_ms: offset as f64,
            }),
            Err(studyhall_client::session::SessionError::Ended) => return,
            Err(e) => tracing::debug!(error = %e, "clock offset not measured"),
        }
    }
}

/// Levels and device problems, 5 times a second while previewing or in a room.
pub async fn pump_status(bridge: Arc<dyn Bridge>, live: Arc<tokio::sync::Mutex<Live>>) {
    let mut ticker = tokio::time::interval(Duration::from_millis(200));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        ticker.tick().await;
        let status = {
            let live = live.lock().await;
            if let Some(room) = &live.room {
                Some(room_status(room))
            } else {
                live.preview.as_ref().map(|preview| {
                    let s = preview.status();
                    let mut problems = Vec::new();
                    if let Some(m) = s.camera_error {
                        problems.push(DeviceProblem {
                            device: DeviceKind::Camera,
                            message: m,
                        });
                    }
                    if let Some(m) = s.microphone_error {
                        problems.push(DeviceProblem {
                            device: DeviceKind::Microphone,
                            message: m,
                        });
                    }
                    MediaStatus {
                        levels: vec![Level {
                            key: "self".into(),
                            level: s.level,
                        }],
                        problems,
                        links: Vec::new(),
                    }
                })
            }
        };
        if let Some(status) = status {
            bridge.media_status(status);
        }
    }
}

fn room_status(room: &ActiveRoom) -> MediaStatus {
    let media = *room.media.lock().unwrap_or_else(|p| p.into_inner());
    let mut levels = Vec::new();
    let mut problems = Vec::new();
    let mut links = Vec::new();
    room.session.stats().update(|s| {
        let percent = |x: f64| (x * 100.0).round().clamp(0.0, 100.0) as u8;
        for (identity, recent) in s.links(std::time::Instant::now()) {
            links.push(Link {
                identity,
                quality: recent.quality.into(),
                loss_percent: percent(recent.loss),
                bad_frames_percent: percent(recent.bad_frames),
            });
        }
        let mic = s.sent.get(TrackSource::Microphone.as_str());
        levels.push(Level {
            key: "self".into(),
            level: if media.mic {
                mic.map_or(0.0, |t| t.level)
            } else {
                0.0
            },
        });
        for (source, kind) in [
            (TrackSource::Camera, DeviceKind::Camera),
            (TrackSource::Microphone, DeviceKind::Microphone),
            (TrackSource::Screen, DeviceKind::Screen),
        ] {
            if let Some(message) = s.sent.get(source.as_str()).and_then(|t| t.error.clone()) {
                problems.push(DeviceProblem {
                    device: kind,
                    message,
                });
            }
        }
        for track in s.received.values() {
            if track.kind == "audio" && track.active {
                levels.push(Level {
                    key: track.identity.clone(),
                    level: track.current_level(),
                });
            }
        }
    });
    if let Some(message) = room
        .speaker_problem
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
    {
        problems.push(DeviceProblem {
            device: DeviceKind::Speaker,
            message,
        });
    }
    MediaStatus {
        levels,
        problems,
        links,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_speaker_is_explained_in_plain_words() {
        let text = no_speaker(&"default: device not found");
        assert!(text.starts_with("No speaker could be opened, so you won't hear the others."));
        assert!(text.contains("Camera & microphone"));
        assert!(
            !text.contains("capture"),
            "a speaker does not capture: {text}"
        );
        assert!(text.ends_with("(default: device not found)"));
    }

    #[test]
    fn titles_come_from_room_names() {
        assert_eq!(
            title_of("linear-algebra-week-3-3f9a"),
            "Linear algebra week 3"
        );
        assert_eq!(title_of("chem_lab"), "Chem lab");
    }

    #[test]
    fn only_focus_phases_that_ran_out_are_recorded_with_their_own_length() {
        use proto::{Phase, TimerChange};
        let state = |phase, phase_ms, completed| proto::TimerState {
            focus_completed: completed,
            run: Some(proto::TimerRun {
                phase,
                round: 1,
                phase_ms,
                ends_at: Some(1),
                remaining_ms: phase_ms,
                paused: false,
            }),
            ..Default::default()
        };
        let event = |change, timer| {
            proto::FeatureEvent::Timer(proto::TimerEvent::Timer {
                timer,
                change,
                by: None,
            })
        };
        let setting = u64::from(proto::TimerSettings::default().focus_secs);
        // A 50-minute focus ran out (the settings say 25 now).
        let before = state(Phase::Focus, 3_000_000, 0);
        let ended = event(
            TimerChange::PhaseEnded,
            state(Phase::ShortBreak, 300_000, 1),
        );
        assert_eq!(focus_completed(Some(&before), &ended), vec![3000]);
        // Without an earlier view: one phase of the set length.
        assert_eq!(focus_completed(None, &ended), vec![setting]);
        // One event covering two focus phases (after a stall).
        let two = event(
            TimerChange::PhaseEnded,
            state(Phase::ShortBreak, 300_000, 2),
        );
        assert_eq!(focus_completed(Some(&before), &two), vec![3000, setting]);
        // A break that ran out, and a skipped focus, complete none.
        let brk = state(Phase::ShortBreak, 300_000, 1);
        let after_break = event(TimerChange::PhaseEnded, state(Phase::Focus, 1_500_000, 1));
        assert!(focus_completed(Some(&brk), &after_break).is_empty());
        let skipped = event(TimerChange::Skipped, state(Phase::ShortBreak, 300_000, 0));
        assert!(focus_completed(Some(&before), &skipped).is_empty());
    }
}
