//! Polls over real WebSockets: a presenter launches, students vote once, a late joiner
//! sees the open poll, a voter who reconnects finds its vote, presenters see results
//! live and everyone at the close, and an open poll outlives a relay restart.

use std::time::Duration;

use studyhall_client::SignalClient;
use studyhall_protocol::{
    ClientFrame, ClientMessage, ErrorCode, FeatureEvent, LectureRequest, Poll, PollDraft,
    PollEvent, PollKind, PollRequest, PollState, ServerMessage,
};
use studyhall_tests::{expect, TestRelay};

async fn ask(client: &mut SignalClient, id: &str, message: ClientMessage) -> Result<(), ErrorCode> {
    client
        .send_frame(&ClientFrame::with_request_id(message, id))
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(deadline, client.recv())
            .await
            .unwrap()
            .unwrap()
        {
            ServerMessage::Ack { request_id } if request_id == id => return Ok(()),
            ServerMessage::Feature(FeatureEvent::Polls(PollEvent::Poll {
                request_id: Some(r),
                ..
            })) if r == id => return Ok(()),
            ServerMessage::Error {
                request_id: Some(r),
                code,
                ..
            } if r == id => return Err(code),
            _ => {}
        }
    }
}

async fn poll_seen(client: &mut SignalClient, what: &str, done: impl Fn(&Poll) -> bool) -> Poll {
    let ServerMessage::Feature(FeatureEvent::Polls(PollEvent::Poll { poll, .. })) =
        expect(client, what, |m| {
            matches!(m, ServerMessage::Feature(FeatureEvent::Polls(PollEvent::Poll { poll, .. })) if done(poll))
        })
        .await
    else {
        unreachable!()
    };
    poll
}

fn vote(id: &str, choice: u32) -> ClientMessage {
    PollRequest::PollVote {
        id: id.into(),
        choices: vec![choice],
    }
    .into()
}

#[tokio::test]
async fn a_poll_reaches_late_joiners_counts_each_vote_once_and_outlives_a_restart() {
    let relay = TestRelay::start().await;
    let room = "stats";
    let (mut host, _) = relay.join_host(room, "host").await;
    ask(
        &mut host,
        "p0",
        LectureRequest::SetPresenter {
            identity: "pat".into(),
            presenter: true,
        }
        .into(),
    )
    .await
    .unwrap();
    let (mut pat, _) = relay.join(room, "pat").await;
    let (mut ada, _) = relay.join(room, "ada").await;
    let draft = PollDraft {
        question: "Mean or median?".into(),
        options: vec!["mean".into(), "median".into()],
        kind: PollKind::Single,
        anonymous: false,
    };
    assert_eq!(
        ask(
            &mut ada,
            "a0",
            PollRequest::PollLaunch {
                poll: draft.clone()
            }
            .into()
        )
        .await,
        Err(ErrorCode::Forbidden)
    );
    ask(
        &mut pat,
        "l1",
        PollRequest::PollLaunch { poll: draft }.into(),
    )
    .await
    .unwrap();
    let open = poll_seen(&mut ada, "the poll", |p| p.state == PollState::Open).await;
    assert!(open.results.is_none(), "a student waits for the close");

    ask(&mut ada, "v1", vote(&open.id, 1)).await.unwrap();
    // Ada drops and comes back: her vote is there, and a second one does not count.
    drop(ada);
    let (mut ada, info) = relay.join(room, "ada").await;
    assert_eq!(info.features.polls[0].your_choices, [1]);
    ask(&mut ada, "v2", vote(&open.id, 0)).await.unwrap();
    // A late joiner sees the open poll and votes.
    let (mut bob, info) = relay.join(room, "bob").await;
    assert_eq!(info.features.polls.len(), 1);
    assert_eq!(
        (info.features.polls[0].state, info.features.polls[0].votes),
        (PollState::Open, 1)
    );
    ask(&mut bob, "v3", vote(&open.id, 1)).await.unwrap();
    let live = poll_seen(&mut pat, "two votes", |p| p.votes == 2).await;
    assert_eq!(
        live.results,
        Some(vec![0, 2]),
        "presenters see results live"
    );
    assert_eq!(
        live.voters.as_ref().map(Vec::len),
        Some(2),
        "named: presenters see who"
    );

    // The relay restarts with the poll open.
    drop((host, pat, ada, bob));
    let relay = relay.restart_in_place().await;
    let (mut pat, info) = relay.join(room, "pat").await;
    let kept = &info.features.polls[0];
    assert_eq!(
        (kept.state, kept.votes, kept.results.clone()),
        (PollState::Open, 2, Some(vec![0, 2]))
    );
    let (mut cat, _) = relay.join(room, "cat").await;
    ask(
        &mut pat,
        "c1",
        PollRequest::PollClose {
            id: open.id.clone(),
        }
        .into(),
    )
    .await
    .unwrap();
    let closed = poll_seen(&mut cat, "the close", |p| p.state == PollState::Closed).await;
    assert_eq!(
        closed.results,
        Some(vec![0, 2]),
        "everyone sees the results at the close"
    );
    assert!(closed.voters.is_none(), "students never see who voted what");
    assert_eq!(
        ask(&mut cat, "v4", vote(&open.id, 0)).await,
        Err(ErrorCode::InvalidState)
    );
}
