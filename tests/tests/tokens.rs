//! Access tokens: every bad token is refused with a clear, stable reason and close 4001,
//! while the room keeps serving the participants already in it.

use std::time::Duration;

use studyhall_protocol::{ClientMessage, CloseCode, ErrorCode, Grants, ServerMessage};
use studyhall_relay::auth::{now_secs, Claims, TokenKeys, AUDIENCE, ISSUER};
use studyhall_tests::{expect, join_refused, TestRelay};

fn claims(room: &str, identity: &str) -> Claims {
    let now = now_secs();
    Claims {
        iss: ISSUER.into(),
        aud: AUDIENCE.into(),
        sub: identity.into(),
        name: identity.into(),
        room: room.into(),
        grants: Grants::member(),
        iat: now,
        nbf: now,
        exp: now + 600,
        device: None,
    }
}

#[tokio::test]
async fn bad_tokens_are_refused_with_clear_reasons() {
    let relay = TestRelay::start().await;
    let url = relay.url();
    let (mut ada, _) = relay.join("r", "ada").await;

    let (code, close, msg) = join_refused(&url, "r", "").await;
    assert_eq!(
        (code, close),
        (ErrorCode::TokenMissing, CloseCode::UNAUTHORIZED)
    );
    assert!(msg.contains("token"), "{msg}");

    let expired = relay
        .keys
        .sign(&Claims {
            iat: now_secs() - 7200,
            nbf: now_secs() - 7200,
            exp: now_secs() - 60,
            ..claims("r", "bob")
        })
        .unwrap();
    let (code, close, msg) = join_refused(&url, "r", &expired).await;
    assert_eq!(
        (code, close),
        (ErrorCode::TokenExpired, CloseCode::UNAUTHORIZED)
    );
    assert!(msg.contains("expired"), "{msg}");

    let forged = TokenKeys::new(b"another-secret-another-secret-0000", Duration::ZERO)
        .issue("r", "bob", "Bob", Grants::host(), Duration::from_secs(60))
        .unwrap();
    let (code, _, msg) = join_refused(&url, "r", &forged).await;
    assert_eq!(code, ErrorCode::TokenInvalid);
    assert!(msg.contains("signature"), "{msg}");

    // A real token with its payload edited (room admin rights added) fails its signature.
    let genuine = relay.token("r", "bob");
    let parts: Vec<&str> = genuine.split('.').collect();
    let tampered = format!("{}.{}x.{}", parts[0], parts[1], parts[2]);
    assert_eq!(
        join_refused(&url, "r", &tampered).await.0,
        ErrorCode::TokenInvalid
    );

    assert_eq!(
        join_refused(&url, "r", "not-a-jwt").await.0,
        ErrorCode::TokenInvalid
    );

    let other_room = relay.token("physics", "bob");
    let (code, close, msg) = join_refused(&url, "r", &other_room).await;
    assert_eq!(
        (code, close),
        (ErrorCode::TokenWrongRoom, CloseCode::UNAUTHORIZED)
    );
    assert!(msg.contains("physics"), "{msg}");

    let no_join = relay.token_with(
        "r",
        "bob",
        Grants {
            join: false,
            ..Grants::member()
        },
    );
    let (code, close, msg) = join_refused(&url, "r", &no_join).await;
    assert_eq!(
        (code, close),
        (ErrorCode::Forbidden, CloseCode::UNAUTHORIZED)
    );
    assert!(msg.contains("join"), "{msg}");

    let future = relay
        .keys
        .sign(&Claims {
            nbf: now_secs() + 3600,
            ..claims("r", "bob")
        })
        .unwrap();
    let (code, _, msg) = join_refused(&url, "r", &future).await;
    assert_eq!(code, ErrorCode::TokenInvalid);
    assert!(msg.contains("not valid yet"), "{msg}");

    let wrong_aud = relay
        .keys
        .sign(&Claims {
            aud: "someone-else".into(),
            ..claims("r", "bob")
        })
        .unwrap();
    assert_eq!(
        join_refused(&url, "r", &wrong_aud).await.0,
        ErrorCode::TokenInvalid
    );

    // Through all of that, Ada was served and nobody else got in.
    ada.send(ClientMessage::Ping { nonce: Some(1) })
        .await
        .unwrap();
    expect(&mut ada, "pong", |m| {
        matches!(m, ServerMessage::Pong { nonce: Some(1), .. })
    })
    .await;
    assert_eq!(relay.running.relay.rooms.counts(), (1, 1));
    let metrics = relay.running.relay.metrics.render(1, 1);
    assert!(
        metrics.contains("studyhall_errors_total{code=\"token_invalid\"}"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_token_that_expires_after_join_does_not_cut_the_call() {
    // Expiry gates joining; a participant already in stays (as LiveKit does).
    let relay = TestRelay::start().await;
    let short = relay
        .keys
        .issue("r", "ada", "Ada", Grants::member(), Duration::from_secs(1))
        .unwrap();
    let (mut ada, _) =
        studyhall_client::SignalClient::join(&relay.url(), "r", &short, Default::default())
            .await
            .unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    ada.send(ClientMessage::Ping { nonce: Some(2) })
        .await
        .unwrap();
    expect(&mut ada, "pong", |m| {
        matches!(m, ServerMessage::Pong { nonce: Some(2), .. })
    })
    .await;
    let (code, ..) = join_refused(&relay.url(), "r", &short).await;
    assert_eq!(
        code,
        ErrorCode::TokenExpired,
        "but it cannot be used to join again"
    );
}

#[tokio::test]
async fn unsupported_protocol_version_is_refused() {
    let relay = TestRelay::start().await;
    let mut c = studyhall_client::SignalClient::connect(&relay.url())
        .await
        .unwrap();
    c.send(ClientMessage::Join {
        room: "r".into(),
        token: relay.token("r", "ada"),
        protocol: 99,
        media: Default::default(),
    })
    .await
    .unwrap();
    let (close, seen) = studyhall_tests::expect_close(&mut c).await;
    assert_eq!(close, CloseCode::PROTOCOL);
    assert!(
        matches!(&seen[0], ServerMessage::Error { code: ErrorCode::UnsupportedProtocol, message, .. } if message.contains("99"))
    );
}
