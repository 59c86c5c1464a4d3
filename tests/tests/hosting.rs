//! Hosting a room from the app: the real `studyhall-relay` binary started as a child
//! process, tokens minted with its secret, a participant served, a clean stop.

use std::time::Duration;

use studyhall_client::host::{HostError, HostOptions, HostedRelay};
use studyhall_client::SignalClient;
use studyhall_protocol::{ClientMessage, CloseCode, MediaState, ServerMessage};
use studyhall_tests::{expect, expect_close};

fn options(dir: &std::path::Path) -> HostOptions {
    HostOptions {
        binary: None,
        ip: "127.0.0.1".parse().unwrap(),
        port: 0,
        media_port: 0,
        data_dir: dir.to_path_buf(),
        upload_budget_kbps: Some(1_234),
    }
}

#[tokio::test]
async fn host_a_room_then_end_it() {
    let dir = tempfile::tempdir().unwrap();
    let host = HostedRelay::start(options(dir.path()))
        .await
        .expect("the relay starts");
    assert_ne!(host.addr().port(), 0);
    // The hosted relay keeps the upload budget it was given, and reports its upload.
    let upload = host.upload().await.expect("the relay's upload");
    assert_eq!(upload.budget_bits_per_second, 1_234_000);
    assert_eq!(
        (upload.held_small, upload.paused),
        (0, 0),
        "nothing turned down in an empty room"
    );
    let token = host
        .token("study-group", "ada", "Ada", true, Duration::from_secs(3600))
        .await
        .unwrap();
    let (mut ada, info) =
        SignalClient::join(&host.url(), "study-group", &token, MediaState::default())
            .await
            .unwrap();
    assert!(info.you.grants.host);
    ada.send(ClientMessage::ChatSend {
        client_msg_id: "1".into(),
        text: "welcome".into(),
    })
    .await
    .unwrap();
    expect(&mut ada, "ack", |m| {
        matches!(m, ServerMessage::ChatAck { .. })
    })
    .await;
    assert!(
        dir.path().join("chat.sqlite3").exists(),
        "chat is kept in the host's data dir"
    );

    // Ending the room stops the relay; the participant is told and disconnected.
    let stopping = tokio::spawn(host.stop());
    let (code, seen) = expect_close(&mut ada).await;
    assert_eq!(code, CloseCode::GOING_AWAY);
    assert!(seen
        .iter()
        .any(|m| matches!(m, ServerMessage::Shutdown { .. })));
    assert!(stopping.await.unwrap(), "the relay exited cleanly");
}

#[tokio::test]
async fn start_failures_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let missing = HostOptions {
        binary: Some("/nonexistent/studyhall-relay".into()),
        ..options(dir.path())
    };
    assert!(matches!(
        HostedRelay::start(missing).await,
        Err(HostError::Spawn { .. })
    ));

    // A port already taken: the relay's own error comes back.
    let first = HostedRelay::start(options(dir.path())).await.unwrap();
    let taken = HostOptions {
        port: first.addr().port(),
        ..options(&dir.path().join("second"))
    };
    match HostedRelay::start(taken).await {
        Err(HostError::ExitedEarly { stderr }) => {
            assert!(stderr.contains(&first.addr().to_string()), "{stderr}")
        }
        Err(other) => panic!("unexpected error: {other}"),
        Ok(_) => panic!("two relays on one port"),
    }
    assert!(first.stop().await);
}
