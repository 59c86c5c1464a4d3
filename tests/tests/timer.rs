//! The focus timer over real WebSockets: everyone sees the same phase and time left,
//! students control it only when the host allows, bad settings are refused with their
//! range, and the timer survives a reconnect in the middle of a phase and a restart of
//! the embedded relay.

use std::time::{SystemTime, UNIX_EPOCH};

use studyhall_client::SignalClient;
use studyhall_protocol::{
    ClientFrame, ClientMessage, ErrorCode, FeatureEvent, Phase, ServerMessage, TimerChange,
    TimerEvent, TimerRequest, TimerSettings, TimerState,
};
use studyhall_tests::{expect, expect_error, TestRelay};

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn settings(focus_min: u32) -> TimerSettings {
    TimerSettings {
        focus_secs: focus_min * 60,
        short_break_secs: 120,
        long_break_secs: 600,
        rounds: 3,
    }
}

/// The next `timer` event `client` receives.
async fn next_timer(client: &mut SignalClient, what: &str) -> (TimerState, TimerChange) {
    let msg = expect(client, what, |m| {
        matches!(m, ServerMessage::Feature(FeatureEvent::Timer(_)))
    })
    .await;
    let ServerMessage::Feature(FeatureEvent::Timer(TimerEvent::Timer { timer, change, .. })) = msg
    else {
        unreachable!()
    };
    (timer, change)
}

async fn send(client: &mut SignalClient, request: TimerRequest, id: &str) {
    client
        .send_frame(&ClientFrame::with_request_id(request.into(), id))
        .await
        .unwrap();
}

async fn acked(client: &mut SignalClient, id: &str) {
    expect(
        client,
        "the ack",
        |m| matches!(m, ServerMessage::Ack { request_id } if request_id == id),
    )
    .await;
}

#[tokio::test]
async fn two_people_see_one_phase_and_one_time_left() {
    let relay = TestRelay::start().await;
    let (mut host, info) = relay.join_host("focus", "host").await;
    assert_eq!(info.features.timer.run, None, "stopped until started");
    let (mut ada, _) = relay.join("focus", "ada").await;

    // Only the host controls it, until it allows everyone.
    send(&mut ada, TimerRequest::TimerStart { settings: None }, "a1").await;
    let refused = expect_error(&mut ada, ErrorCode::Forbidden).await;
    assert!(
        matches!(&refused, ServerMessage::Error { request_id: Some(r), .. } if r == "a1"),
        "{refused:?}"
    );

    // Settings out of range name the field and the range; nothing starts.
    for (bad, field) in [
        (
            TimerSettings {
                focus_secs: 0,
                ..settings(25)
            },
            "focus_secs",
        ),
        (
            TimerSettings {
                focus_secs: 36_000,
                ..settings(25)
            },
            "focus_secs",
        ),
        (
            TimerSettings {
                rounds: 1000,
                ..settings(25)
            },
            "rounds",
        ),
    ] {
        send(
            &mut host,
            TimerRequest::TimerStart {
                settings: Some(bad),
            },
            "bad",
        )
        .await;
        let err = expect_error(&mut host, ErrorCode::OutOfRange).await;
        let ServerMessage::Error { message, .. } = err else {
            unreachable!()
        };
        assert!(
            message.contains(field) && message.contains("between"),
            "{message}"
        );
    }

    let before = now_ms();
    send(
        &mut host,
        TimerRequest::TimerStart {
            settings: Some(settings(25)),
        },
        "h1",
    )
    .await;
    let (at_host, change) = next_timer(&mut host, "started, at the host").await;
    assert_eq!(change, TimerChange::Started);
    acked(&mut host, "h1").await;
    let (at_ada, _) = next_timer(&mut ada, "started, at ada").await;
    assert_eq!(
        at_host.run.map(|r| r.ends_at),
        at_ada.run.map(|r| r.ends_at)
    );
    let run = at_ada.run.expect("running");
    assert_eq!((run.phase, run.round, run.paused), (Phase::Focus, 1, false));
    let ends_at = run.ends_at.expect("an end while running");
    // The relay's clock is this machine's clock here (read through its monotonic
    // clock, so within a few ms).
    assert!(
        ends_at + 50 >= before + 25 * 60_000 && ends_at <= now_ms() + 25 * 60_000 + 50,
        "{ends_at} vs {before}"
    );

    // Pause: the time left is held; pausing again changes nothing but is acked.
    send(&mut host, TimerRequest::TimerPause, "h2").await;
    let (paused, change) = next_timer(&mut ada, "paused").await;
    assert_eq!(change, TimerChange::Paused);
    let run = paused.run.unwrap();
    assert!(run.paused && run.ends_at.is_none());
    assert!(run.remaining_ms <= 25 * 60_000 && run.remaining_ms > 24 * 60_000);
    send(&mut host, TimerRequest::TimerPause, "h3").await;
    acked(&mut host, "h3").await;

    // The host lets everyone control it; ada skips to the break.
    send(
        &mut host,
        TimerRequest::TimerOptions {
            settings: None,
            anyone_controls: Some(true),
            quiet_during_focus: Some(true),
        },
        "h4",
    )
    .await;
    let (options, _) = next_timer(&mut ada, "options").await;
    assert!(options.anyone_controls && options.quiet_during_focus);
    send(&mut ada, TimerRequest::TimerResume, "a2").await;
    next_timer(&mut ada, "resumed").await;
    acked(&mut ada, "a2").await;
    send(&mut ada, TimerRequest::TimerSkip, "a3").await;
    // The host saw every change, in order.
    for expected in [
        TimerChange::Options,
        TimerChange::Resumed,
        TimerChange::Skipped,
    ] {
        let (_, change) = next_timer(&mut host, "a change, at the host").await;
        assert_eq!(change, expected);
    }
    let (skipped, change) = next_timer(&mut ada, "skipped, at ada").await;
    assert_eq!(change, TimerChange::Skipped);
    let run = skipped.run.unwrap();
    assert_eq!((run.phase, run.round), (Phase::ShortBreak, 1));
    assert_eq!(
        skipped.focus_completed, 0,
        "a skipped focus is not completed"
    );
    // Students still cannot change the options.
    send(
        &mut ada,
        TimerRequest::TimerOptions {
            settings: None,
            anyone_controls: Some(false),
            quiet_during_focus: None,
        },
        "a4",
    )
    .await;
    expect_error(&mut ada, ErrorCode::Forbidden).await;

    // A late joiner gets the same run.
    let (_cat, info) = relay.join("focus", "cat").await;
    assert_eq!(
        info.features.timer.run.map(|r| r.ends_at),
        Some(run.ends_at)
    );

    send(&mut host, TimerRequest::TimerStop, "h5").await;
    let (stopped, change) = next_timer(&mut ada, "stopped").await;
    assert_eq!((stopped.run, change), (None, TimerChange::Stopped));
    // Pausing a stopped timer is refused.
    send(&mut host, TimerRequest::TimerPause, "h6").await;
    expect_error(&mut host, ErrorCode::InvalidState).await;
}

#[tokio::test]
async fn the_relay_tells_its_clock_in_pong() {
    let relay = TestRelay::start().await;
    let (mut ada, _) = relay.join("clock", "ada").await;
    let before = now_ms();
    ada.send_frame(&ClientFrame::with_request_id(
        ClientMessage::Ping { nonce: Some(3) },
        "p1",
    ))
    .await
    .unwrap();
    let pong = expect(&mut ada, "pong", |m| {
        matches!(m, ServerMessage::Pong { .. })
    })
    .await;
    let ServerMessage::Pong {
        time: Some(time),
        nonce: Some(3),
        ..
    } = pong
    else {
        panic!("{pong:?}")
    };
    assert!(
        time + 50 >= before && time <= now_ms() + 50,
        "{time} vs {before}"
    );
}

#[tokio::test]
async fn the_timer_survives_a_reconnect_mid_phase_and_a_relay_restart() {
    let relay = TestRelay::start().await;
    let (mut host, _) = relay.join_host("lasting", "host").await;
    let (ada, _) = relay.join("lasting", "ada").await;
    send(
        &mut host,
        TimerRequest::TimerStart {
            settings: Some(settings(50)),
        },
        "h1",
    )
    .await;
    let (started, _) = next_timer(&mut host, "started").await;
    let ends_at = started.run.unwrap().ends_at;

    // Ada's connection drops in the middle of the phase; she comes back to the same run.
    drop(ada);
    let (ada, info) = relay.join("lasting", "ada").await;
    assert_eq!(info.features.timer.run.and_then(|r| r.ends_at), ends_at);
    drop(ada);

    // The relay restarts: everyone is gone, the room ends; the timer is where it was.
    drop(host);
    let relay = relay.restart().await;
    let (_ada, info) = relay.join("lasting", "ada").await;
    let run = info
        .features
        .timer
        .run
        .expect("still running after a restart");
    assert_eq!(run.ends_at, ends_at);
    assert_eq!((run.phase, run.round), (Phase::Focus, 1));
    assert_eq!(info.features.timer.settings, settings(50));
}
