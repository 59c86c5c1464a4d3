//! The lecture over real WebSockets: a host runs the room as a lecture (students come in
//! muted and speak when let), mutes everyone, locks the room (a join and an invite are
//! refused, an admitted student comes back), lowers every hand; reactions reach
//! everyone; the lecture's clock outlives a restart, and ending the room clears what
//! lived only while it ran.

use std::time::Duration;

use studyhall_client::invite;
use studyhall_client::{JoinInfo, SignalClient};
use studyhall_protocol::{
    ClientFrame, ClientMessage, CloseCode, ErrorCode, FeatureEvent, Grants, HandEvent, HandRequest,
    LectureEvent, LectureRequest, LectureState, MediaState, MediaUpdate, Reaction, ReactionEvent,
    ReactionRequest, RoomMode, ServerMessage,
};
use studyhall_tests::{expect, join_refused, TestRelay};

const WAIT: Duration = Duration::from_secs(10);

/// Send `message` with a request id; `Ok` on its ack, the code and message if refused.
async fn ask(client: &mut SignalClient, message: ClientMessage) -> Result<(), (ErrorCode, String)> {
    let id = format!("r{}", rand_id());
    client
        .send_frame(&ClientFrame::with_request_id(message, &id))
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let msg = tokio::time::timeout_at(deadline, client.recv())
            .await
            .expect("an answer")
            .expect("connected");
        match msg {
            ServerMessage::Ack { request_id } if request_id == id => return Ok(()),
            ServerMessage::Error {
                request_id: Some(r),
                code,
                message,
                ..
            } if r == id => return Err((code, message)),
            _ => {}
        }
    }
}

fn rand_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn mic(on: bool) -> ClientMessage {
    ClientMessage::SetMedia(MediaUpdate {
        mic: Some(on),
        ..Default::default()
    })
}

async fn join_with_mic(relay: &TestRelay, room: &str, who: &str) -> (SignalClient, JoinInfo) {
    SignalClient::join(
        &relay.url(),
        room,
        &relay.token(room, who),
        MediaState {
            mic: true,
            camera: true,
            screen: false,
        },
    )
    .await
    .unwrap()
}

async fn lecture_of(
    client: &mut SignalClient,
    what: &str,
    done: impl Fn(&LectureState) -> bool,
) -> LectureState {
    let ServerMessage::Feature(FeatureEvent::Lecture(LectureEvent::Lecture { lecture, .. })) =
        expect(client, what, |m| {
            matches!(m, ServerMessage::Feature(FeatureEvent::Lecture(LectureEvent::Lecture { lecture, .. })) if done(lecture))
        })
        .await
    else {
        unreachable!()
    };
    lecture
}

async fn muted(client: &mut SignalClient, who: &str) {
    expect(client, &format!("{who} muted"), |m| {
        matches!(m, ServerMessage::ParticipantUpdated { participant } if participant.identity == who && !participant.media.mic)
    })
    .await;
}

#[tokio::test]
async fn in_a_lecture_students_speak_when_let_and_the_host_mutes_everyone() {
    let relay = TestRelay::start().await;
    let room = "logic";
    let (mut host, _) = relay.join_host(room, "host").await;
    let (mut ada, info) = join_with_mic(&relay, room, "ada").await;
    assert!(info.you.media.mic, "a study room lets everyone speak");

    ask(
        &mut host,
        LectureRequest::SetRoomMode {
            mode: RoomMode::Lecture,
        }
        .into(),
    )
    .await
    .unwrap();
    let lecture = lecture_of(&mut ada, "the lecture", |l| l.mode == RoomMode::Lecture).await;
    assert!(lecture.started_at.is_some(), "the lecture's clock runs");
    muted(&mut ada, "ada").await;
    let (code, message) = ask(&mut ada, mic(true)).await.unwrap_err();
    assert_eq!(code, ErrorCode::Forbidden);
    assert!(
        message.contains("until the host lets you speak"),
        "{message}"
    );
    let (code, _) = ask(
        &mut ada,
        ClientMessage::SetMedia(MediaUpdate {
            screen: Some(true),
            ..Default::default()
        }),
    )
    .await
    .unwrap_err();
    assert_eq!(
        code,
        ErrorCode::Forbidden,
        "only presenters share their screen"
    );
    assert_eq!(
        ask(&mut ada, LectureRequest::MuteAll.into())
            .await
            .unwrap_err()
            .0,
        ErrorCode::Forbidden,
        "a student cannot moderate"
    );

    // Bob comes in with his microphone on: it is turned off for him.
    let (mut bob, info) = join_with_mic(&relay, room, "bob").await;
    assert!(
        !info.you.media.mic && !info.you.media.camera,
        "{:?}",
        info.you.media
    );
    assert_eq!(info.features.lecture.mode, RoomMode::Lecture);

    // Ada raises her hand; the host lets her speak.
    ask(&mut ada, HandRequest::RaiseHand.into()).await.unwrap();
    ask(
        &mut host,
        LectureRequest::AllowSpeaking {
            identity: Some("ada".into()),
            allowed: true,
        }
        .into(),
    )
    .await
    .unwrap();
    ask(&mut ada, mic(true)).await.unwrap();
    assert_eq!(
        ask(&mut bob, mic(true)).await.unwrap_err().0,
        ErrorCode::Forbidden
    );
    // Then everyone.
    ask(
        &mut host,
        LectureRequest::AllowSpeaking {
            identity: None,
            allowed: true,
        }
        .into(),
    )
    .await
    .unwrap();
    ask(&mut bob, mic(true)).await.unwrap();
    ask(&mut host, mic(true)).await.unwrap();

    // Mute everyone: both students, not the host.
    ask(&mut host, LectureRequest::MuteAll.into())
        .await
        .unwrap();
    muted(&mut bob, "ada").await;
    let (_, info) = relay.join(room, "watcher").await;
    let mic_of = |who: &str| {
        info.participants
            .iter()
            .find(|p| p.identity == who)
            .unwrap()
            .media
            .mic
    };
    assert_eq!(
        (mic_of("ada"), mic_of("bob"), mic_of("host")),
        (false, false, true),
        "everyone muted but the host"
    );

    // Lower every hand.
    ask(&mut host, HandRequest::LowerAllHands.into())
        .await
        .unwrap();
    expect(&mut bob, "no hands", |m| {
        matches!(m, ServerMessage::Feature(FeatureEvent::Hands(HandEvent::HandQueue { hands, .. })) if hands.is_empty())
    })
    .await;

    // Reactions reach everyone.
    ask(
        &mut bob,
        ReactionRequest::React {
            reaction: Reaction::Party,
        }
        .into(),
    )
    .await
    .unwrap();
    expect(&mut ada, "bob's reaction", |m| {
        matches!(m, ServerMessage::Feature(FeatureEvent::Reactions(ReactionEvent::Reaction { identity, reaction: Reaction::Party })) if identity == "bob")
    })
    .await;
}

#[tokio::test]
async fn a_locked_room_refuses_new_people_but_takes_its_own_back() {
    let relay = TestRelay::start().await;
    let room = "locked";
    let (mut host, _) = relay.join_host(room, "host").await;
    let (ada, _) = relay.join(room, "ada").await;
    let created = invite::create(
        &relay.addr().to_string(),
        &relay.host_token(room, "host"),
        None,
    )
    .await
    .unwrap();
    let target = invite::parse(&format!("{}@{}", created.code, relay.addr())).unwrap();

    ask(&mut host, LectureRequest::LockRoom { locked: true }.into())
        .await
        .unwrap();
    let (code, close, message) = join_refused(&relay.url(), room, &relay.token(room, "carl")).await;
    assert_eq!(
        (code, close),
        (ErrorCode::RoomLocked, CloseCode::ROOM_LOCKED)
    );
    assert!(message.contains("locked"), "{message}");
    match invite::redeem(&target, "Dan").await {
        Err(invite::InviteError::Refused { status, code, .. }) => {
            assert_eq!((status, code.as_str()), (423, "room_locked"))
        }
        other => panic!("the invite should answer that the room is locked: {other:?}"),
    }
    // Ada's network drops; she comes back into the locked room.
    drop(ada);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_ada, info) = relay.join(room, "ada").await;
    assert!(info.features.lecture.locked);
    // A host always gets in.
    relay.join_host(room, "cohost").await;

    ask(&mut host, LectureRequest::LockRoom { locked: false }.into())
        .await
        .unwrap();
    relay.join(room, "carl").await;
    invite::redeem(&target, "Dan").await.unwrap();
}

#[tokio::test]
async fn the_lecture_outlives_a_restart_and_ending_the_room_clears_its_live_part() {
    let relay = TestRelay::start().await;
    let room = "course";
    let (mut host, _) = relay.join_host(room, "host").await;
    for request in [
        LectureRequest::SetRoomMode {
            mode: RoomMode::Lecture,
        },
        LectureRequest::SetPresenter {
            identity: "pat".into(),
            presenter: true,
        },
        LectureRequest::AllowSpeaking {
            identity: Some("ada".into()),
            allowed: true,
        },
        LectureRequest::LockRoom { locked: true },
    ] {
        ask(&mut host, request.into()).await.unwrap();
    }
    let (_, info) = relay.join_host(room, "host2").await;
    let before = info.features.lecture.clone();
    assert!(before.started_at.is_some() && before.locked);
    drop(host);

    let relay = relay.restart_in_place().await;
    let (mut host, info) = relay.join_host(room, "host").await;
    assert_eq!(
        info.features.lecture, before,
        "everything outlived the restart"
    );
    ask(&mut host, ClientMessage::EndRoom).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let (_, info) = relay.join(room, "pat").await;
    let after = info.features.lecture;
    assert_eq!(after.mode, RoomMode::Lecture, "the mode stays");
    assert_eq!(after.presenters, ["pat"], "so do the presenters");
    assert_eq!(
        (after.started_at, after.locked, after.speakers.len()),
        (None, false, 0),
        "the clock, the lock and who may speak went with the room"
    );
    assert_eq!(info.you.role, studyhall_protocol::Role::Presenter);
    let _ = Grants::member();
}
