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

/// A kicked guest cannot come back on the same device by redeeming the invite again
/// (a new identity), and nobody but a host comes in under the host's name.
#[tokio::test]
async fn a_kick_holds_against_the_device_and_the_hosts_name_is_the_hosts() {
    use studyhall_client::invite::{self, InviteError};
    use studyhall_client::SignalClient;
    use studyhall_protocol::MediaState;
    let relay = TestRelay::start().await;
    let room = "seminar";
    let (mut host, _) = relay.join_host(room, "prof").await;
    let created = invite::create(
        &relay.addr().to_string(),
        &relay.host_token(room, "prof"),
        None,
    )
    .await
    .unwrap();
    let target = invite::parse(&format!("{}@{}", created.code, relay.addr())).unwrap();
    let join = |token: String| {
        let url = relay.url();
        async move { SignalClient::join(&url, room, &token, MediaState::default()).await }
    };

    // Mallory joins on her laptop and is kicked.
    let first = invite::redeem_on(&target, "Mallory", Some("laptop-1"))
        .await
        .unwrap();
    let (mut mallory, _) = join(first.token.clone()).await.unwrap();
    host.send(ClientMessage::Kick {
        identity: first.identity.clone(),
        reason: None,
    })
    .await
    .unwrap();
    let (code, _) = expect_close(&mut mallory).await;
    assert_eq!(code, CloseCode::KICKED);

    // The same invite on the same device: refused, whatever name she picks.
    match invite::redeem_on(&target, "Totally Someone Else", Some("laptop-1")).await {
        Err(InviteError::Refused { status, code, .. }) => {
            assert_eq!((status, code.as_str()), (403, "banned"))
        }
        other => panic!("a kicked device redeemed the invite again: {other:?}"),
    }
    // A token she got before the kick on that device, for a new identity, is refused at
    // join too (the relay checks the device, not only the identity).
    let minted = relay
        .keys
        .issue_on_device(
            room,
            "guest-new",
            "New",
            studyhall_protocol::Grants::member(),
            std::time::Duration::from_secs(600),
            Some("laptop-1"),
        )
        .unwrap();
    let (code, close, _) = join_refused(&relay.url(), room, &minted).await;
    assert_eq!((code, close), (ErrorCode::Banned, CloseCode::KICKED));
    // Another device is another person.
    let other = invite::redeem_on(&target, "Bob", Some("phone-2"))
        .await
        .unwrap();
    join(other.token).await.unwrap();

    // The host's name is the host's: not as a guest's name, in any case or spacing.
    for name in ["Prof", "  prof ", "P\u{200B}rof"] {
        match invite::redeem_on(&target, name, Some("phone-3")).await {
            Err(InviteError::Refused { status, code, .. }) => {
                assert_eq!((status, code.as_str()), (409, "name_taken"), "{name:?}")
            }
            other => panic!("{name:?} was accepted: {other:?}"),
        }
    }
    let named_prof = relay
        .keys
        .issue(
            room,
            "eve",
            "PROF",
            studyhall_protocol::Grants::member(),
            std::time::Duration::from_secs(600),
        )
        .unwrap();
    let (code, _, message) = join_refused(&relay.url(), room, &named_prof).await;
    assert_eq!(code, ErrorCode::Forbidden);
    assert!(message.contains("host's name"), "{message}");
}
