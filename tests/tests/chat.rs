//! Chat: stored before acknowledged, one room sequence, idempotent retries, history on
//! join and by page, history across a relay restart, the word filter and text limits.

use studyhall_client::SignalClient;
use studyhall_protocol::{
    ChatMessage, ClientFrame, ClientMessage, ErrorCode, Grants, MediaState, ServerMessage,
};
use studyhall_tests::{expect, expect_error, expect_none, TestRelay};

fn say(id: &str, text: &str) -> ClientMessage {
    ClientMessage::ChatSend {
        client_msg_id: id.into(),
        text: text.into(),
    }
}

async fn next_chat(client: &mut SignalClient) -> ChatMessage {
    match expect(client, "chat message", |m| {
        matches!(m, ServerMessage::ChatMessage { .. })
    })
    .await
    {
        ServerMessage::ChatMessage { message } => message,
        _ => unreachable!(),
    }
}

async fn next_ack(client: &mut SignalClient) -> (String, u64, bool) {
    match expect(client, "chat ack", |m| {
        matches!(m, ServerMessage::ChatAck { .. })
    })
    .await
    {
        ServerMessage::ChatAck {
            client_msg_id,
            seq,
            duplicate,
            ..
        } => (client_msg_id, seq, duplicate),
        _ => unreachable!(),
    }
}

fn roomy(c: &mut studyhall_relay::Config) {
    c.chat_burst = 1000;
    c.chat_per_second = 1000;
    c.message_burst = 1000;
    c.messages_per_second = 1000;
}

#[tokio::test]
async fn messages_arrive_in_sequence_for_everyone() {
    let relay = TestRelay::start_with(roomy).await;
    let (mut ada, _) = relay.join("r", "ada").await;
    let (mut bob, _) = relay.join("r", "bob").await;
    for i in 0..20 {
        ada.send(say(&format!("a{i}"), &format!("ada {i}")))
            .await
            .unwrap();
        bob.send(say(&format!("b{i}"), &format!("bob {i}")))
            .await
            .unwrap();
    }
    let mut ada_seen = Vec::new();
    let mut bob_seen = Vec::new();
    for _ in 0..40 {
        ada_seen.push(next_chat(&mut ada).await);
        bob_seen.push(next_chat(&mut bob).await);
    }
    assert_eq!(ada_seen, bob_seen, "everyone sees the same order");
    let seqs: Vec<u64> = ada_seen.iter().map(|m| m.seq).collect();
    assert_eq!(
        seqs,
        (1..=40).collect::<Vec<_>>(),
        "no gaps, strictly increasing"
    );
    // Each sender's own messages keep their sending order.
    let ada_texts: Vec<_> = ada_seen
        .iter()
        .filter(|m| m.from == "ada")
        .map(|m| m.text.clone())
        .collect();
    assert_eq!(
        ada_texts,
        (0..20).map(|i| format!("ada {i}")).collect::<Vec<_>>()
    );
    assert!(ada_seen
        .iter()
        .all(|m| m.name == if m.from == "ada" { "Ada" } else { "Bob" }));
}

#[tokio::test]
async fn ack_carries_the_sequence_and_retries_never_duplicate() {
    let relay = TestRelay::start().await;
    let (mut ada, _) = relay.join("r", "ada").await;
    let (mut bob, _) = relay.join("r", "bob").await;
    ada.send_frame(&ClientFrame::with_request_id(say("m-1", "hello"), "req-9"))
        .await
        .unwrap();
    let ack = expect(&mut ada, "ack", |m| {
        matches!(m, ServerMessage::ChatAck { .. })
    })
    .await;
    let ServerMessage::ChatAck {
        request_id,
        client_msg_id,
        seq,
        duplicate,
        ..
    } = ack
    else {
        unreachable!()
    };
    assert_eq!(request_id.as_deref(), Some("req-9"));
    assert_eq!((client_msg_id.as_str(), seq, duplicate), ("m-1", 1, false));
    assert_eq!(next_chat(&mut bob).await.text, "hello");

    // The same id again (a retry after a lost ack): same seq, flagged, not re-broadcast.
    ada.send(say("m-1", "hello")).await.unwrap();
    assert_eq!(next_ack(&mut ada).await, ("m-1".into(), 1, true));
    // And after a reconnect.
    ada.close().await;
    let (mut ada, info) = relay.join("r", "ada").await;
    assert_eq!(info.chat.messages.len(), 1);
    ada.send(say("m-1", "hello")).await.unwrap();
    assert_eq!(next_ack(&mut ada).await, ("m-1".into(), 1, true));
    // Another sender may use the same client id: it is a different message.
    bob.send(say("m-1", "mine")).await.unwrap();
    assert_eq!(next_ack(&mut bob).await, ("m-1".into(), 2, false));
    let page = relay
        .running
        .relay
        .chat()
        .page("r", None, 50)
        .await
        .unwrap();
    assert_eq!(page.messages.len(), 2);
    expect_none(
        &mut bob,
        std::time::Duration::from_millis(200),
        "a duplicate broadcast",
        |m| matches!(m, ServerMessage::ChatMessage { message } if message.seq == 1),
    )
    .await;
}

#[tokio::test]
async fn history_on_join_and_older_pages() {
    let relay = TestRelay::start_with(roomy).await;
    let (mut ada, _) = relay.join("r", "ada").await;
    for i in 1..=120 {
        ada.send(say(&format!("m{i}"), &format!("message {i}")))
            .await
            .unwrap();
    }
    for _ in 0..120 {
        next_ack(&mut ada).await;
    }
    let (mut bob, info) = relay.join("r", "bob").await;
    let seqs: Vec<u64> = info.chat.messages.iter().map(|m| m.seq).collect();
    assert_eq!(
        seqs,
        (71..=120).collect::<Vec<_>>(),
        "the last 50, oldest first"
    );
    assert!(info.chat.has_more);
    assert_eq!(info.chat.messages[0].text, "message 71");

    bob.send_frame(&ClientFrame::with_request_id(
        ClientMessage::ChatHistory {
            before_seq: Some(71),
            limit: None,
        },
        "p1",
    ))
    .await
    .unwrap();
    let page = expect(&mut bob, "page", |m| {
        matches!(m, ServerMessage::ChatPage { .. })
    })
    .await;
    let ServerMessage::ChatPage { request_id, page } = page else {
        unreachable!()
    };
    assert_eq!(request_id.as_deref(), Some("p1"));
    assert_eq!(page.messages.first().unwrap().seq, 21);
    assert_eq!(page.messages.last().unwrap().seq, 70);
    assert!(page.has_more);

    bob.send(ClientMessage::ChatHistory {
        before_seq: Some(21),
        limit: Some(500),
    })
    .await
    .unwrap();
    let ServerMessage::ChatPage { page, .. } = expect(&mut bob, "last page", |m| {
        matches!(m, ServerMessage::ChatPage { .. })
    })
    .await
    else {
        unreachable!()
    };
    assert_eq!(
        page.messages.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (1..=20).collect::<Vec<_>>()
    );
    assert!(!page.has_more);

    bob.send(ClientMessage::ChatHistory {
        before_seq: None,
        limit: Some(500),
    })
    .await
    .unwrap();
    let ServerMessage::ChatPage { page, .. } = expect(&mut bob, "clamped page", |m| {
        matches!(m, ServerMessage::ChatPage { .. })
    })
    .await
    else {
        unreachable!()
    };
    assert_eq!(
        page.messages.len(),
        100,
        "limit is clamped to max_history_page"
    );

    bob.send(ClientMessage::ChatHistory {
        before_seq: None,
        limit: Some(0),
    })
    .await
    .unwrap();
    expect_error(&mut bob, ErrorCode::BadMessage).await;
}

#[tokio::test]
async fn history_survives_a_relay_restart() {
    let relay = TestRelay::start().await;
    let data_dir = relay.data_dir_buf();
    let (mut ada, _) = relay.join("r", "ada").await;
    for i in 1..=3 {
        ada.send(say(&format!("m{i}"), &format!("before restart {i}")))
            .await
            .unwrap();
        next_ack(&mut ada).await;
    }
    let old_url = relay.url();
    let relay = relay.restart().await;
    assert_ne!(old_url, relay.url(), "a new process-level listener");
    assert_eq!(relay.data_dir(), data_dir);
    let (mut ada, info) = relay.join("r", "ada").await;
    let texts: Vec<_> = info.chat.messages.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(
        texts,
        ["before restart 1", "before restart 2", "before restart 3"]
    );
    // The sequence continues and retries of old ids are still recognised.
    ada.send(say("m3", "before restart 3")).await.unwrap();
    assert_eq!(next_ack(&mut ada).await, ("m3".into(), 3, true));
    ada.send(say("m4", "after restart")).await.unwrap();
    assert_eq!(next_ack(&mut ada).await, ("m4".into(), 4, false));
}

#[tokio::test]
async fn word_filter_masks_listed_words() {
    let relay = TestRelay::start_with(|c| c.word_filter = vec!["darn".into(), "heck".into()]).await;
    let (mut ada, _) = relay.join("r", "ada").await;
    ada.send(say("1", "Darn, what the HECK is a darning needle?"))
        .await
        .unwrap();
    let msg = next_chat(&mut ada).await;
    assert_eq!(msg.text, "****, what the **** is a darning needle?");
    let stored = relay.running.relay.chat().page("r", None, 1).await.unwrap();
    assert_eq!(
        stored.messages[0].text, msg.text,
        "the filtered text is what is stored"
    );
}

#[tokio::test]
async fn text_limits_and_chat_grant() {
    let relay = TestRelay::start_with(|c| c.max_chat_bytes = 100).await;
    let (mut ada, _) = relay.join("r", "ada").await;
    ada.send(say("1", &"x".repeat(101))).await.unwrap();
    let err = expect_error(&mut ada, ErrorCode::InvalidText).await;
    assert!(
        matches!(&err, ServerMessage::Error { message, fatal: false, .. } if message.contains("100")),
        "{err:?}"
    );
    ada.send(say("2", "   ")).await.unwrap();
    expect_error(&mut ada, ErrorCode::InvalidText).await;
    ada.send(say(&"i".repeat(65), "hi")).await.unwrap();
    expect_error(&mut ada, ErrorCode::InvalidId).await;
    // Exactly at the limit (multi-byte characters count in bytes) is fine.
    ada.send(say("3", &"é".repeat(50))).await.unwrap();
    assert_eq!(next_ack(&mut ada).await.1, 1);

    let muted = Grants {
        chat: false,
        ..Grants::member()
    };
    let token = relay.token_with("r", "quiet", muted);
    let (mut quiet, _) = SignalClient::join(&relay.url(), "r", &token, MediaState::default())
        .await
        .unwrap();
    quiet.send(say("1", "let me talk")).await.unwrap();
    expect_error(&mut quiet, ErrorCode::Forbidden).await;
    // Reading history needs no chat grant.
    quiet
        .send(ClientMessage::ChatHistory {
            before_seq: None,
            limit: None,
        })
        .await
        .unwrap();
    expect(&mut quiet, "page", |m| {
        matches!(m, ServerMessage::ChatPage { .. })
    })
    .await;
}

#[tokio::test]
async fn sender_identity_comes_from_the_token() {
    let relay = TestRelay::start().await;
    let (mut bob, _) = relay.join("r", "bob").await;
    let (mut eve, _) = relay.join("r", "eve").await;
    // Extra fields naming someone else are ignored.
    let spoof = r#"{"type":"chat_send","client_msg_id":"x","text":"I am bob","from":"bob","name":"Bob","identity":"bob"}"#;
    eve.send_raw(tokio_tungstenite::tungstenite::Message::Text(spoof.into()))
        .await
        .unwrap();
    let msg = next_chat(&mut bob).await;
    assert_eq!((msg.from.as_str(), msg.name.as_str()), ("eve", "Eve"));
}
