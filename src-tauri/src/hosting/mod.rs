//! Hosting a room on this machine: the bundled relay as a child process, an invite for
//! others on the network, and ending it (everyone is told) when the host is done.

pub mod commands;
pub mod remembered;

use std::net::{IpAddr, Ipv4Addr, UdpSocket};
use std::time::Duration;

use studyhall_client::host::{HostOptions, HostedRelay};
use studyhall_client::invite::{self, InviteTarget as ClientTarget};
use studyhall_client::media::{MediaOptions, MediaSinks};
use studyhall_client::session::{RoomSession, SessionConfig};

use crate::error::{AppError, AppErrorKind};
use crate::room::types::Invite;
use crate::room::{self, Hosting, RoomContext};

/// How long a hosted room's invite and the host's token last.
const HOSTED_TTL: Duration = Duration::from_secs(24 * 3600);

/// The address others on the network reach this machine at: `forced` (the
/// `STUDYHALL_HOST_IP` setting) when given, else the address of the interface with the
/// default route, else loopback.
pub fn lan_ip(forced: Option<&str>) -> Result<IpAddr, AppError> {
    if let Some(text) = forced {
        return text.trim().parse().map_err(|_| {
            AppError::new(
                AppErrorKind::HostingFailed,
                format!("STUDYHALL_HOST_IP is set to {text:?}, which is not an IP address."),
            )
        });
    }
    // Connecting a UDP socket sends nothing; it only picks the outgoing interface.
    Ok(UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| s.connect("192.0.2.1:9").map(|_| s))
        .and_then(|s| s.local_addr())
        .map(|a| a.ip())
        .ok()
        .filter(|ip| !ip.is_unspecified())
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST)))
}

/// A room name from a title: `Linear Algebra!` → `linear-algebra-3f9a`.
pub fn room_name(title: &str) -> String {
    let mut slug = String::new();
    for c in title.trim().chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
        if slug.len() >= 40 {
            break;
        }
    }
    let slug = slug.trim_end_matches('-');
    let slug = if slug.is_empty() { "room" } else { slug };
    format!("{slug}-{}", hex::encode(rand::random::<[u8; 2]>()))
}

/// Start the bundled relay on this machine and make an invite to a new room.
pub async fn host(state: &RoomContext, title: &str, host_name: &str) -> Result<Invite, AppError> {
    let mut live = state.live.lock().await;
    if let Some(hosting) = &live.hosting {
        return Ok(hosting.invite.clone());
    }
    let title = title.trim();
    let title = if title.is_empty() {
        "Study room"
    } else {
        title
    };
    let ip = lan_ip(std::env::var("STUDYHALL_HOST_IP").ok().as_deref())?;
    // The same title hosted again within a day reopens its room (see `remembered`).
    let again = remembered::find(&state.data_dir, title);
    let options = |port| HostOptions {
        binary: None,
        ip,
        port,
        media_port: 0,
        data_dir: state.data_dir.join("hosted-relay"),
        upload_budget_kbps: Some(studyhall_client::host::DEFAULT_UPLOAD_BUDGET_KBPS),
    };
    let relay = match &again {
        // Its old port may be taken by now: then any port (guests rejoin by invite).
        Some(r) => match HostedRelay::start(options(r.port)).await {
            Ok(relay) => relay,
            Err(e) => {
                tracing::info!(port = r.port, error = %e, "the room's old port is not free");
                HostedRelay::start(options(0)).await?
            }
        },
        None => HostedRelay::start(options(0)).await?,
    };
    let (room, identity) = match again {
        Some(r) => {
            tracing::info!(room = %r.room, "reopening a room hosted before");
            (r.room, r.identity)
        }
        None => (
            room_name(title),
            format!("host-{}", hex::encode(rand::random::<[u8; 4]>())),
        ),
    };
    if let Err(e) = remembered::remember(
        &state.data_dir,
        remembered::hosted(title, &room, &identity, relay.addr().port()),
    ) {
        tracing::warn!(error = %e, "could not remember the hosted room");
    }
    let host_token = relay
        .token(&room, &identity, host_name, true, HOSTED_TTL)
        .await?;
    let relay_addr = relay.addr().to_string();
    let created = match invite::create(&relay_addr, &host_token, Some(HOSTED_TTL)).await {
        Ok(created) => created,
        Err(e) => {
            relay.stop().await;
            return Err(AppError::new(
                AppErrorKind::HostingFailed,
                format!("The room started but could not make an invite: {e}"),
            ));
        }
    };
    let target = ClientTarget {
        relay: relay_addr.clone(),
        code: created.code.clone(),
    };
    let invite = Invite {
        link: target.link(),
        code: target.short(),
        relay: relay_addr,
        room: room.clone(),
        expires_at: created.expires_at as f64,
    };
    tracing::info!(room = %room, relay = %invite.relay, "hosting a room");
    live.hosting = Some(Hosting {
        relay,
        invite: invite.clone(),
        target,
        host_token,
        room,
        title: title.to_string(),
    });
    Ok(invite)
}

/// What the room hosted on this machine uploads now.
#[derive(Debug, Clone, PartialEq, serde::Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct HostUpload {
    /// Bits per second, over about the last second.
    #[specta(type = u32)]
    pub bits_per_second: f64,
    /// The upload budget, bits per second (0: none).
    #[specta(type = u32)]
    pub budget_bits_per_second: f64,
    /// Video tiles the budget sends others smaller than they show them, and tiles on
    /// their screens it pauses: 0 and 0 while everything fits.
    #[specta(type = u32)]
    pub held_small: f64,
    #[specta(type = u32)]
    pub paused: f64,
}

/// The hosted room's upload, or `None` when this machine hosts nothing.
pub async fn host_upload(state: &RoomContext) -> Result<Option<HostUpload>, AppError> {
    // Asked without holding the room's lock: the relay may take a moment to answer.
    let addr = match &state.live.lock().await.hosting {
        Some(hosting) => hosting.relay.addr(),
        None => return Ok(None),
    };
    let upload = studyhall_client::host::HostUpload::fetch(addr)
        .await
        .map_err(|e| {
            AppError::new(
                AppErrorKind::HostingFailed,
                format!("Cannot read this room's upload: {e}"),
            )
        })?;
    Ok(Some(HostUpload {
        bits_per_second: upload.bits_per_second as f64,
        budget_bits_per_second: upload.budget_bits_per_second as f64,
        held_small: upload.held_small as f64,
        paused: upload.paused as f64,
    }))
}

/// End the hosted room: leave it, then stop the relay (it tells everyone).
pub async fn stop_hosting(state: &RoomContext) -> Result<(), AppError> {
    let (room, hosting) = {
        let mut live = state.live.lock().await;
        let hosting = live.hosting.take();
        let in_hosted = matches!((&live.room, &hosting), (Some(r), Some(h)) if r.room == h.room);
        (if in_hosted { live.room.take() } else { None }, hosting)
    };
    let in_room = room.is_some();
    if let Some(mut room) = room {
        // Tell everyone the room is over (so they do not wait for it to come back), then
        // go. Our own window already knows: stop its event pump first.
        for task in room.tasks.drain(..) {
            task.abort();
        }
        if let Err(e) = room.session.end_room().await {
            tracing::warn!(error = %e, "could not end the room cleanly");
        }
        room::leave_active(state, room).await;
    }
    if let Some(hosting) = hosting {
        if !in_room {
            // Not in our own room: step in briefly (no media) to end it for the guests,
            // so they are told it is over rather than waiting for it to come back.
            end_from_outside(&hosting).await;
        }
        tracing::info!(room = %hosting.room, "ending the hosted room");
        hosting.relay.stop().await;
    }
    Ok(())
}

async fn end_from_outside(hosting: &Hosting) {
    let config = SessionConfig {
        url: hosting.target.relay_url(),
        room: hosting.room.clone(),
        token: hosting.host_token.clone(),
        options: MediaOptions {
            camera: false,
            microphone: false,
            screen: false,
            ..Default::default()
        },
        sinks: MediaSinks::default(),
    };
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        let (session, _, _events) = RoomSession::join(config).await?;
        session
            .end_room()
            .await
            .map_err(|e| studyhall_client::media::MediaError::Refused(e.to_string()))
    })
    .await;
    if !matches!(ended, Ok(Ok(()))) {
        tracing::warn!("could not end the hosted room before stopping its relay");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_names_round_trip_through_titles() {
        let room = room_name("  Linear Algebra: week 3! ");
        assert!(room.starts_with("linear-algebra-week-3-"), "{room}");
        assert_eq!(room.len(), "linear-algebra-week-3-".len() + 4);
        assert_eq!(room::title_of(&room), "Linear algebra week 3");
        assert!(room_name("!!!").starts_with("room-"));
        assert!(room_name(&"x".repeat(200)).len() <= 45);
    }

    #[test]
    fn the_host_ip_can_be_forced_and_a_bad_one_is_an_error() {
        assert_eq!(
            lan_ip(Some(" 10.1.2.3 ")).unwrap(),
            IpAddr::from([10, 1, 2, 3])
        );
        let error = lan_ip(Some("my-laptop")).unwrap_err();
        assert_eq!(error.kind, AppErrorKind::HostingFailed);
        assert!(error.message.contains("my-laptop"), "{}", error.message);
        assert!(!lan_ip(None).unwrap().is_unspecified());
    }
}
