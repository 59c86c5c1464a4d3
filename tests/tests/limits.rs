//! Bad input and floods: oversized frames, message floods, malformed and unknown
//! messages, misuse before joining. Each gets a clear error; everyone else is served.

use std::time::{Duration, Instant};

use studyhall_client::SignalClient;
use studyhall_protocol::{
    ClientFrame, ClientMessage, CloseCode, ErrorCode, LeaveReason, ServerMessage,
};
use studyhall_tests::{expect, expect_close, expect_error, TestRelay};
use tokio_tungstenite::tungstenite::Message;

/// The next `participant_left` `c` receives is `identity`'s, for `reason`.
async fn expect_left(c: &mut SignalClient, identity: &str, reason: LeaveReason) {
    let left = expect(c, &format!("{identity} removed"), |m| {
        matches!(m, ServerMessage::ParticipantLeft { .. })
    })
    .await;
    assert_eq!(
        left,
        ServerMessage::ParticipantLeft {
            identity: identity.into(),
            reason
        }
    );
}

async fn ping_pong(c: &mut SignalClient, nonce: u64) -> Duration {
    let t = Instant::now();
    c.send(ClientMessage::Ping { nonce: Some(nonce) })
        .await
        .unwrap();
    expect(
        c,
        "pong",
        |m| matches!(m, ServerMessage::Pong { nonce: Some(n), .. } if *n == nonce),
    )
    .await;
    t.elapsed()
}

#[tokio::test]
async fn oversized_frame_gets_1009_and_others_keep_going() {
    let relay = TestRelay::start().await;
    let (mut ada, info) = relay.join("r", "ada").await;
    let limit = info.limits.max_message_bytes;
    assert_eq!(limit, 64 * 1024);
    let (mut bob, _) = relay.join("r", "bob").await;

    // 4× the limit, inside an otherwise valid chat message.
    let text = format!(
        r#"{{"type":"chat_send","client_msg_id":"big","text":"{}"}}"#,
        "x".repeat(4 * limit)
    );
    bob.send_raw(Message::Text(text.into())).await.unwrap();
    let (code, seen) = expect_close(&mut bob).await;
    assert_eq!(code, CloseCode::TOO_BIG);
    assert!(
        seen.iter().any(|m| matches!(m, ServerMessage::Error { code: ErrorCode::MessageTooLarge, fatal: true, message, .. } if message.contains(&limit.to_string()))),
        "{seen:?}"
    );
    expect_left(&mut ada, "bob", LeaveReason::Violation).await;
    ping_pong(&mut ada, 1).await;
    assert!(
        relay
            .running
            .relay
            .chat()
            .page("r", None, 10)
            .await
            .unwrap()
            .messages
            .is_empty(),
        "nothing stored"
    );
}

#[tokio::test]
async fn frame_beyond_the_transport_limit_is_cut_off() {
    let relay = TestRelay::start().await;
    let (mut ada, _) = relay.join("r", "ada").await;
    let (mut bob, _) = relay.join("r", "bob").await;
    // 2 MiB: more than the transport accepts at all (16 × 64 KiB).
    bob.send_raw(Message::Binary(vec![0u8; 2 * 1024 * 1024].into()))
        .await
        .ok();
    let (code, _) = expect_close_or_reset(&mut bob).await;
    assert!(
        code == CloseCode::TOO_BIG || code == 1006,
        "closed with {code}"
    );
    expect(&mut ada, "bob removed", |m| {
        matches!(m, ServerMessage::ParticipantLeft { .. })
    })
    .await;
    ping_pong(&mut ada, 2).await;
}

async fn expect_close_or_reset(c: &mut SignalClient) -> (u16, Vec<ServerMessage>) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let mut seen = vec![];
    loop {
        match tokio::time::timeout_at(deadline, c.recv()).await {
            Err(_) => panic!("socket stayed open"),
            Ok(Ok(m)) => seen.push(m),
            Ok(Err(studyhall_client::SignalError::Closed { code, .. })) => return (code, seen),
            Ok(Err(e)) => panic!("{e}"),
        }
    }
}

#[tokio::test]
async fn flood_is_rate_limited_then_disconnected_while_others_are_served() {
    let relay = TestRelay::start().await;
    let (mut ada, info) = relay.join("r", "ada").await;
    assert_eq!(
        (info.limits.messages_per_second, info.limits.message_burst),
        (20, 50)
    );
    let (mut mallory, _) = relay.join("r", "mallory").await;

    let flood = tokio::spawn(async move {
        let ping =
            serde_json::to_string(&ClientFrame::new(ClientMessage::Ping { nonce: None })).unwrap();
        let started = Instant::now();
        let mut seen = Vec::new();
        // At most 10 s at ~1000 messages/s, stopping as soon as the relay hangs up.
        for i in 0..10_000 {
            if mallory
                .send_raw(Message::Text(ping.clone().into()))
                .await
                .is_err()
            {
                break;
            }
            if i % 10 == 0 {
                // Read what arrived without waiting, to notice the close promptly.
                while let Ok(r) = tokio::time::timeout(Duration::ZERO, mallory.recv()).await {
                    match r {
                        Ok(m) => seen.push(m),
                        Err(studyhall_client::SignalError::Closed { code, .. }) => {
                            return (code, seen, started.elapsed())
                        }
                        Err(e) => panic!("{e}"),
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let (code, rest) = expect_close_or_reset(&mut mallory).await;
        seen.extend(rest);
        (code, seen, started.elapsed())
    });

    // Meanwhile Ada keeps getting answers.
    let mut worst = Duration::ZERO;
    for n in 0..20 {
        worst = worst.max(ping_pong(&mut ada, 100 + n).await);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        worst < Duration::from_secs(1),
        "bystander round trip took {worst:?}"
    );

    let (code, seen, took) = flood.await.unwrap();
    assert_eq!(
        code,
        CloseCode::RATE_LIMITED,
        "seen {} messages",
        seen.len()
    );
    let limited: Vec<_> = seen
        .iter()
        .filter_map(|m| match m {
            ServerMessage::Error {
                code: ErrorCode::RateLimited,
                fatal,
                retry_after_ms,
                ..
            } => Some((*fatal, *retry_after_ms)),
            _ => None,
        })
        .collect();
    assert!(
        limited.len() >= 2,
        "warned before the disconnect: {limited:?}"
    );
    assert!(
        limited.len() <= 10,
        "warnings are not amplified: {}",
        limited.len()
    );
    assert!(limited
        .iter()
        .any(|(fatal, retry)| !fatal && retry.is_some()));
    assert!(limited.last().unwrap().0, "the last one is fatal");
    assert!(took < Duration::from_secs(8), "disconnected after {took:?}");
    expect_left(&mut ada, "mallory", LeaveReason::Violation).await;
}

#[tokio::test]
async fn chat_has_its_own_tighter_limit() {
    let relay = TestRelay::start().await;
    let (mut ada, info) = relay.join("r", "ada").await;
    assert_eq!(
        (info.limits.chat_per_second, info.limits.chat_burst),
        (3, 10)
    );
    for i in 0..11 {
        ada.send(ClientMessage::ChatSend {
            client_msg_id: format!("m{i}"),
            text: "hi".into(),
        })
        .await
        .unwrap();
    }
    let err = expect_error(&mut ada, ErrorCode::RateLimited).await;
    assert!(
        matches!(err, ServerMessage::Error { fatal: false, retry_after_ms: Some(ms), .. } if ms <= 400)
    );
    // The refused message was not stored; a retry after the wait is.
    tokio::time::sleep(Duration::from_millis(400)).await;
    ada.send(ClientMessage::ChatSend {
        client_msg_id: "m10".into(),
        text: "hi".into(),
    })
    .await
    .unwrap();
    expect(&mut ada, "ack of the retry", |m| matches!(m, ServerMessage::ChatAck { client_msg_id, seq: 11, .. } if client_msg_id == "m10")).await;
}

#[tokio::test]
async fn malformed_and_unknown_messages_get_errors_not_a_crash() {
    let relay = TestRelay::start().await;
    let (mut ada, _) = relay.join("r", "ada").await;
    let (mut bob, _) = relay.join("r", "bob").await;

    let cases: &[(&str, ErrorCode)] = &[
        ("this is not json", ErrorCode::BadMessage),
        ("[1,2,3]", ErrorCode::BadMessage),
        (r#"{"no":"type"}"#, ErrorCode::BadMessage),
        (r#"{"type":"teleport","to":"mars"}"#, ErrorCode::UnknownType),
        (r#"{"type":"chat_send","text":42}"#, ErrorCode::BadMessage),
        (r#"{"type":"chat_delete","seq":-1}"#, ErrorCode::BadMessage),
        (
            r#"{"type":"set_media","mic":"loud"}"#,
            ErrorCode::BadMessage,
        ),
        (
            "{\"type\":\"ping\",\"request_id\":\"\"}",
            ErrorCode::InvalidId,
        ),
        ("\u{0}\u{ffff}", ErrorCode::BadMessage),
    ];
    for (raw, code) in cases {
        bob.send_raw(Message::Text((*raw).into())).await.unwrap();
        let err = expect_error(&mut bob, *code).await;
        assert!(
            matches!(err, ServerMessage::Error { fatal: false, .. }),
            "{raw}: {err:?}"
        );
    }
    bob.send_raw(Message::Binary(vec![1, 2, 3].into()))
        .await
        .unwrap();
    expect_error(&mut bob, ErrorCode::BinaryNotSupported).await;
    bob.send(ClientMessage::Join {
        room: "r".into(),
        token: relay.token("r", "bob"),
        protocol: 1,
        media: Default::default(),
    })
    .await
    .unwrap();
    expect_error(&mut bob, ErrorCode::AlreadyJoined).await;
    // request_id is echoed on errors too.
    bob.send_frame(&ClientFrame::with_request_id(
        ClientMessage::ChatDelete { seq: 1 },
        "del-1",
    ))
    .await
    .unwrap();
    let err = expect_error(&mut bob, ErrorCode::Forbidden).await;
    assert!(matches!(err, ServerMessage::Error { request_id: Some(id), .. } if id == "del-1"));

    // Both still work.
    ping_pong(&mut bob, 3).await;
    ping_pong(&mut ada, 4).await;
}

#[tokio::test]
async fn misuse_before_join_is_refused() {
    let relay = TestRelay::start_with(|c| c.join_timeout = Duration::from_millis(300)).await;
    let mut c = SignalClient::connect(&relay.url()).await.unwrap();
    c.send(ClientMessage::ChatSend {
        client_msg_id: "1".into(),
        text: "hi".into(),
    })
    .await
    .unwrap();
    let (code, seen) = expect_close(&mut c).await;
    assert_eq!(code, CloseCode::PROTOCOL);
    assert!(
        matches!(
            &seen[0],
            ServerMessage::Error {
                code: ErrorCode::NotJoined,
                fatal: true,
                ..
            }
        ),
        "{seen:?}"
    );

    let mut c = SignalClient::connect(&relay.url()).await.unwrap();
    c.send_raw(Message::Text("garbage".into())).await.unwrap();
    let (code, seen) = expect_close(&mut c).await;
    assert_eq!(code, CloseCode::PROTOCOL);
    assert!(matches!(
        &seen[0],
        ServerMessage::Error {
            code: ErrorCode::BadMessage,
            ..
        }
    ));

    let mut idle = SignalClient::connect(&relay.url()).await.unwrap();
    let (code, seen) = expect_close(&mut idle).await;
    assert_eq!(code, CloseCode::PROTOCOL);
    assert!(matches!(
        &seen[0],
        ServerMessage::Error {
            code: ErrorCode::JoinTimeout,
            ..
        }
    ));
    // No half-joined leftovers.
    assert_eq!(relay.running.relay.rooms.counts(), (0, 0));
}

#[tokio::test]
async fn connection_cap_refuses_upgrades_clearly() {
    let relay = TestRelay::start_with(|c| c.max_connections = 2).await;
    let (_a, _) = relay.join("r", "ada").await;
    let (_b, _) = relay.join("r", "bob").await;
    match SignalClient::connect(&relay.url()).await {
        Err(studyhall_client::SignalError::Connect { message, .. }) => {
            assert!(message.contains("503"), "{message}");
            assert!(
                message.contains("too many connections"),
                "the relay's reason: {message}"
            );
        }
        Err(e) => panic!("unexpected error: {e}"),
        Ok(_) => panic!("a third connection was accepted"),
    }
}

#[tokio::test]
async fn sockets_that_have_not_joined_are_capped_per_address() {
    use std::sync::atomic::Ordering::Relaxed;
    let relay = TestRelay::start_with(|c| c.max_pending_per_address = 2).await;
    let state = &relay.running.relay;
    let here: std::net::IpAddr = [127, 0, 0, 1].into();
    let refused = |what: &str, r: Result<SignalClient, studyhall_client::SignalError>| match r {
        Err(studyhall_client::SignalError::Connect { message, .. }) => {
            assert!(message.contains("429"), "{what}: {message}");
            assert!(message.contains("still joining"), "{what}: {message}");
        }
        Err(e) => panic!("{what}: unexpected error: {e}"),
        Ok(_) => panic!("{what}: accepted"),
    };

    let idle_a = SignalClient::connect(&relay.url()).await.unwrap();
    let _idle_b = SignalClient::connect(&relay.url()).await.unwrap();
    refused(
        "a third socket that has not joined",
        SignalClient::connect(&relay.url()).await,
    );
    assert_eq!(state.metrics.connections_refused_pending.load(Relaxed), 1);
    assert_eq!(state.pending.count(here), 2);

    // Closing one frees its place once the relay sees the close.
    drop(idle_a);
    let deadline = Instant::now() + Duration::from_secs(5);
    while state.pending.count(here) > 1 {
        assert!(Instant::now() < deadline, "the closed socket still counts");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // A joined socket does not count: ada joins on the freed place, one more may wait.
    let (mut ada, _) = relay.join("r", "ada").await;
    assert_eq!(state.pending.count(here), 1);
    let _idle_c = SignalClient::connect(&relay.url()).await.unwrap();
    refused(
        "a socket over the cap again",
        SignalClient::connect(&relay.url()).await,
    );
    assert_eq!(state.metrics.connections_refused_pending.load(Relaxed), 2);

    // Refused sockets took no place under max_connections, and ada is still served.
    assert_eq!(state.metrics.connections_refused.load(Relaxed), 0);
    ping_pong(&mut ada, 7).await;
}

#[tokio::test]
async fn a_text_frame_that_is_not_utf8_gets_bad_message_and_1007() {
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
    use tokio_tungstenite::tungstenite::protocol::frame::Frame;
    let relay = TestRelay::start().await;
    let (mut ada, _) = relay.join("r", "ada").await;
    let (mut bob, _) = relay.join("r", "bob").await;
    let bad = Frame::message(vec![b'{', 0xff, 0xfe, b'}'], OpCode::Data(Data::Text), true);
    bob.send_raw(Message::Frame(bad)).await.unwrap();
    let (code, seen) = expect_close(&mut bob).await;
    assert_eq!(code, CloseCode::INVALID_DATA);
    assert!(
        seen.iter().any(|m| matches!(m, ServerMessage::Error { code: ErrorCode::BadMessage, fatal: true, message, .. } if message.contains("UTF-8"))),
        "{seen:?}"
    );
    expect_left(&mut ada, "bob", LeaveReason::Violation).await;
    ping_pong(&mut ada, 4).await;
}

/// A member whose socket stops reading is cut as a slow consumer as soon as its queue
/// overflows, not at the heartbeat timeout, and the others see it leave at once; when it
/// reads again it finds `slow_consumer` and 4011.
#[tokio::test]
async fn a_member_that_stops_reading_is_cut_as_a_slow_consumer_while_blocked() {
    use futures_util::{SinkExt, StreamExt};
    let relay = TestRelay::start_with(|c| {
        c.messages_per_second = 1_000_000;
        c.message_burst = 1_000_000;
        c.chat_per_second = 1_000_000;
        c.chat_burst = 1_000_000;
        c.heartbeat_timeout = Duration::from_secs(60);
        c.heartbeat_interval = Duration::from_secs(20);
    })
    .await;
    let (mut cat, _) = relay.join("r", "cat").await;

    // Bob joins over a socket with a tiny receive buffer, then never reads.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(relay.addr()).await.unwrap();
    let url = studyhall_client::signal::websocket_url(&relay.url());
    let (mut bob, _) = tokio_tungstenite::client_async(url.as_str(), stream)
        .await
        .unwrap();
    let join = ClientFrame::new(ClientMessage::Join {
        room: "r".into(),
        token: relay.token("r", "bob"),
        protocol: studyhall_protocol::PROTOCOL_VERSION,
        media: Default::default(),
    });
    bob.send(Message::Text(serde_json::to_string(&join).unwrap().into()))
        .await
        .unwrap();
    let joined = bob.next().await.unwrap().unwrap();
    assert!(
        joined.to_text().unwrap().contains("\"joined\""),
        "{joined:?}"
    );
    expect(&mut cat, "bob joined", |m| {
        matches!(m, ServerMessage::ParticipantJoined { .. })
    })
    .await;

    // Ada floods the room with long chat messages, reading her own socket all along: she
    // sends the next one when her last has come back to her, so her own queue stays short
    // however the two cores are shared (reading only what had already arrived let her fall
    // behind and be the one cut).
    let (mut ada, _) = relay.join("r", "ada").await;
    let flood = tokio::spawn(async move {
        let text = "x".repeat(4000);
        for i in 0..20_000u32 {
            let frame = serde_json::json!({"type": "chat_send", "client_msg_id": format!("f{i}"), "text": text});
            if ada
                .send_raw(Message::Text(frame.to_string().into()))
                .await
                .is_err()
            {
                break;
            }
            loop {
                match ada.recv().await {
                    Ok(ServerMessage::ChatMessage { message }) if message.from == "ada" => break,
                    Ok(_) => {}
                    Err(_) => return ada,
                }
            }
        }
        ada
    });

    let started = Instant::now();
    let left = loop {
        let m = tokio::time::timeout(Duration::from_secs(40), cat.recv())
            .await
            .expect("bob cut within 40 s")
            .expect("cat still connected");
        if matches!(&m, ServerMessage::ParticipantLeft { identity, .. } if identity == "bob") {
            break m;
        }
    };
    println!("bob cut after {:?}", started.elapsed());
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "cut after {:?}, not at the heartbeat timeout",
        started.elapsed()
    );
    assert!(matches!(
        left,
        ServerMessage::ParticipantLeft {
            reason: LeaveReason::Timeout,
            ..
        }
    ));
    flood.abort();

    // Bob reads again: behind the queued messages, the reason and the close.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut told = false;
    let code = loop {
        match tokio::time::timeout_at(deadline, bob.next()).await {
            Err(_) => panic!("no close reached bob (told: {told})"),
            Ok(None) => panic!("closed without a close frame (told: {told})"),
            Ok(Some(Err(e))) => panic!("{e} (told: {told})"),
            Ok(Some(Ok(Message::Text(t)))) => {
                told |= t.contains("\"slow_consumer\"");
            }
            Ok(Some(Ok(Message::Close(frame)))) => break frame.map(|f| u16::from(f.code)),
            Ok(Some(Ok(_))) => {}
        }
    };
    assert_eq!(code, Some(CloseCode::SLOW_CONSUMER));
    assert!(told, "slow_consumer came before the close");
    ping_pong(&mut cat, 5).await;
}

/// A connection that goes silent is told why before its `4010`, like every other close.
/// (The silent client speaks WebSocket by hand: a library would answer the pings.)
#[tokio::test]
async fn a_silent_connection_hears_heartbeat_timeout_before_4010() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let relay = TestRelay::start_with(|c| {
        c.heartbeat_interval = Duration::from_millis(200);
        c.heartbeat_timeout = Duration::from_millis(800);
    })
    .await;
    let mut bob = tokio::net::TcpStream::connect(relay.addr()).await.unwrap();
    let upgrade = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        studyhall_protocol::WS_PATH,
        relay.addr()
    );
    bob.write_all(upgrade.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(bob.read_u8().await.unwrap());
    }
    assert!(
        head.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    let join = serde_json::to_vec(&ClientFrame::new(ClientMessage::Join {
        room: "r".into(),
        token: relay.token("r", "bob"),
        protocol: studyhall_protocol::PROTOCOL_VERSION,
        media: Default::default(),
    }))
    .unwrap();
    // One masked text frame (a zero mask leaves the payload as it is).
    let mut frame = vec![0x81, 0x80 | 126];
    frame.extend_from_slice(&(join.len() as u16).to_be_bytes());
    frame.extend_from_slice(&[0, 0, 0, 0]);
    frame.extend_from_slice(&join);
    bob.write_all(&frame).await.unwrap();
    // Bob answers no ping and sends nothing more; then reads all the relay sent.
    tokio::time::sleep(Duration::from_millis(2_000)).await;
    let mut got = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), bob.read_to_end(&mut got)).await;
    let find = |needle: &[u8]| got.windows(needle.len()).position(|w| w == needle);
    let told = find(b"\"heartbeat_timeout\"").expect("an error saying why");
    // The close frame: opcode 8, then the code 4010 (0x0FAA) first in its payload.
    let closed = find(&[0x88, 0x13, 0x0F, 0xAA])
        .or_else(|| {
            got.windows(4)
                .position(|w| w[0] == 0x88 && w[2..] == [0x0F, 0xAA])
        })
        .expect("a close frame with 4010");
    assert!(told < closed, "the error comes before the close");
    // The relay goes on serving.
    let (mut cat, _) = relay.join("r", "cat").await;
    ping_pong(&mut cat, 6).await;
}

/// Reconnecting in a loop used to reset every rate limit (40 chat messages acked in
/// 0.1 s) and broadcast a join and a leave each time. Limits now follow the identity,
/// and joins themselves are limited.
#[tokio::test]
async fn reconnecting_neither_resets_rate_limits_nor_floods_the_room_with_joins() {
    use studyhall_client::SignalError;
    let relay = TestRelay::start().await;
    let (mut ada, _) = relay.join("r", "ada").await;
    let started = Instant::now();
    let (mut acked, mut refused_joins, mut joins) = (0u32, 0u32, 0u32);
    for round in 0..20 {
        match SignalClient::join(
            &relay.url(),
            "r",
            &relay.token("r", "bob"),
            Default::default(),
        )
        .await
        {
            Ok((mut bob, _)) => {
                joins += 1;
                for i in 0..10 {
                    bob.send(ClientMessage::ChatSend {
                        client_msg_id: format!("{round}-{i}"),
                        text: "again".into(),
                    })
                    .await
                    .unwrap();
                }
                // Collect the acks for a moment (refusals are not all answered: the
                // relay warns once a second), then reconnect.
                let until = tokio::time::Instant::now() + Duration::from_millis(300);
                while let Ok(Ok(m)) = tokio::time::timeout_at(until, bob.recv()).await {
                    if matches!(m, ServerMessage::ChatAck { .. }) {
                        acked += 1;
                    }
                }
                bob.close().await;
            }
            Err(SignalError::Refused {
                code: ErrorCode::RateLimited,
                message,
            }) => {
                assert!(message.contains("joins this room too often"), "{message}");
                refused_joins += 1;
            }
            Err(e) => panic!("{e}"),
        }
    }
    let secs = started.elapsed().as_secs_f64();
    assert!(
        refused_joins > 0,
        "{joins} joins in {secs:.1} s, none refused"
    );
    // The chat limit held across connections: its burst (10), then 3 a second.
    let allowed = 10.0 + 3.0 * secs + 1.0;
    assert!(
        f64::from(acked) <= allowed,
        "{acked} messages acked in {secs:.1} s over {joins} connections (at most {allowed:.0})"
    );
    // Ada was not flooded away and the relay still answers her.
    ping_pong(&mut ada, 7).await;
}
