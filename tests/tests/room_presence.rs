//! Join, leave, media state and presence reach everyone in the room; dead and replaced
//! connections are cleaned up; a full room refuses clearly.

use std::time::Duration;

use studyhall_client::SignalClient;
use studyhall_protocol::{
    ClientMessage, CloseCode, ErrorCode, LeaveReason, MediaState, MediaUpdate, Presence,
    PresenceRequest, Role, ServerMessage,
};
use studyhall_tests::{expect, expect_close, expect_error, expect_none, join_refused, TestRelay};

#[tokio::test]
async fn join_leave_and_media_state_reach_everyone() {
    let relay = TestRelay::start().await;
    let (mut ada, info) = relay.join_host("algebra", "ada").await;
    assert_eq!(info.room, "algebra");
    assert_eq!(info.you.identity, "ada");
    assert_eq!(info.you.name, "Ada");
    assert_eq!(info.you.role, Role::Host);
    assert_eq!(info.participants.len(), 1);
    assert_eq!(info.limits.max_room_size, 25);

    let (mut bob, info) = relay.join("algebra", "bob").await;
    assert_eq!(info.you.role, Role::Member);
    let mut ids: Vec<_> = info
        .participants
        .iter()
        .map(|p| p.identity.clone())
        .collect();
    ids.sort();
    assert_eq!(ids, ["ada", "bob"]);
    let joined = expect(&mut ada, "bob joined", |m| {
        matches!(m, ServerMessage::ParticipantJoined { .. })
    })
    .await;
    let ServerMessage::ParticipantJoined { participant } = joined else {
        unreachable!()
    };
    assert_eq!(participant.identity, "bob");
    assert_eq!(participant.media, MediaState::default());

    bob.send(ClientMessage::SetMedia(MediaUpdate {
        mic: Some(true),
        camera: Some(true),
        screen: None,
    }))
    .await
    .unwrap();
    for client in [&mut ada, &mut bob] {
        let msg = expect(client, "bob's media update", |m| {
            matches!(m, ServerMessage::ParticipantUpdated { .. })
        })
        .await;
        let ServerMessage::ParticipantUpdated { participant } = msg else {
            unreachable!()
        };
        assert_eq!(participant.identity, "bob");
        assert!(participant.media.mic && participant.media.camera && !participant.media.screen);
    }

    bob.send(ClientMessage::SetMedia(MediaUpdate {
        mic: Some(false),
        ..Default::default()
    }))
    .await
    .unwrap();
    let msg = expect(&mut ada, "bob muted", |m| {
        matches!(m, ServerMessage::ParticipantUpdated { .. })
    })
    .await;
    let ServerMessage::ParticipantUpdated { participant } = msg else {
        unreachable!()
    };
    assert!(
        !participant.media.mic && participant.media.camera,
        "absent fields keep their value"
    );

    bob.send(
        PresenceRequest::SetPresence {
            presence: Presence::OnBreak,
        }
        .into(),
    )
    .await
    .unwrap();
    let msg = expect(&mut ada, "bob on a break", |m| {
        matches!(m, ServerMessage::ParticipantUpdated { .. })
    })
    .await;
    let ServerMessage::ParticipantUpdated { participant } = msg else {
        unreachable!()
    };
    assert_eq!(participant.presence, Presence::OnBreak);

    bob.leave().await.unwrap();
    let msg = expect(&mut ada, "bob left", |m| {
        matches!(m, ServerMessage::ParticipantLeft { .. })
    })
    .await;
    assert_eq!(
        msg,
        ServerMessage::ParticipantLeft {
            identity: "bob".into(),
            reason: LeaveReason::Left
        }
    );
    assert_eq!(relay.running.relay.rooms.counts(), (1, 1));
    ada.leave().await.unwrap();
    // The room ends with its last participant.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(relay.running.relay.rooms.counts(), (0, 0));
}

#[tokio::test]
async fn leave_answers_then_closes_normally() {
    let relay = TestRelay::start().await;
    let (mut ada, _) = relay.join("r", "ada").await;
    ada.send(ClientMessage::Leave).await.unwrap();
    let (code, seen) = expect_close(&mut ada).await;
    assert_eq!(code, CloseCode::NORMAL);
    assert!(
        matches!(seen.last(), Some(ServerMessage::Left { .. })),
        "{seen:?}"
    );
}

#[tokio::test]
async fn dropped_socket_is_noticed() {
    let relay = TestRelay::start().await;
    let (mut ada, _) = relay.join("r", "ada").await;
    let (bob, _) = relay.join("r", "bob").await;
    drop(bob); // no close handshake: the TCP connection just goes away
    let msg = expect(&mut ada, "bob gone", |m| {
        matches!(m, ServerMessage::ParticipantLeft { .. })
    })
    .await;
    assert_eq!(
        msg,
        ServerMessage::ParticipantLeft {
            identity: "bob".into(),
            reason: LeaveReason::Timeout
        },
        "a connection that breaks without a close frame counts as a timeout"
    );
}

#[tokio::test]
async fn silent_client_is_dropped_by_heartbeat() {
    let relay = TestRelay::start_with(|c| {
        c.heartbeat_interval = Duration::from_millis(100);
        c.heartbeat_timeout = Duration::from_millis(400);
    })
    .await;
    let (mut ada, info) = relay.join("r", "ada").await;
    assert_eq!(info.heartbeat.timeout_ms, 400);
    // Bob never reads again, so his socket never answers the relay's pings.
    let (_bob, _) = relay.join("r", "bob").await;
    let started = tokio::time::Instant::now();
    let msg = expect(
        &mut ada,
        "bob timed out",
        |m| matches!(m, ServerMessage::ParticipantLeft { identity, .. } if identity == "bob"),
    )
    .await;
    assert_eq!(
        msg,
        ServerMessage::ParticipantLeft {
            identity: "bob".into(),
            reason: LeaveReason::Timeout
        }
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "dropped within the timeout"
    );
    // Ada kept reading (answering pings) and is still in the room.
    ada.send(ClientMessage::Ping { nonce: Some(7) })
        .await
        .unwrap();
    expect(&mut ada, "pong", |m| {
        matches!(m, ServerMessage::Pong { nonce: Some(7), .. })
    })
    .await;
}

#[tokio::test]
async fn rejoining_replaces_the_old_connection_without_a_leave() {
    let relay = TestRelay::start().await;
    let (mut ada, _) = relay.join("r", "ada").await;
    let (mut bob_old, _) = relay.join("r", "bob").await;
    expect(&mut ada, "bob joined", |m| {
        matches!(m, ServerMessage::ParticipantJoined { .. })
    })
    .await;
    let (_bob_new, info) = relay.join("r", "bob").await;
    assert_eq!(info.participants.len(), 2, "bob is listed once");
    let (code, seen) = expect_close(&mut bob_old).await;
    assert_eq!(code, CloseCode::REPLACED);
    assert!(seen.iter().any(|m| matches!(
        m,
        ServerMessage::Error {
            code: ErrorCode::Replaced,
            fatal: true,
            ..
        }
    )));
    expect_none(&mut ada, Duration::from_millis(300), "bob leaving", |m| {
        matches!(m, ServerMessage::ParticipantLeft { .. })
    })
    .await;
    assert_eq!(relay.running.relay.rooms.counts(), (1, 2));
}

#[tokio::test]
async fn full_room_refuses_then_admits_when_a_seat_frees() {
    let relay = TestRelay::start_with(|c| c.max_room_size = 2).await;
    let (_ada, _) = relay.join("r", "ada").await;
    let (bob, _) = relay.join("r", "bob").await;
    let (code, close, message) = join_refused(&relay.url(), "r", &relay.token("r", "cyd")).await;
    assert_eq!(code, ErrorCode::RoomFull);
    assert_eq!(close, CloseCode::ROOM_FULL);
    assert!(message.contains('2'), "{message}");
    // Other rooms are unaffected.
    relay.join("other", "cyd").await;
    bob.leave().await.unwrap();
    let (_cyd, info) = relay.join("r", "cyd").await;
    assert_eq!(info.participants.len(), 2);
}

#[tokio::test]
async fn member_without_publish_grant_cannot_turn_media_on() {
    let relay = TestRelay::start().await;
    let grants = studyhall_protocol::Grants {
        publish: false,
        ..studyhall_protocol::Grants::member()
    };
    let token = relay.token_with("r", "lurker", grants);
    let (mut c, info) = SignalClient::join(
        &relay.url(),
        "r",
        &token,
        MediaState {
            mic: true,
            camera: true,
            screen: false,
        },
    )
    .await
    .unwrap();
    assert_eq!(
        info.you.media,
        MediaState::default(),
        "initial media is forced off"
    );
    c.send(ClientMessage::SetMedia(MediaUpdate {
        camera: Some(true),
        ..Default::default()
    }))
    .await
    .unwrap();
    expect_error(&mut c, ErrorCode::Forbidden).await;
}

#[tokio::test]
async fn shutdown_tells_everyone_then_closes_with_1001() {
    let relay = TestRelay::start().await;
    let (mut ada, _) = relay.join("r", "ada").await;
    let (mut bob, _) = relay.join("other", "bob").await;
    let stopping = tokio::spawn(relay.stop());
    for c in [&mut ada, &mut bob] {
        let (code, seen) = expect_close(c).await;
        assert_eq!(code, CloseCode::GOING_AWAY);
        assert!(
            seen.iter().any(|m| matches!(m, ServerMessage::Shutdown { retry_after_ms, .. } if *retry_after_ms > 0)),
            "{seen:?}"
        );
    }
    tokio::time::timeout(Duration::from_secs(5), stopping)
        .await
        .expect("stop returns once sockets are closed")
        .unwrap();
}
