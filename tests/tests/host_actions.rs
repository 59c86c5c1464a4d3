//! Host actions: deleting chat messages and kicking participants; refused for members.

use studyhall_protocol::{ClientMessage, CloseCode, ErrorCode, LeaveReason, ServerMessage};
use studyhall_tests::{expect, expect_close, expect_error, join_refused, TestRelay};

fn say(id: &str, text: &str) -> ClientMessage {
    ClientMessage::ChatSend {
        client_msg_id: id.into(),
        text: text.into(),
    }
}

#[tokio::test]
async fn host_deletes_a_message_for_everyone() {
    let relay = TestRelay::start().await;
    let (mut host, _) = relay.join_host("r", "ada").await;
    let (mut bob, _) = relay.join("r", "bob").await;
    bob.send(say("1", "something regrettable")).await.unwrap();
    bob.send(say("2", "something fine")).await.unwrap();
    expect(
        &mut host,
        "second message",
        |m| matches!(m, ServerMessage::ChatMessage { message } if message.seq == 2),
    )
    .await;

    host.send(ClientMessage::ChatDelete { seq: 1 })
        .await
        .unwrap();
    for c in [&mut host, &mut bob] {
        let msg = expect(c, "deletion", |m| {
            matches!(m, ServerMessage::ChatDeleted { .. })
        })
        .await;
        assert_eq!(
            msg,
            ServerMessage::ChatDeleted {
                seq: 1,
                deleted_by: "ada".into()
            }
        );
    }
    // Late joiners get the deletion in history: the slot stays, the text is gone.
    let (_cyd, info) = relay.join("r", "cyd").await;
    let first = &info.chat.messages[0];
    assert!(first.deleted && first.text.is_empty());
    assert_eq!(info.chat.messages[1].text, "something fine");

    host.send(ClientMessage::ChatDelete { seq: 99 })
        .await
        .unwrap();
    expect_error(&mut host, ErrorCode::NotFound).await;
}

#[tokio::test]
async fn members_cannot_delete_or_kick() {
    let relay = TestRelay::start().await;
    let (mut host, _) = relay.join_host("r", "ada").await;
    let (mut bob, _) = relay.join("r", "bob").await;
    host.send(say("1", "host says")).await.unwrap();
    expect(&mut bob, "message", |m| {
        matches!(m, ServerMessage::ChatMessage { .. })
    })
    .await;

    bob.send(ClientMessage::ChatDelete { seq: 1 })
        .await
        .unwrap();
    let err = expect_error(&mut bob, ErrorCode::Forbidden).await;
    assert!(matches!(err, ServerMessage::Error { fatal: false, .. }));
    bob.send(ClientMessage::Kick {
        identity: "ada".into(),
        reason: None,
    })
    .await
    .unwrap();
    expect_error(&mut bob, ErrorCode::Forbidden).await;

    let page = relay
        .running
        .relay
        .chat()
        .page("r", None, 10)
        .await
        .unwrap();
    assert!(!page.messages[0].deleted, "the message is untouched");
    assert_eq!(
        relay.running.relay.rooms.counts(),
        (1, 2),
        "nobody was removed"
    );
}

#[tokio::test]
async fn host_kicks_and_the_kicked_stay_out() {
    let relay = TestRelay::start().await;
    let (mut host, _) = relay.join_host("r", "ada").await;
    let (mut bob, _) = relay.join("r", "bob").await;
    let (mut cyd, _) = relay.join("r", "cyd").await;

    host.send(ClientMessage::Kick {
        identity: "bob".into(),
        reason: Some("spamming".into()),
    })
    .await
    .unwrap();
    let (code, seen) = expect_close(&mut bob).await;
    assert_eq!(code, CloseCode::KICKED);
    assert!(
        seen.contains(&ServerMessage::Kicked {
            by: "ada".into(),
            reason: Some("spamming".into())
        }),
        "{seen:?}"
    );
    for c in [&mut host, &mut cyd] {
        let msg = expect(c, "bob removed", |m| {
            matches!(m, ServerMessage::ParticipantLeft { .. })
        })
        .await;
        assert_eq!(
            msg,
            ServerMessage::ParticipantLeft {
                identity: "bob".into(),
                reason: LeaveReason::Kicked
            }
        );
    }
    let (code, close, _) = join_refused(&relay.url(), "r", &relay.token("r", "bob")).await;
    assert_eq!((code, close), (ErrorCode::Banned, CloseCode::KICKED));

    host.send(ClientMessage::Kick {
        identity: "nobody".into(),
        reason: None,
    })
    .await
    .unwrap();
    expect_error(&mut host, ErrorCode::NotFound).await;
    host.send(ClientMessage::Kick {
        identity: "ada".into(),
        reason: None,
    })
    .await
    .unwrap();
    expect_error(&mut host, ErrorCode::Forbidden).await;
}

#[tokio::test]
async fn host_ends_the_room_for_everyone() {
    let relay = TestRelay::start().await;
    let (mut host, _) = relay.join_host("r", "ada").await;
    let (mut bob, _) = relay.join("r", "bob").await;
    let (mut cyd, _) = relay.join("r", "cyd").await;

    // A member may not.
    bob.send(ClientMessage::EndRoom).await.unwrap();
    expect_error(&mut bob, ErrorCode::Forbidden).await;

    host.send(ClientMessage::EndRoom).await.unwrap();
    for c in [&mut host, &mut bob, &mut cyd] {
        let (code, seen) = expect_close(c).await;
        assert_eq!(code, CloseCode::ROOM_ENDED);
        assert!(
            seen.iter()
                .any(|m| matches!(m, ServerMessage::RoomEnded { by } if by == "ada")),
            "{seen:?}"
        );
    }
    // The room is gone; joining again starts it afresh, with its history.
    let (_dan, info) = relay.join("r", "dan").await;
    assert!(info.participants.iter().all(|p| p.identity == "dan"));
    relay.stop().await;
}
