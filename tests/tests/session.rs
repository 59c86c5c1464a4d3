//! What the desktop app relies on, through the client library against a real relay:
//! invite codes over HTTP, a room session that rejoins after the relay restarts and
//! waits for its requests' answers, and media whose tracks start idle and whose frames
//! reach encoded-video sinks.

use std::time::Duration;

use studyhall_client::invite::{self, InviteError, InviteTarget};
use studyhall_client::media::{EncodedVideo, MediaOptions, MediaSinks};
use studyhall_client::session::{
    ConnectionState, EndReason, RoomSession, SessionConfig, SessionError, SessionEvent,
};
use studyhall_protocol::{ErrorCode, MediaUpdate, ServerMessage, TrackSource};
use studyhall_tests::TestRelay;
use tokio::sync::mpsc;

fn no_media() -> MediaOptions {
    MediaOptions {
        camera: false,
        microphone: false,
        ..Default::default()
    }
}

async fn invite_for(relay: &TestRelay, room: &str) -> InviteTarget {
    let created = invite::create(
        &relay.addr().to_string(),
        &relay.host_token(room, "host-1"),
        None,
    )
    .await
    .expect("the host creates an invite");
    assert_eq!(created.room, room);
    invite::parse(&format!("{}@{}", created.code, relay.addr())).expect("the code parses")
}

async fn next_event(
    events: &mut mpsc::UnboundedReceiver<SessionEvent>,
    what: &str,
    mut pred: impl FnMut(&SessionEvent) -> bool,
) -> SessionEvent {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let event = tokio::time::timeout_at(deadline, events.recv())
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
            .unwrap_or_else(|| panic!("events ended while waiting for {what}"));
        if pred(&event) {
            return event;
        }
    }
}

#[tokio::test]
async fn an_invite_code_buys_a_personal_token_and_bad_ones_are_refused() {
    let relay = TestRelay::start().await;
    let target = invite_for(&relay, "algebra").await;

    let guest = invite::redeem(&target, "  Ada Lovelace ").await.unwrap();
    assert_eq!(guest.room, "algebra");
    assert_eq!(guest.name, "Ada Lovelace", "the name is trimmed");
    assert!(guest.identity.starts_with("guest-"));
    let other = invite::redeem(&target, "Grace").await.unwrap();
    assert_ne!(
        other.identity, guest.identity,
        "each guest is a new identity"
    );

    let config = SessionConfig {
        url: target.relay_url(),
        room: guest.room.clone(),
        token: guest.token.clone(),
        options: no_media(),
        sinks: MediaSinks::default(),
    };
    let (session, info, _events) = RoomSession::join(config).await.expect("the guest joins");
    assert_eq!(info.you.identity, guest.identity);
    assert_eq!(info.you.name, "Ada Lovelace");
    assert!(!info.you.grants.host);
    session.leave().await;

    // A wrong code, a member asking for invites, a blank name.
    let wrong = InviteTarget {
        code: "ZZZZ-ZZZZ".into(),
        ..target.clone()
    };
    match invite::redeem(&wrong, "Ada").await {
        Err(InviteError::Refused { status, code, .. }) => {
            assert_eq!((status, code.as_str()), (404, "invite_not_found"))
        }
        other => panic!("unexpected {other:?}"),
    }
    match invite::create(
        &relay.addr().to_string(),
        &relay.token("algebra", "member-1"),
        None,
    )
    .await
    {
        Err(InviteError::Refused { status, code, .. }) => {
            assert_eq!((status, code.as_str()), (403, "forbidden"))
        }
        other => panic!("unexpected {other:?}"),
    }
    match invite::create(&relay.addr().to_string(), "not-a-token", None).await {
        Err(InviteError::Refused { status, .. }) => assert_eq!(status, 401),
        other => panic!("unexpected {other:?}"),
    }
    match invite::redeem(&target, "   ").await {
        Err(InviteError::Refused { status, code, .. }) => {
            assert_eq!((status, code.as_str()), (400, "invalid_field"))
        }
        other => panic!("unexpected {other:?}"),
    }
    // Nobody listening: a clear "cannot reach".
    let nowhere = InviteTarget {
        relay: "127.0.0.1:9".into(),
        ..target
    };
    assert!(matches!(
        invite::redeem(&nowhere, "Ada").await,
        Err(InviteError::Unreachable { .. })
    ));
    relay.stop().await;
}

#[tokio::test]
async fn malformed_invite_requests_get_json_errors() {
    let relay = TestRelay::start().await;
    let addr = relay.addr();
    // Oversized, not JSON, unknown fields: refused with a JSON error, the relay carries on.
    for (body, status) in [
        ("x".repeat(10_000), "413"),
        ("not json".to_string(), "400"),
        (
            r#"{"code":"K7QX-29FD","name":"a","extra":1}"#.to_string(),
            "400",
        ),
    ] {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let req = format!(
            "POST /v1/invites/redeem HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        s.write_all(req.as_bytes()).await.unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        assert!(out.starts_with(&format!("HTTP/1.1 {status}")), "{out}");
        assert!(out.contains(r#""error":{"code":"#), "{out}");
    }
    let target = invite_for(&relay, "still-serving").await;
    assert!(invite::redeem(&target, "Ada").await.is_ok());
    relay.stop().await;
}

#[tokio::test]
async fn chat_waits_for_the_store_and_failures_come_back_to_the_sender() {
    let relay = TestRelay::start().await;
    let config = SessionConfig {
        url: relay.url(),
        room: "chat".into(),
        token: relay.host_token("chat", "hana"),
        options: no_media(),
        sinks: MediaSinks::default(),
    };
    let (session, _, _events) = RoomSession::join(config).await.unwrap();
    let stored = session.send_chat("m-1", "hello").await.unwrap();
    assert_eq!((stored.seq, stored.text.as_str()), (1, "hello"));
    // A retry of the same message is the same message.
    let again = session.send_chat("m-1", "hello").await.unwrap();
    assert_eq!(again.seq, 1);
    // Longer than the room's chat limit (4 KiB) but a valid frame: refused, with the
    // relay's reason, and the session carries on.
    let err = session
        .send_chat("m-2", &"x".repeat(5_000))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            SessionError::Refused {
                code: ErrorCode::InvalidText,
                ..
            }
        ),
        "{err:?}"
    );
    let next = session.send_chat("m-3", "still here").await.unwrap();
    assert_eq!(next.seq, 2);
    relay.stop().await;
}

#[tokio::test]
async fn the_session_rejoins_after_the_relay_restarts_and_nothing_is_lost() {
    let relay = TestRelay::start().await;
    let config = SessionConfig {
        url: relay.url(),
        room: "resilient".into(),
        token: relay.token("resilient", "rin"),
        options: no_media(),
        sinks: MediaSinks::default(),
    };
    let (session, info, mut events) = RoomSession::join(config).await.unwrap();
    let first = session
        .send_chat("before", "before the restart")
        .await
        .unwrap();

    let relay = relay.restart_in_place().await;
    next_event(&mut events, "reconnecting", |e| {
        matches!(
            e,
            SessionEvent::Connection {
                state: ConnectionState::Reconnecting,
                ..
            }
        )
    })
    .await;
    let rejoined = next_event(&mut events, "rejoined", |e| {
        matches!(e, SessionEvent::Rejoined(_))
    })
    .await;
    let SessionEvent::Rejoined(after) = rejoined else {
        unreachable!()
    };
    assert_eq!(
        after.you.identity, info.you.identity,
        "the same participant comes back"
    );
    assert!(
        after.chat.messages.iter().any(|m| m.seq == first.seq),
        "history survives: {:?}",
        after.chat
    );
    next_event(&mut events, "connected", |e| {
        matches!(
            e,
            SessionEvent::Connection {
                state: ConnectionState::Connected,
                ..
            }
        )
    })
    .await;
    let second = session
        .send_chat("after", "after the restart")
        .await
        .unwrap();
    assert_eq!(second.seq, first.seq + 1);
    let page = session.history(None).await.unwrap();
    assert_eq!(
        page.messages.iter().map(|m| m.seq).collect::<Vec<_>>(),
        vec![first.seq, second.seq]
    );
    relay.stop().await;
}

#[tokio::test]
async fn a_kick_ends_the_session_and_is_not_rejoined() {
    let relay = TestRelay::start().await;
    let config = SessionConfig {
        url: relay.url(),
        room: "strict".into(),
        token: relay.token("strict", "kai"),
        options: no_media(),
        sinks: MediaSinks::default(),
    };
    let (_session, _, mut events) = RoomSession::join(config).await.unwrap();
    let host_config = SessionConfig {
        url: relay.url(),
        room: "strict".into(),
        token: relay.host_token("strict", "hope"),
        options: no_media(),
        sinks: MediaSinks::default(),
    };
    let (host, _, _host_events) = RoomSession::join(host_config).await.unwrap();
    host.kick("kai").await.expect("the kick is confirmed");
    let ended = next_event(&mut events, "the end", |e| {
        matches!(e, SessionEvent::Ended(_))
    })
    .await;
    assert!(
        matches!(ended, SessionEvent::Ended(EndReason::Kicked { ref by, .. }) if by == "hope"),
        "{ended:?}"
    );
    // Members cannot kick or delete.
    let (member, _, _) = RoomSession::join(SessionConfig {
        url: relay.url(),
        room: "strict".into(),
        token: relay.token("strict", "mo"),
        options: no_media(),
        sinks: MediaSinks::default(),
    })
    .await
    .unwrap();
    match member.kick("hope").await {
        Err(SessionError::Refused { code, .. }) => assert_eq!(code, ErrorCode::Forbidden),
        other => panic!("unexpected {other:?}"),
    }
    relay.stop().await;
}

/// The app's media path: tracks published idle, turned on later without renegotiation;
/// our own encoded video (self-view) and the remote encoded video reach the sinks.
#[tokio::test]
async fn idle_tracks_turn_on_later_and_encoded_frames_reach_the_sinks() {
    let relay = TestRelay::start().await;
    let (self_tx, mut self_rx) = mpsc::channel::<EncodedVideo>(256);
    let sharer = SessionConfig {
        url: relay.url(),
        room: "media".into(),
        token: relay.token("media", "sam"),
        options: MediaOptions {
            camera: true,
            microphone: true,
            screen: false,
            idle_tracks: true,
            ..Default::default()
        },
        sinks: MediaSinks {
            encoded: Some(self_tx),
            ..Default::default()
        },
    };
    let (sam, _, _sam_events) = RoomSession::join(sharer).await.expect("sam joins");
    let (remote_tx, mut remote_rx) = mpsc::channel::<EncodedVideo>(256);
    let (audio_tx, mut audio_rx) = mpsc::channel(256);
    let viewer = SessionConfig {
        url: relay.url(),
        room: "media".into(),
        token: relay.token("media", "vic"),
        options: MediaOptions {
            camera: false,
            microphone: false,
            ..Default::default()
        },
        sinks: MediaSinks {
            encoded: Some(remote_tx),
            audio: Some(audio_tx),
            ..Default::default()
        },
    };
    let (_vic, _, mut vic_events) = RoomSession::join(viewer).await.expect("vic joins");

    // Self-view: our own camera, encoded, starting with a keyframe.
    let first = tokio::time::timeout(Duration::from_secs(10), self_rx.recv())
        .await
        .expect("self-view frames")
        .unwrap();
    assert_eq!(
        (first.identity.as_deref(), first.source),
        (None, TrackSource::Camera)
    );
    assert!(first.keyframe);

    // The viewer gets sam's camera as whole encoded frames, from a keyframe on, and audio.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let mut camera_frames = 0;
    let mut first_remote = None;
    while camera_frames < 10 {
        let frame = tokio::time::timeout_at(deadline, remote_rx.recv())
            .await
            .expect("remote camera frames")
            .unwrap();
        assert_eq!(frame.identity.as_deref(), Some("sam"));
        assert_eq!(
            frame.source,
            TrackSource::Camera,
            "the idle screen track sends nothing"
        );
        first_remote.get_or_insert(frame.keyframe);
        camera_frames += 1;
    }
    assert_eq!(
        first_remote,
        Some(true),
        "the first frame handed on is a keyframe"
    );
    let pcm = tokio::time::timeout(Duration::from_secs(10), audio_rx.recv())
        .await
        .expect("remote audio")
        .unwrap();
    assert_eq!(pcm.identity, "sam");
    assert_eq!(pcm.pcm.len(), 960, "20 ms at 48 kHz");

    // Turning the idle screen track on: frames flow with no new negotiation.
    sam.set_media(MediaUpdate {
        screen: Some(true),
        ..Default::default()
    })
    .await
    .expect("the screen turns on");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let frame = tokio::time::timeout_at(deadline, remote_rx.recv())
            .await
            .expect("screen frames arrive")
            .unwrap();
        if frame.source == TrackSource::Screen {
            assert!(frame.keyframe, "a track turned on starts with a keyframe");
            break;
        }
    }
    // The room hears about it.
    let mut vic_saw_screen = false;
    while let Ok(Some(event)) =
        tokio::time::timeout(Duration::from_secs(5), vic_events.recv()).await
    {
        if let SessionEvent::Message(ServerMessage::ParticipantUpdated { participant }) = event {
            if participant.identity == "sam" && participant.media.screen {
                vic_saw_screen = true;
                break;
            }
        }
    }
    assert!(vic_saw_screen, "vic sees sam's screen share state");
    sam.leave().await;
    relay.stop().await;
}

/// Requests made while no relay answers come back as errors rather than hanging.
#[tokio::test]
async fn requests_fail_cleanly_while_disconnected() {
    let relay = TestRelay::start().await;
    let (session, _, mut events) = RoomSession::join(SessionConfig {
        url: relay.url(),
        room: "gone".into(),
        token: relay.token("gone", "gil"),
        options: no_media(),
        sinks: MediaSinks::default(),
    })
    .await
    .unwrap();
    relay.stop().await;
    next_event(&mut events, "reconnecting", |e| {
        matches!(
            e,
            SessionEvent::Connection {
                state: ConnectionState::Reconnecting,
                ..
            }
        )
    })
    .await;
    let err = session.send_chat("x", "anyone?").await.unwrap_err();
    assert_eq!(err, SessionError::NotConnected);
}

/// Ending a hosted room: everyone's session ends at once with the reason, no rejoin.
#[tokio::test]
async fn ending_the_room_ends_every_session_without_rejoining() {
    let relay = TestRelay::start().await;
    let join = |token: String| {
        RoomSession::join(SessionConfig {
            url: relay.url(),
            room: "ending".into(),
            token,
            options: no_media(),
            sinks: MediaSinks::default(),
        })
    };
    let (host, _, mut host_events) = join(relay.host_token("ending", "hal")).await.unwrap();
    let (_guest, _, mut guest_events) = join(relay.token("ending", "gus")).await.unwrap();
    host.end_room().await.expect("the room ends");
    for events in [&mut guest_events, &mut host_events] {
        let ended = next_event(events, "the end", |e| {
            matches!(e, SessionEvent::Ended(_) | SessionEvent::Connection { .. })
        })
        .await;
        assert!(
            matches!(ended, SessionEvent::Ended(EndReason::RoomEnded { ref by }) if by == "hal"),
            "{ended:?}"
        );
    }
    relay.stop().await;
}

/// UDP to the relay's media port is blocked (the relay advertises an address that swallows
/// everything): the relay gives up on the connection and says why, the session rejoins
/// for fresh media a couple of times, then tells the user once and keeps chat working.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_that_cannot_reach_the_relay_is_retried_then_reported_and_chat_still_works() {
    use studyhall_relay::config::MediaAdvertise;
    let black_hole = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let swallowed = black_hole.local_addr().unwrap();
    let relay = TestRelay::start_with(|c| {
        c.media_advertise = Some(MediaAdvertise::Addr(swallowed));
        c.media_connect_timeout = Duration::from_secs(1);
    })
    .await;
    let config = SessionConfig {
        url: relay.url(),
        room: "r".into(),
        token: relay.token("r", "ada"),
        options: MediaOptions {
            microphone: false,
            ..Default::default()
        },
        sinks: MediaSinks::default(),
    };
    // Bob keeps the room alive meanwhile (a room ends with its last participant).
    let (_bob, _) = relay.join("r", "bob").await;
    let (session, _, mut events) = RoomSession::join(config).await.expect("ada joins");
    session.raise_hand().await.expect("ada raises her hand");

    let mut reconnects = Vec::new();
    let notice = loop {
        match next_event(
            &mut events,
            "a media failure to recover from or report",
            |e| {
                matches!(
                    e,
                    SessionEvent::Connection {
                        state: ConnectionState::Reconnecting,
                        ..
                    } | SessionEvent::Notice(_)
                        | SessionEvent::Ended(_)
                )
            },
        )
        .await
        {
            SessionEvent::Connection { message, .. } => {
                reconnects.push(message.unwrap_or_default())
            }
            SessionEvent::Notice(n) => break n,
            other => panic!("the session ended: {other:?}"),
        }
    };
    assert_eq!(
        reconnects.len(),
        2,
        "rejoined twice before giving up: {reconnects:?}"
    );
    for r in &reconnects {
        assert!(
            r.contains("media connection failed") && r.contains("did not connect within 1s"),
            "the reason reaches the user: {r}"
        );
    }
    assert!(
        notice.contains("Audio and video cannot connect") && notice.contains("UDP"),
        "{notice}"
    );

    // The rejoins for media kept her place in the room: her hand is still up.
    let (_cat, info) = relay.join("r", "cat").await;
    let hands: Vec<&str> = info
        .features
        .hands
        .iter()
        .map(|h| h.identity.as_str())
        .collect();
    assert_eq!(hands, ["ada"], "the hand outlives the media rejoins");

    // The session stays in the room: chat works, and no more rejoins for media.
    let sent = session.send_chat("m-1", "can you hear me?").await.unwrap();
    assert_eq!(sent.text, "can you hear me?");
    let quiet = tokio::time::timeout(Duration::from_secs(3), async {
        loop {
            if let Some(SessionEvent::Connection { .. }) = events.recv().await {
                return;
            }
        }
    })
    .await;
    assert!(quiet.is_err(), "no rejoin after giving up");
    session.leave().await;
    drop(black_hole);
}

/// In a lecture the app's unmute waits for the room: refused until the host lets the
/// student speak (and the microphone it opened is closed again), taken after.
#[tokio::test]
async fn an_unmute_in_a_lecture_is_refused_until_the_host_lets_you_speak() {
    use studyhall_protocol::{ClientFrame, LectureRequest, RoomMode};
    let relay = TestRelay::start().await;
    let (mut host, _) = relay.join_host("lecture", "host").await;
    for (id, request) in [
        (
            "m",
            LectureRequest::SetRoomMode {
                mode: RoomMode::Lecture,
            },
        ),
        (
            "s",
            LectureRequest::AllowSpeaking {
                identity: Some("pupil".into()),
                allowed: false,
            },
        ),
    ] {
        host.send_frame(&ClientFrame::with_request_id(request.into(), id))
            .await
            .unwrap();
    }
    let config = SessionConfig {
        url: relay.url(),
        room: "lecture".into(),
        token: relay.token("lecture", "pupil"),
        // As the app joins: tracks published idle, turned on by the toggles.
        options: MediaOptions {
            idle_tracks: true,
            ..no_media()
        },
        sinks: MediaSinks::default(),
    };
    let (session, _info, _events) = RoomSession::join(config).await.unwrap();
    let unmute = MediaUpdate {
        mic: Some(true),
        ..Default::default()
    };
    match session.set_media(unmute).await {
        Err(SessionError::Refused { code, message }) => {
            assert_eq!(code, ErrorCode::Forbidden);
            assert!(message.contains("lets you speak"), "{message}");
        }
        other => panic!("the unmute should be refused: {other:?}"),
    }
    host.send_frame(&ClientFrame::with_request_id(
        LectureRequest::AllowSpeaking {
            identity: Some("pupil".into()),
            allowed: true,
        }
        .into(),
        "a",
    ))
    .await
    .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match session.set_media(unmute).await {
            Ok(()) => break,
            Err(SessionError::Refused { .. }) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(e) => panic!("once let speak, the unmute is taken: {e}"),
        }
    }
    session.leave().await;
}
