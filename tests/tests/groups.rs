//! Study groups over real HTTP and WebSockets on loopback, on an embedded relay (SQLite)
//! and across two cluster nodes sharing a real redis-server: a group is created and
//! joined by invite, presence follows a member into the group's room and through its
//! focus timer, a removed member is refused everywhere, and bad input gets its
//! documented answer.

use studyhall_client::groups::{GroupsApi, GroupsError, PresenceEvent, PresenceWatch};
use studyhall_client::signal::SignalClient;
use studyhall_protocol::groups::{
    GroupJoined, MemberPresence, PresenceServer, PresenceStatus, MAX_SESSIONS,
};
use studyhall_protocol::schedule::SessionDraft;
use studyhall_protocol::timer::{Phase, TimerRequest};
use studyhall_protocol::{ClientFrame, ErrorCode, MediaState, ServerMessage};
use studyhall_tests::cluster::{Node, RedisServer};
use studyhall_tests::{expect, join_refused, TestRelay, WAIT};
use tokio::sync::mpsc::UnboundedReceiver;

/// The next presence frame that `pred` accepts (others are skipped).
async fn next_where(
    events: &mut UnboundedReceiver<PresenceEvent>,
    what: &str,
    mut pred: impl FnMut(&PresenceServer) -> bool,
) -> PresenceServer {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let event = tokio::time::timeout_at(deadline, events.recv())
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
            .expect("the watch runs");
        if let PresenceEvent::Server(msg) = event {
            if pred(&msg) {
                return msg;
            }
        }
    }
}

/// Wait until `identity`'s presence satisfies `pred` (from `watching` or `presence`).
async fn presence_of(
    events: &mut UnboundedReceiver<PresenceEvent>,
    identity: &str,
    what: &str,
    mut pred: impl FnMut(&MemberPresence) -> bool,
) -> MemberPresence {
    let msg = next_where(events, what, |m| match m {
        PresenceServer::Presence { presence } => presence.identity == identity && pred(presence),
        PresenceServer::Watching { presence, .. } => {
            presence.iter().any(|p| p.identity == identity && pred(p))
        }
        _ => false,
    })
    .await;
    match msg {
        PresenceServer::Presence { presence } => presence,
        PresenceServer::Watching { presence, .. } => presence
            .into_iter()
            .find(|p| p.identity == identity)
            .unwrap(),
        _ => unreachable!(),
    }
}

fn code_of(result: Result<impl std::fmt::Debug, GroupsError>) -> String {
    match result {
        Err(GroupsError::Refused { code, .. }) => code,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn weekly(title: &str) -> SessionDraft {
    SessionDraft {
        title: title.into(),
        start: "2026-12-07T18:00".into(),
        tz: "Europe/Berlin".into(),
        minutes: 90,
        rrule: Some("FREQ=WEEKLY;BYDAY=MO".into()),
        changes: vec![],
    }
}

/// Create, join, presence into the room and through the timer, appearing offline.
async fn created_joined_and_seen(owner_api: &GroupsApi, member_api: &GroupsApi, member_ws: &str) {
    let owner: GroupJoined = owner_api
        .create("Linear Algebra", "Ada", "device-ada", None)
        .await
        .unwrap();
    assert_eq!(owner.group.members.len(), 1);
    assert!(
        owner.group.invite.starts_with("G-"),
        "{}",
        owner.group.invite
    );
    let group = owner.group.id.clone();

    let code = owner.group.invite.to_lowercase();
    let member = member_api
        .join(&code, "Bob", "device-bob", None)
        .await
        .unwrap();
    assert_eq!(member.group.id, group);
    assert_eq!(member.group.members.len(), 2);
    assert_ne!(member.identity, owner.identity);
    // Joining again (same identity) renames, it does not add.
    let again = member_api
        .join(&code, "Bobby", "device-bob", Some(&member.token))
        .await
        .unwrap();
    assert_eq!(again.identity, member.identity);
    assert_eq!(again.group.members.len(), 2);
    assert_eq!(
        code_of(
            member_api
                .join("G-0000-0000", "Cy", "device-cy", None)
                .await
        ),
        "invite_not_found"
    );

    // The owner watches from the start screen: Bob is offline, Ada online.
    let (_owner_watch, mut owner_events) =
        PresenceWatch::start(&owner_api.presence_url(), vec![owner.token.clone()], false).unwrap();
    let watching = next_where(&mut owner_events, "watching", |m| {
        matches!(m, PresenceServer::Watching { .. })
    })
    .await;
    let PresenceServer::Watching {
        groups,
        presence,
        refused,
        ..
    } = watching
    else {
        unreachable!()
    };
    assert!(refused.is_empty());
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].members[1].name, "Bobby");
    let status = |who: &str| presence.iter().find(|p| p.identity == who).unwrap().status;
    assert_eq!(status(&owner.identity), PresenceStatus::Online);
    assert_eq!(status(&member.identity), PresenceStatus::Offline);

    // Bob opens his app: online.
    let (bob_watch, _bob_events) = PresenceWatch::start(
        &member_api.presence_url(),
        vec![member.token.clone()],
        false,
    )
    .unwrap();
    presence_of(&mut owner_events, &member.identity, "Bob online", |p| {
        p.status == PresenceStatus::Online
    })
    .await;

    // Bob enters the group's room (through his own node): in the group's room.
    let ticket = member_api.room_ticket(&group, &member.token).await.unwrap();
    assert!(!ticket.host);
    assert_eq!(ticket.title, "Linear Algebra");
    let (bob_room, _) = SignalClient::join(
        member_ws,
        &ticket.room,
        &ticket.token,
        MediaState::default(),
    )
    .await
    .unwrap();
    let seen = presence_of(
        &mut owner_events,
        &member.identity,
        "Bob in the room",
        |p| p.status == PresenceStatus::InRoom,
    )
    .await;
    let room = seen.room.unwrap();
    assert_eq!(room.room, ticket.room);
    assert_eq!(
        room.group.as_deref(),
        Some(group.as_str()),
        "named as the group's room"
    );
    assert_eq!(seen.focus, None);

    // Ada opens the room as its host and starts the timer: Bob is focusing.
    let host_ticket = owner_api.room_ticket(&group, &owner.token).await.unwrap();
    assert!(host_ticket.host);
    let (mut ada_room, _) = SignalClient::join(
        &owner_api.presence_url().replace("/v1/presence", ""),
        &host_ticket.room,
        &host_ticket.token,
        MediaState::default(),
    )
    .await
    .unwrap();
    ada_room
        .send_frame(&ClientFrame::with_request_id(
            TimerRequest::TimerStart { settings: None }.into(),
            "t1",
        ))
        .await
        .unwrap();
    expect(
        &mut ada_room,
        "the timer's ack",
        |m| matches!(m, ServerMessage::Ack { request_id } if request_id == "t1"),
    )
    .await;
    let focusing = presence_of(&mut owner_events, &member.identity, "Bob focusing", |p| {
        p.focus.is_some()
    })
    .await;
    let focus = focusing.focus.unwrap();
    assert_eq!(focus.phase, Phase::Focus);
    assert!(focus.ends_at.is_some());

    // Bob leaves the room: back to online; then he appears offline.
    bob_room.close().await;
    presence_of(
        &mut owner_events,
        &member.identity,
        "Bob out of the room",
        |p| p.status == PresenceStatus::Online,
    )
    .await;
    bob_watch.set_hidden(true);
    presence_of(&mut owner_events, &member.identity, "Bob hidden", |p| {
        p.status == PresenceStatus::Offline
    })
    .await;
    bob_watch.set_hidden(false);
    presence_of(&mut owner_events, &member.identity, "Bob visible", |p| {
        p.status == PresenceStatus::Online
    })
    .await;
    drop(bob_watch);
    presence_of(&mut owner_events, &member.identity, "Bob gone", |p| {
        p.status == PresenceStatus::Offline
    })
    .await;
    ada_room.close().await;
}

/// Remove a member: refused everywhere, told on their socket, their invite and device
/// no longer let them in; a new invite replaces the old.
async fn removed_and_refused(owner_api: &GroupsApi, member_api: &GroupsApi) {
    let owner = owner_api
        .create("Chemistry", "Ada", "device-ada", None)
        .await
        .unwrap();
    let group = owner.group.id.clone();
    let member = member_api
        .join(&owner.group.invite, "Bob", "device-bob", None)
        .await
        .unwrap();
    let outsider = owner_api
        .create("Other group", "Eve", "device-eve", None)
        .await
        .unwrap();

    // A non-member sees nothing of the group, and a member may not remove others.
    assert_eq!(
        code_of(member_api.show(&group, &outsider.token).await),
        "forbidden"
    );
    assert_eq!(
        code_of(
            member_api
                .remove_member(&group, &member.token, &owner.identity)
                .await
        ),
        "forbidden"
    );
    assert_eq!(
        code_of(member_api.new_invite(&group, &member.token).await),
        "forbidden"
    );

    let (_bob_watch, mut bob_events) = PresenceWatch::start(
        &member_api.presence_url(),
        vec![member.token.clone()],
        false,
    )
    .unwrap();
    next_where(&mut bob_events, "watching", |m| {
        matches!(m, PresenceServer::Watching { .. })
    })
    .await;

    let bob_ticket = member_api.room_ticket(&group, &member.token).await.unwrap();
    owner_api
        .remove_member(&group, &owner.token, &member.identity)
        .await
        .unwrap();
    let gone = next_where(&mut bob_events, "group_gone", |m| {
        matches!(m, PresenceServer::GroupGone { .. })
    })
    .await;
    assert_eq!(
        gone,
        PresenceServer::GroupGone {
            group: group.clone(),
            reason: "removed".into()
        }
    );
    assert_eq!(
        code_of(member_api.show(&group, &member.token).await),
        "banned"
    );
    assert_eq!(
        code_of(member_api.room_ticket(&group, &member.token).await),
        "banned"
    );
    // The removal made a new invite: the one Bob holds stops working; and with the new
    // one he stays out, on the same device or under the same identity.
    let (now, _) = owner_api.show(&group, &owner.token).await.unwrap();
    assert_ne!(now.invite, owner.group.invite);
    assert_eq!(
        code_of(
            member_api
                .join(&owner.group.invite, "Bob", "device-other", None)
                .await
        ),
        "invite_not_found"
    );
    assert_eq!(
        code_of(
            member_api
                .join(&now.invite, "Bob", "device-bob", None)
                .await
        ),
        "banned"
    );
    assert_eq!(
        code_of(
            member_api
                .join(&now.invite, "Bob", "device-new", Some(&member.token))
                .await
        ),
        "banned"
    );
    // Nor with a room token bought before: the group's room takes members only.
    let url = member_api.presence_url().replace("/v1/presence", "");
    let (code, close, _) = join_refused(&url, &bob_ticket.room, &bob_ticket.token).await;
    assert_eq!((code, close), (ErrorCode::Banned, 4003));

    // A new invite: the old code stops working, the new one works.
    let renewed = owner_api.new_invite(&group, &owner.token).await.unwrap();
    assert_ne!(renewed.invite, owner.group.invite);
    assert_eq!(
        code_of(
            member_api
                .join(&owner.group.invite, "Cy", "device-cy", None)
                .await
        ),
        "invite_not_found"
    );
    let cy = member_api
        .join(&renewed.invite, "Cy", "device-cy", None)
        .await
        .unwrap();
    assert_eq!(cy.group.members.len(), 2);

    // Watching with the removed member's token: refused, by its place.
    let (_w, mut events) = PresenceWatch::start(
        &member_api.presence_url(),
        vec![cy.token.clone(), member.token.clone()],
        false,
    )
    .unwrap();
    let PresenceServer::Watching {
        groups, refused, ..
    } = next_where(&mut events, "watching", |m| {
        matches!(m, PresenceServer::Watching { .. })
    })
    .await
    else {
        unreachable!()
    };
    assert_eq!(groups.len(), 1);
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].index, 1);
    assert_eq!(refused[0].code, ErrorCode::Banned);
}

#[tokio::test]
async fn an_embedded_group_is_created_joined_and_shows_who_is_studying() {
    let relay = TestRelay::start().await;
    let api = GroupsApi::new(&relay.addr().to_string()).unwrap();
    created_joined_and_seen(&api, &api, &relay.url()).await;
}

#[tokio::test]
async fn an_embedded_relay_refuses_a_removed_member() {
    let relay = TestRelay::start().await;
    let api = GroupsApi::new(&relay.addr().to_string()).unwrap();
    removed_and_refused(&api, &api).await;
}

#[tokio::test]
async fn groups_and_presence_cross_cluster_nodes() {
    let redis = RedisServer::start();
    let a = Node::start("groups-a", &redis).await;
    let b = Node::start("groups-b", &redis).await;
    let on_a = GroupsApi::new(&a.addr.to_string()).unwrap();
    let on_b = GroupsApi::new(&b.addr.to_string()).unwrap();
    created_joined_and_seen(&on_a, &on_b, &b.url()).await;
    removed_and_refused(&on_a, &on_b).await;
}

#[tokio::test]
async fn schedules_and_bad_input_get_clear_answers() {
    let relay = TestRelay::start().await;
    let api = GroupsApi::new(&relay.addr().to_string()).unwrap();
    let owner = api
        .create("  Physics  ", "Ada", "device-ada", None)
        .await
        .unwrap();
    assert_eq!(owner.group.name, "Physics", "trimmed");
    let group = owner.group.id.clone();
    let member = api
        .join(&owner.group.invite, "Bob", "device-bob", None)
        .await
        .unwrap();

    // A member schedules; the owner and the adder may change it, others may not.
    let session = api
        .add_session(&group, &member.token, &weekly("Problem set"))
        .await
        .unwrap();
    assert_eq!(session.by, member.identity);
    let mut moved = weekly("Problem set");
    moved.start = "2026-12-08T19:00".into();
    api.change_session(&group, &owner.token, &session.id, Some(&moved))
        .await
        .unwrap();
    let theirs = api
        .add_session(&group, &owner.token, &weekly("Owner's"))
        .await
        .unwrap();
    assert_eq!(
        code_of(
            api.change_session(&group, &member.token, &theirs.id, None)
                .await
        ),
        "forbidden"
    );
    let (shown, renewed) = api.show(&group, &member.token).await.unwrap();
    assert!(renewed.is_some(), "a renewed token comes with the group");
    assert_eq!(shown.sessions.len(), 2);
    assert_eq!(shown.sessions[0].draft.start, "2026-12-08T19:00");

    // Each bad session names what is wrong.
    for (bad, says) in [
        (
            SessionDraft {
                rrule: Some("FREQ=WEEKLY;BYDAY=XX".into()),
                ..weekly("x")
            },
            "recurrence",
        ),
        (
            SessionDraft {
                rrule: Some("FREQ=MINUTELY".into()),
                ..weekly("x")
            },
            "at most daily",
        ),
        (
            SessionDraft {
                tz: "Nowhere/City".into(),
                ..weekly("x")
            },
            "time zone",
        ),
        (
            SessionDraft {
                minutes: 10_000,
                ..weekly("x")
            },
            "5 to 720",
        ),
    ] {
        match api.add_session(&group, &owner.token, &bad).await {
            Err(GroupsError::Refused {
                status,
                code,
                message,
                ..
            }) => {
                assert_eq!((status, code.as_str()), (400, "invalid_field"));
                assert!(message.contains(says), "{message}");
            }
            other => panic!("{bad:?} was not refused: {other:?}"),
        }
    }
    for i in 2..MAX_SESSIONS {
        api.add_session(&group, &owner.token, &weekly(&format!("s{i}")))
            .await
            .unwrap();
    }
    assert_eq!(
        code_of(
            api.add_session(&group, &owner.token, &weekly("one too many"))
                .await
        ),
        "limit_reached"
    );

    // Names, bodies and tokens.
    assert_eq!(
        code_of(api.create(&"x".repeat(61), "Ada", "d", None).await),
        "invalid_field"
    );
    assert_eq!(
        code_of(api.create("Ok", " ", "d", None).await),
        "invalid_field"
    );
    let http = reqwest::Client::new();
    let url = relay.http("/v1/groups");
    let malformed = http
        .post(&url)
        .header("content-type", "application/json")
        .body("{\"name\":")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    let huge = http
        .post(&url)
        .header("content-type", "application/json")
        .body(format!("{{\"name\":\"{}\"}}", "x".repeat(64 * 1024)))
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), 413);
    let room_token = relay.token(&owner.group.room, "ada");
    assert_eq!(
        code_of(api.show(&group, &room_token).await),
        "token_invalid",
        "a room token is not a group token"
    );
    let missing = http
        .get(relay.http(&format!("/v1/groups/{group}")))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 401);

    // The group survives a restart of the relay (SQLite).
    let relay = relay.restart().await;
    let api = GroupsApi::new(&relay.addr().to_string()).unwrap();
    let (kept, _) = api.show(&group, &owner.token).await.unwrap();
    assert_eq!(kept.sessions.len(), MAX_SESSIONS);
    assert_eq!(kept.members.len(), 2);
}

#[tokio::test]
async fn the_presence_socket_refuses_what_is_not_a_watch() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let relay = TestRelay::start().await;
    let url = format!("{}/v1/presence", relay.url());
    let first_answer = |frame: String| {
        let url = url.clone();
        async move {
            let (mut ws, _) = tokio_tungstenite::connect_async(url.as_str())
                .await
                .unwrap();
            ws.send(Message::Text(frame.into())).await.unwrap();
            let mut error = None;
            let mut close = None;
            while let Ok(Some(Ok(msg))) = tokio::time::timeout(WAIT, ws.next()).await {
                match msg {
                    Message::Text(t) => {
                        error = Some(serde_json::from_str::<PresenceServer>(&t).unwrap())
                    }
                    Message::Close(frame) => {
                        close = frame.map(|f| u16::from(f.code));
                        break;
                    }
                    _ => {}
                }
            }
            (error, close)
        }
    };
    let (error, close) = first_answer(r#"{"type":"ping"}"#.into()).await;
    assert!(
        matches!(
            error,
            Some(PresenceServer::Error {
                code: ErrorCode::NotJoined,
                fatal: true,
                ..
            })
        ),
        "{error:?}"
    );
    assert_eq!(close, Some(4002));
    let (error, _) = first_answer(r#"{"type":"dance","request_id":"d"}"#.into()).await;
    assert!(
        matches!(
            error,
            Some(PresenceServer::Error {
                code: ErrorCode::UnknownType,
                ..
            })
        ),
        "{error:?}"
    );
    let (error, _) = first_answer("not json".into()).await;
    assert!(matches!(
        error,
        Some(PresenceServer::Error {
            code: ErrorCode::BadMessage,
            ..
        })
    ));
    let many: Vec<String> = (0..101).map(|i| format!("t{i}")).collect();
    let frame = serde_json::json!({"type": "watch", "tokens": many}).to_string();
    let (error, _) = first_answer(frame).await;
    match error {
        Some(PresenceServer::Error {
            code: ErrorCode::LimitReached,
            message,
            ..
        }) => assert!(message.contains("at most 100"), "{message}"),
        other => panic!("{other:?}"),
    }
    // Garbage tokens are refused one by one; the socket stays.
    let frame = serde_json::json!({"type": "watch", "tokens": ["nonsense"]}).to_string();
    let (error, close) = {
        let (mut ws, _) = tokio_tungstenite::connect_async(url.as_str())
            .await
            .unwrap();
        ws.send(Message::Text(frame.into())).await.unwrap();
        let msg = tokio::time::timeout(WAIT, ws.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let parsed: PresenceServer = serde_json::from_str(msg.to_text().unwrap()).unwrap();
        ws.send(Message::Text(r#"{"type":"ping","request_id":"p"}"#.into()))
            .await
            .unwrap();
        let pong = tokio::time::timeout(WAIT, ws.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        (parsed, pong.to_text().unwrap().to_string())
    };
    match error {
        PresenceServer::Watching { refused, .. } => {
            assert_eq!(refused.len(), 1);
            assert_eq!(refused[0].code, ErrorCode::TokenInvalid);
        }
        other => panic!("{other:?}"),
    }
    assert!(close.contains("pong"), "{close}");
}
