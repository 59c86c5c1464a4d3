//! Cluster mode: real `redis-server` processes on free ports and two or three real
//! `studyhall-relay` processes sharing them. Clients connect to different nodes and must
//! end up in one room, with chat, presence and media crossing nodes, through node deaths
//! and a Redis restart.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use redis::AsyncCommands;
use studyhall_client::media::{ClientStats, MediaClient, MediaOptions};
use studyhall_client::{JoinInfo, SignalClient, SignalError};
use studyhall_protocol::{
    ClientFrame, ClientMessage, CloseCode, ErrorCode, FeatureEvent, Grants, HandEvent, HandRequest,
    MediaState, Presence, PresenceRequest, ServerMessage, TimerEvent, TimerRequest, TimerSettings,
    TrackSource,
};
use studyhall_tests::cluster::{http_get, token, Node, RedisServer};
use studyhall_tests::{expect, expect_none, init_logging, WAIT};

/// Each test runs two or three relays and a Redis, some with media, against time
/// limits: on 2 cores they run one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn join(node: &Node, room: &str, identity: &str) -> (SignalClient, JoinInfo) {
    SignalClient::join(
        &node.url(),
        room,
        &token(room, identity, Grants::member()),
        MediaState::default(),
    )
    .await
    .unwrap_or_else(|e| panic!("{identity} cannot join {room} on {}: {e}", node.id))
}

async fn room_node(redis: &RedisServer, room: &str) -> Option<String> {
    let mut conn = redis.conn().await;
    conn.get(format!("studyhall:room:{{{room}}}:node"))
        .await
        .unwrap()
}

async fn participants_in_redis(redis: &RedisServer, room: &str) -> HashMap<String, String> {
    let mut conn = redis.conn().await;
    let raw: HashMap<String, String> = conn
        .hgetall(format!("studyhall:room:{{{room}}}:participants"))
        .await
        .unwrap();
    raw.into_iter()
        .map(|(id, json)| {
            let v: serde_json::Value = serde_json::from_str(&json).unwrap();
            (id, v["node"].as_str().unwrap_or_default().to_string())
        })
        .collect()
}

/// Read `client` until its connection closes, as it does when its room's node dies (the
/// other node tells it to rejoin); within 15 s.
async fn closed_by_its_room_node(client: &mut SignalClient) {
    loop {
        match tokio::time::timeout(Duration::from_secs(15), client.recv()).await {
            Ok(Err(SignalError::Closed { .. })) => return,
            Ok(Ok(_)) => continue,
            Ok(Err(e)) => panic!("unexpected end: {e}"),
            Err(_) => panic!("not told to rejoin"),
        }
    }
}

/// Wait until `check` holds, polling every 50 ms.
async fn eventually<F, Fut>(within: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn send_chat(client: &mut SignalClient, id: &str, text: &str) {
    client
        .send(ClientMessage::ChatSend {
            client_msg_id: id.into(),
            text: text.into(),
        })
        .await
        .unwrap();
}

/// Collect chat messages and acks until `total` messages and `own` acks arrived; the
/// acks map client_msg_id → seq.
async fn collect_chat(
    client: &mut SignalClient,
    total: usize,
    own: usize,
) -> (Vec<u64>, HashMap<String, u64>) {
    let mut seqs = Vec::new();
    let mut acks = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(15);
    while seqs.len() < total || acks.len() < own {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, client.recv()).await {
            Ok(Ok(ServerMessage::ChatMessage { message })) => seqs.push(message.seq),
            Ok(Ok(ServerMessage::ChatAck {
                client_msg_id, seq, ..
            })) => {
                acks.insert(client_msg_id, seq);
            }
            Ok(Ok(ServerMessage::Error { code, message, .. })) => {
                panic!("chat refused: {code} {message}")
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => panic!("connection ended: {e}"),
            Err(_) => panic!("got {} of {total} chat messages: {seqs:?}", seqs.len()),
        }
    }
    (seqs, acks)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raised_hands_cross_nodes_and_a_host_on_another_node_lowers_them() {
    let _serial = SERIAL.lock().await;
    init_logging();
    let redis = RedisServer::start();
    let a = Node::start("node-a", &redis).await;
    let b = Node::start("node-b", &redis).await;
    let (mut ada, _) = SignalClient::join(
        &a.url(),
        "hands",
        &token("hands", "ada", Grants::host()),
        MediaState::default(),
    )
    .await
    .unwrap();
    let (mut bob, _) = join(&b, "hands", "bob").await;
    let queue_of = |m: &ServerMessage| match m {
        ServerMessage::Feature(FeatureEvent::Hands(HandEvent::HandQueue { hands, .. })) => {
            Some(hands.iter().map(|h| h.identity.clone()).collect::<Vec<_>>())
        }
        _ => None,
    };
    bob.send(HandRequest::RaiseHand.into()).await.unwrap();
    expect(&mut ada, "bob's hand, from the other node", |m| {
        queue_of(m) == Some(vec!["bob".to_string()])
    })
    .await;
    // A late joiner on the other node gets the queue in `joined`.
    let (_cat, info) = join(&b, "hands", "cat").await;
    assert_eq!(info.features.hands.len(), 1);
    assert_eq!(info.features.hands[0].identity, "bob");
    ada.send_frame(&ClientFrame::with_request_id(
        HandRequest::LowerHandOf {
            identity: "bob".into(),
        }
        .into(),
        "low",
    ))
    .await
    .unwrap();
    expect(
        &mut ada,
        "the ack",
        |m| matches!(m, ServerMessage::Ack { request_id } if request_id == "low"),
    )
    .await;
    expect(
        &mut bob,
        "his hand lowered by the host on the other node",
        |m| queue_of(m) == Some(vec![]),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_on_two_nodes_share_one_room_chat_presence_and_history() {
    let _serial = SERIAL.lock().await;
    init_logging();
    let redis = RedisServer::start();
    let a = Node::start("node-a", &redis).await;
    let b = Node::start("node-b", &redis).await;

    let (mut ada, _) = join(&a, "algebra", "ada").await;
    let (mut bob, bob_info) = join(&b, "algebra", "bob").await;
    assert!(
        bob_info.participants.iter().any(|p| p.identity == "ada"),
        "bob, on the other node, sees ada: {:?}",
        bob_info.participants
    );
    expect(&mut ada, "bob's arrival", |m| {
        matches!(m, ServerMessage::ParticipantJoined { participant } if participant.identity == "bob")
    })
    .await;
    assert!(
        room_node(&redis, "algebra").await.is_some(),
        "room is placed"
    );
    eventually(
        Duration::from_secs(3),
        "both mirrored with their nodes",
        || async {
            let nodes = participants_in_redis(&redis, "algebra").await;
            nodes.get("ada").map(String::as_str) == Some("node-a")
                && nodes.get("bob").map(String::as_str) == Some("node-b")
        },
    )
    .await;

    // Presence crosses nodes both ways.
    bob.send(
        PresenceRequest::SetPresence {
            presence: Presence::Away,
        }
        .into(),
    )
    .await
    .unwrap();
    expect(&mut ada, "bob away", |m| {
        matches!(m, ServerMessage::ParticipantUpdated { participant } if participant.identity == "bob" && participant.presence == Presence::Away)
    })
    .await;

    // Interleaved chat from both nodes (within the chat burst): everyone sees every
    // message once, in order.
    for i in 0..8 {
        send_chat(&mut ada, &format!("a{i}"), &format!("from ada {i}")).await;
        send_chat(&mut bob, &format!("b{i}"), &format!("from bob {i}")).await;
    }
    let ((ada_seqs, _), (bob_seqs, bob_acks)) =
        tokio::join!(collect_chat(&mut ada, 16, 8), collect_chat(&mut bob, 16, 8));
    let all: Vec<u64> = (1..=16).collect();
    assert_eq!(ada_seqs, all, "ada sees every message once, in order");
    assert_eq!(bob_seqs, all, "bob sees every message once, in order");

    // A retry after an ack is not a second message.
    send_chat(&mut bob, "b3", "from bob 3").await;
    let dup = expect(
        &mut bob,
        "duplicate ack",
        |m| matches!(m, ServerMessage::ChatAck { client_msg_id, .. } if client_msg_id == "b3"),
    )
    .await;
    match dup {
        ServerMessage::ChatAck { duplicate, seq, .. } => {
            assert!(duplicate);
            assert_eq!(Some(&seq), bob_acks.get("b3"));
        }
        _ => unreachable!(),
    }

    // History pages walk back through the Redis stream from the relayed socket.
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let frame = ClientFrame {
            request_id: Some(format!("h{}", seen.len())),
            message: ClientMessage::ChatHistory {
                before_seq: before,
                limit: Some(8),
            },
        };
        bob.send_frame(&frame).await.unwrap();
        let page = expect(&mut bob, "history page", |m| {
            matches!(m, ServerMessage::ChatPage { request_id, .. } if *request_id == frame.request_id)
        })
        .await;
        let ServerMessage::ChatPage { page, .. } = page else {
            unreachable!()
        };
        let mut seqs: Vec<u64> = page.messages.iter().map(|m| m.seq).collect();
        seqs.extend(seen);
        seen = seqs;
        if !page.has_more {
            break;
        }
        before = page.messages.first().map(|m| m.seq);
    }
    assert_eq!(seen, all, "history pages hold every message, no gaps");
    expect_none(
        &mut ada,
        Duration::from_millis(300),
        "a repeated message",
        |m| matches!(m, ServerMessage::ChatMessage { .. }),
    )
    .await;

    // Leaving crosses nodes too, and the last one out removes the room's live state.
    bob.leave().await.unwrap();
    expect(
        &mut ada,
        "bob left",
        |m| matches!(m, ServerMessage::ParticipantLeft { identity, .. } if identity == "bob"),
    )
    .await;
    ada.leave().await.unwrap();
    eventually(Duration::from_secs(3), "room state removed", || async {
        room_node(&redis, "algebra").await.is_none()
            && participants_in_redis(&redis, "algebra").await.is_empty()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn placement_picks_the_least_loaded_node_and_never_splits_a_room() {
    let _serial = SERIAL.lock().await;
    init_logging();
    let redis = RedisServer::start();
    let a = Node::start("node-a", &redis).await;
    let mut busy = Vec::new();
    for who in ["u1", "u2", "u3"] {
        busy.push(join(&a, "busy", who).await.0);
    }
    assert_eq!(room_node(&redis, "busy").await.as_deref(), Some("node-a"));
    let b = Node::start("node-b", &redis).await;
    // node-a's next heartbeat reports its 3 participants.
    eventually(Duration::from_secs(5), "node-a's load", || async {
        let mut conn = redis.conn().await;
        let p: Option<u64> = conn
            .hget("studyhall:node:node-a", "participants")
            .await
            .unwrap();
        p == Some(3)
    })
    .await;

    // A new room joined through the busy node goes to the idle one.
    let (_x, _) = join(&a, "fresh", "x").await;
    assert_eq!(room_node(&redis, "fresh").await.as_deref(), Some("node-b"));
    let (m, body) = http_get(b.addr, "/metrics");
    assert_eq!(m, 200);
    assert!(
        body.contains("studyhall_relayed_in_connections{node=\"node-b\"} 1"),
        "{body}"
    );

    // A burst of new rooms, faster than heartbeats: they spread over the nodes, because
    // each placement counts at once on the chosen node.
    let mut burst = Vec::new();
    for i in 0..4 {
        burst.push(join(&a, &format!("burst-{i}"), "host").await.0);
    }
    let mut placed = Vec::new();
    for i in 0..4 {
        placed.push(
            room_node(&redis, &format!("burst-{i}"))
                .await
                .expect("placed"),
        );
    }
    let on_a = placed.iter().filter(|n| *n == "node-a").count();
    assert!(
        (1..=3).contains(&on_a),
        "a burst of 4 rooms went to one node: {placed:?}"
    );
    drop(burst);

    // Six people join one new room at once through both nodes: one room, one node.
    let names: Vec<String> = (0..6).map(|i| format!("r{i}")).collect();
    let joins = names.iter().enumerate().map(|(i, name)| {
        let node = if i % 2 == 0 { &a } else { &b };
        join(node, "race", name)
    });
    let racers: Vec<(SignalClient, JoinInfo)> = futures_util::future::join_all(joins).await;
    let home = room_node(&redis, "race").await.expect("placed");
    let (_late, info) = join(&b, "race", "late").await;
    assert_eq!(
        info.participants.len(),
        7,
        "everyone is in the same room: {:?}",
        info.participants
    );
    let (_later, info) = join(&a, "race", "later").await;
    assert_eq!(info.participants.len(), 8);
    assert_eq!(
        room_node(&redis, "race").await.as_deref(),
        Some(home.as_str())
    );
    eventually(Duration::from_secs(3), "all 8 mirrored", || async {
        participants_in_redis(&redis, "race").await.len() == 8
    })
    .await;
    drop(racers);
    drop(busy);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_flows_between_users_on_different_nodes() {
    let _serial = SERIAL.lock().await;
    init_logging();
    let redis = RedisServer::start();
    let a = Node::start("node-a", &redis).await;
    let options = MediaOptions {
        microphone: false,
        ..Default::default()
    };
    let ada = MediaClient::connect(
        &a.url(),
        "lab",
        &token("lab", "ada", Grants::member()),
        options.clone(),
        Default::default(),
    )
    .await
    .expect("ada joins on node-a");
    // Started after the room is placed on node-a, so bob's signaling is relayed.
    let b = Node::start("node-b", &redis).await;
    let bob = MediaClient::connect(
        &b.url(),
        "lab",
        &token("lab", "bob", Grants::member()),
        options,
        Default::default(),
    )
    .await
    .expect("bob joins on node-b");
    assert_eq!(room_node(&redis, "lab").await.as_deref(), Some("node-a"));
    let frames = |s: &ClientStats, from: &str| {
        s.track(from, TrackSource::Camera)
            .map_or(0, |t| t.frames_verified)
    };
    eventually(Duration::from_secs(20), "video both ways", || async {
        frames(&bob.stats(), "ada") >= 30 && frames(&ada.stats(), "bob") >= 30
    })
    .await;
    let received = bob.stats();
    let track = received.track("ada", TrackSource::Camera).unwrap();
    assert_eq!(track.wrong_identity, 0);
    assert_eq!(track.out_of_order, 0);
    bob.leave().await.unwrap();
    ada.leave().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_nodes_room_moves_on_rejoin_with_history() {
    let _serial = SERIAL.lock().await;
    init_logging();
    let redis = RedisServer::start();
    let mut a = Node::start("node-a", &redis).await;
    let (_carol, _) = join(&a, "physics", "carol").await;
    let b = Node::start("node-b", &redis).await;
    let (mut ada, _) = join(&b, "physics", "ada").await;
    assert_eq!(
        room_node(&redis, "physics").await.as_deref(),
        Some("node-a")
    );
    for i in 0..3 {
        send_chat(&mut ada, &format!("m{i}"), &format!("before the crash {i}")).await;
        expect(&mut ada, "ack", |m| {
            matches!(m, ServerMessage::ChatAck { .. })
        })
        .await;
    }

    a.kill();
    // node-b notices node-a is gone (its registry entry expires) and asks ada to rejoin,
    // saying why first.
    let started = Instant::now();
    let mut told = false;
    let code = loop {
        match tokio::time::timeout(Duration::from_secs(15), ada.recv()).await {
            Ok(Err(SignalError::Closed { code, .. })) => break code,
            Ok(Ok(ServerMessage::Error {
                code: ErrorCode::Rejoin,
                fatal: true,
                ..
            })) => told = true,
            Ok(Ok(_)) => continue,
            Ok(Err(e)) => panic!("unexpected end: {e}"),
            Err(_) => panic!("ada was not told to rejoin"),
        }
    };
    assert_eq!(code, CloseCode::REJOIN);
    assert!(told, "a `rejoin` error came before the close");
    assert!(
        started.elapsed() < Duration::from_secs(12),
        "{:?}",
        started.elapsed()
    );

    let (_ada, info) = join(&b, "physics", "ada").await;
    assert_eq!(
        room_node(&redis, "physics").await.as_deref(),
        Some("node-b")
    );
    let ids: Vec<&str> = info
        .participants
        .iter()
        .map(|p| p.identity.as_str())
        .collect();
    assert_eq!(ids, ["ada"], "carol's presence on the dead node is gone");
    let texts: Vec<&str> = info.chat.messages.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "before the crash 0",
            "before the crash 1",
            "before the crash 2"
        ]
    );
    eventually(Duration::from_secs(3), "fresh room state", || async {
        let p = participants_in_redis(&redis, "physics").await;
        p.len() == 1 && p.get("ada").map(String::as_str) == Some("node-b")
    })
    .await;
}

#[tokio::test]
async fn the_focus_timer_crosses_nodes_and_outlives_the_node_that_held_it() {
    let _serial = SERIAL.lock().await;
    init_logging();
    let redis = RedisServer::start();
    let mut a = Node::start("node-a", &redis).await;
    let room = "pomodoro";
    let (mut host, _) = SignalClient::join(
        &a.url(),
        room,
        &token(room, "host", Grants::host()),
        MediaState::default(),
    )
    .await
    .unwrap();
    let b = Node::start("node-b", &redis).await;
    let (mut ada, _) = join(&b, room, "ada").await;
    assert_eq!(room_node(&redis, room).await.as_deref(), Some("node-a"));

    let settings = TimerSettings {
        focus_secs: 50 * 60,
        short_break_secs: 300,
        long_break_secs: 900,
        rounds: 4,
    };
    host.send(
        TimerRequest::TimerStart {
            settings: Some(settings),
        }
        .into(),
    )
    .await
    .unwrap();
    let timer_of = |m: ServerMessage| match m {
        ServerMessage::Feature(FeatureEvent::Timer(TimerEvent::Timer { timer, .. })) => timer,
        other => panic!("{other:?}"),
    };
    let is_timer = |m: &ServerMessage| matches!(m, ServerMessage::Feature(FeatureEvent::Timer(_)));
    let at_host = timer_of(expect(&mut host, "started, on node-a", is_timer).await);
    let at_ada = timer_of(expect(&mut ada, "started, across nodes", is_timer).await);
    let ends_at = at_host.run.and_then(|r| r.ends_at);
    assert!(ends_at.is_some());
    assert_eq!(
        at_ada.run.and_then(|r| r.ends_at),
        ends_at,
        "one clock for both"
    );

    // The node holding the room dies; ada rejoins and the room moves to node-b, which
    // loads the timer from Redis.
    a.kill();
    drop(host);
    closed_by_its_room_node(&mut ada).await;
    let (_ada, info) = join(&b, room, "ada").await;
    assert_eq!(room_node(&redis, room).await.as_deref(), Some("node-b"));
    let run = info
        .features
        .timer
        .run
        .expect("the timer outlived its node");
    assert_eq!(run.ends_at, ends_at);
    assert_eq!(info.features.timer.settings, settings);
    let mut conn = redis.conn().await;
    let ttl: i64 = redis::cmd("PTTL")
        .arg(format!("studyhall:state:{{{room}}}:timer"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(ttl > 0, "the timer's key expires ({ttl})");
}

/// The whiteboard across nodes: strokes drawn on one node reach the other, and when the
/// node holding the room dies the room's next node loads the board from Redis.
#[tokio::test]
async fn the_whiteboard_crosses_nodes_and_outlives_the_node_that_held_it() {
    use studyhall_client::features::board::wave;
    use studyhall_protocol::board::FIRST_PAGE;
    use studyhall_protocol::BoardRequest;
    use studyhall_tests::board::BoardView;
    let _serial = SERIAL.lock().await;
    init_logging();
    let redis = RedisServer::start();
    let mut a = Node::start("node-a", &redis).await;
    let room = "blackboard";
    let (client, info) = SignalClient::join(
        &a.url(),
        room,
        &token(room, "host", Grants::host()),
        MediaState::default(),
    )
    .await
    .unwrap();
    let mut host = BoardView::new(client, &info.features.board);
    let b = Node::start("node-b", &redis).await;
    let (client, info) = join(&b, room, "ada").await;
    let mut ada = BoardView::new(client, &info.features.board);
    host.sync().await;
    ada.sync().await;
    for i in 0..6 {
        host.send(BoardRequest::BoardAdd {
            page: FIRST_PAGE.into(),
            object: wave(&format!("s{i}"), i),
        })
        .await
        .unwrap();
    }
    let drawn = ada.settle(6).await.clone();
    assert_eq!(
        Some(&drawn),
        host.board.board.as_ref(),
        "one board on both nodes"
    );

    a.kill();
    drop(host);
    closed_by_its_room_node(&mut ada.client).await;
    let (client, info) = join(&b, room, "ada").await;
    assert_eq!(room_node(&redis, room).await.as_deref(), Some("node-b"));
    assert_eq!(info.features.board.seq, 6, "the board outlived its node");
    let mut fresh = BoardView::new(client, &info.features.board);
    assert_eq!(fresh.sync().await, &drawn);
    let mut conn = redis.conn().await;
    for key in ["snapshot", "ops"] {
        let ttl: i64 = redis::cmd("PTTL")
            .arg(format!("studyhall:board:{{{room}}}:{key}"))
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!(ttl > 0, "the board's {key} key expires ({ttl})");
    }
}

/// The command-line client does what the protocol tells clients: closed with 4013 when
/// its room's node dies, it joins again (and lands on a live node) instead of exiting.
#[tokio::test]
async fn the_command_line_client_rejoins_when_its_room_moves() {
    use std::io::BufRead;
    let _serial = SERIAL.lock().await;
    init_logging();
    let redis = RedisServer::start();
    let mut a = Node::start("node-a", &redis).await;
    let (_carol, _) = join(&a, "moving", "carol").await;
    let b = Node::start("node-b", &redis).await;
    let exe = std::env::current_exe().unwrap();
    let cli = exe
        .parent()
        .and_then(|d| d.parent())
        .map(|d| d.join("studyhall-client"))
        .filter(|p| p.is_file())
        .expect("studyhall-client is built (cargo build --bins)");
    let mut child = std::process::Command::new(cli)
        .args(["join", "--url", &b.url(), "--token"])
        .arg(token("moving", "dan", Grants::member()))
        .args(["--video", "none", "--audio", "none", "--duration", "60s"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let output = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let lines = std::io::BufReader::new(child.stdout.take().unwrap());
    let sink = output.clone();
    std::thread::spawn(move || {
        for line in lines.lines().map_while(Result::ok) {
            let mut out = sink.lock().unwrap();
            out.push_str(&line);
            out.push('\n');
        }
    });
    let seen = |what: &str| output.lock().unwrap().contains(what);
    eventually(Duration::from_secs(20), "the client joined", || async {
        seen("joined moving")
    })
    .await;
    a.kill();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !seen("rejoined moving") {
        assert!(
            Instant::now() < deadline,
            "the client did not rejoin:\n{}",
            output.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(room_node(&redis, "moving").await.as_deref(), Some("node-b"));
    assert!(
        child.try_wait().unwrap().is_none(),
        "still running:\n{}",
        output.lock().unwrap()
    );
    let _ = child.kill();
    let _ = child.wait();
}

/// What became of a chat message.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Acked(u64),
    Refused(ErrorCode),
    /// The connection closed before an answer.
    Closed,
}

/// Send a chat message and wait for its outcome.
async fn chat_outcome(client: &mut SignalClient, id: &str, text: &str) -> Outcome {
    let frame = ClientFrame {
        request_id: Some(format!("req-{id}")),
        message: ClientMessage::ChatSend {
            client_msg_id: id.into(),
            text: text.into(),
        },
    };
    if client.send_frame(&frame).await.is_err() {
        return Outcome::Closed;
    }
    loop {
        match tokio::time::timeout(Duration::from_secs(10), client.recv()).await {
            Ok(Ok(ServerMessage::ChatAck {
                client_msg_id, seq, ..
            })) if client_msg_id == id => return Outcome::Acked(seq),
            Ok(Ok(ServerMessage::Error {
                code, request_id, ..
            })) if request_id == frame.request_id => return Outcome::Refused(code),
            Ok(Ok(_)) => {}
            Ok(Err(_)) => return Outcome::Closed,
            Err(_) => panic!("no answer to chat {id} within 10 s (sends must fail fast)"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restart_keeps_media_fails_fast_then_recovers_every_acked_message() {
    let _serial = SERIAL.lock().await;
    init_logging();
    let mut redis = RedisServer::start();
    let a = Node::start("node-a", &redis).await;
    let publisher = MediaClient::connect(
        &a.url(),
        "outage",
        &token("outage", "ada", Grants::member()),
        MediaOptions {
            microphone: false,
            ..Default::default()
        },
        Default::default(),
    )
    .await
    .expect("ada joins");
    let b = Node::start("node-b", &redis).await;
    let viewer = MediaClient::connect(
        &b.url(),
        "outage",
        &token("outage", "bob", Grants::member()),
        MediaOptions {
            camera: false,
            microphone: false,
            ..Default::default()
        },
        Default::default(),
    )
    .await
    .expect("bob joins through node-b");
    let (mut cyd, _) = join(&a, "outage", "cyd").await; // on the room's node
    let (mut dan, _) = join(&b, "outage", "dan").await; // relayed
    let frames = |c: &MediaClient| {
        c.stats()
            .track("ada", TrackSource::Camera)
            .map_or(0, |t| t.frames_verified)
    };
    eventually(
        Duration::from_secs(20),
        "video before the outage",
        || async { frames(&viewer) >= 20 },
    )
    .await;
    let mut acked = Vec::new();
    for (client, id) in [(&mut cyd, "c1"), (&mut dan, "d1")] {
        match chat_outcome(client, id, "before").await {
            Outcome::Acked(seq) => acked.push(seq),
            other => panic!("{id} before the outage: {other:?}"),
        }
    }

    redis.stop();
    let during = frames(&viewer);
    // Sends fail fast with a clear error, on the room's node and through the relay.
    let t = Instant::now();
    assert_eq!(
        chat_outcome(&mut cyd, "c2", "during").await,
        Outcome::Refused(ErrorCode::StorageUnavailable)
    );
    assert_eq!(
        chat_outcome(&mut dan, "d2", "during").await,
        Outcome::Refused(ErrorCode::Unavailable)
    );
    assert!(t.elapsed() < Duration::from_secs(6), "{:?}", t.elapsed());
    // New joins fail fast too.
    let t = Instant::now();
    let refused = SignalClient::join(
        &b.url(),
        "outage",
        &token("outage", "eve", Grants::member()),
        MediaState::default(),
    )
    .await;
    match refused {
        Err(SignalError::Refused { code, .. }) => assert_eq!(code, ErrorCode::Unavailable),
        other => panic!(
            "a join during the outage must be refused: {:?}",
            other.map(|(_, i)| i.room)
        ),
    }
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    // The refusal answers the join's request_id.
    let mut raw = SignalClient::connect(&b.url()).await.unwrap();
    raw.send_frame(&ClientFrame::with_request_id(
        ClientMessage::Join {
            room: "outage".into(),
            token: token("outage", "fay", Grants::member()),
            protocol: studyhall_protocol::PROTOCOL_VERSION,
            media: MediaState::default(),
        },
        "j1",
    ))
    .await
    .unwrap();
    match raw.recv().await {
        Ok(ServerMessage::Error {
            code: ErrorCode::Unavailable,
            request_id: Some(r),
            ..
        }) => assert_eq!(r, "j1"),
        other => panic!("{other:?}"),
    }
    // Media keeps flowing: it never touches Redis.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        frames(&viewer) >= during + 15,
        "video kept flowing during the outage ({during} → {})",
        frames(&viewer)
    );

    redis.restart();
    // Retries with the same ids succeed once the nodes reconnect; a relayed socket may be
    // asked to rejoin (close 4013) if it missed bus messages.
    let deadline = Instant::now() + Duration::from_secs(20);
    let seq = loop {
        match chat_outcome(&mut cyd, "c2", "during").await {
            Outcome::Acked(seq) => break seq,
            Outcome::Refused(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(250)).await
            }
            other => panic!("cyd's retry never succeeded: {other:?}"),
        }
    };
    acked.push(seq);
    let seq = loop {
        match chat_outcome(&mut dan, "d2", "during, relayed").await {
            Outcome::Acked(seq) => break seq,
            _ if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(250)).await;
                if let Ok((fresh, _)) = SignalClient::join(
                    &b.url(),
                    "outage",
                    &token("outage", "dan", Grants::member()),
                    MediaState::default(),
                )
                .await
                {
                    dan = fresh;
                }
            }
            other => panic!("dan's retry never succeeded: {other:?}"),
        }
    };
    acked.push(seq);
    let (_check, info) = join(&b, "outage", "fay").await;
    let stored: Vec<u64> = info.chat.messages.iter().map(|m| m.seq).collect();
    for seq in &acked {
        assert!(
            stored.contains(seq),
            "acknowledged message {seq} survived: {stored:?}"
        );
    }
    assert_eq!(
        stored,
        (1..=stored.len() as u64).collect::<Vec<_>>(),
        "no gaps"
    );
    publisher.leave().await.unwrap();
    let _ = viewer.leave().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_live_key_has_a_ttl() {
    let _serial = SERIAL.lock().await;
    init_logging();
    let redis = RedisServer::start();
    let a = Node::start("node-a", &redis).await;
    let b = Node::start("node-b", &redis).await;
    let (mut ada, _) = join(&a, "ttl", "ada").await;
    let (_bob, _) = join(&b, "ttl", "bob").await;
    send_chat(&mut ada, "1", "hello").await;
    expect(&mut ada, "ack", |m| {
        matches!(m, ServerMessage::ChatAck { .. })
    })
    .await;
    // An invite made on one node redeems on the other.
    let created = studyhall_client::invite::create(
        &a.addr.to_string(),
        &token("ttl", "host", Grants::host()),
        None,
    )
    .await
    .expect("invite");
    let target = studyhall_client::invite::InviteTarget {
        relay: b.addr.to_string(),
        code: created.code.clone(),
    };
    let redeemed = studyhall_client::invite::redeem(&target, "Guest")
        .await
        .expect("redeem on node-b");
    assert_eq!(redeemed.room, "ttl");

    eventually(
        Duration::from_secs(3),
        "both participants mirrored",
        || async { participants_in_redis(&redis, "ttl").await.len() == 2 },
    )
    .await;
    let mut conn = redis.conn().await;
    let keys: Vec<String> = conn.keys("studyhall:*").await.unwrap();
    let mut live = 0;
    for key in &keys {
        if key.starts_with("studyhall:chat:") {
            continue; // chat history is meant to last
        }
        let ttl: i64 = conn.ttl(key).await.unwrap();
        if ttl == -2 {
            continue; // expired between KEYS and TTL
        }
        assert!(ttl > 0, "live key {key} has no TTL ({ttl})");
        live += 1;
    }
    assert!(live >= 7, "room, node and invite keys: {keys:?}");
    let info: HashMap<String, String> = conn.hgetall("studyhall:room:{ttl}:info").await.unwrap();
    assert!(
        matches!(
            info.get("node").map(String::as_str),
            Some("node-a" | "node-b")
        ),
        "{info:?}"
    );
    assert!(info
        .get("created_ms")
        .is_some_and(|v| v.parse::<u64>().unwrap() > 0));
    let ttl: i64 = conn.ttl("studyhall:node:node-a").await.unwrap();
    assert!(
        (1..=5).contains(&ttl),
        "a node's entry expires within 5 s of its last heartbeat ({ttl})"
    );

    // /metrics shows the node's load and Redis health.
    eventually(
        Duration::from_secs(5),
        "node-a's cluster metrics",
        || async {
            let (status, body) = http_get(a.addr, "/metrics");
            status == 200
                && body.contains("studyhall_redis_up{node=\"node-a\"} 1")
                && body.contains("studyhall_cluster_nodes{node=\"node-a\"} 2")
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_are_used_and_required_off_this_machine() {
    let _serial = SERIAL.lock().await;
    init_logging();
    let redis = RedisServer::with_password("correct-horse-battery");
    // The right password: the node registers.
    let _ok = Node::start("node-a", &redis).await;

    // A wrong one: the node refuses to start, and says why.
    let wrong = redis.url().replace("correct-horse-battery", "wrong");
    let mut bad = Node::spawn("node-b", &wrong, &[]);
    let (status, log) = bad.wait_exit(Duration::from_secs(10)).await.expect("exits");
    assert!(!status.success());
    assert!(log.contains("Redis") && !log.contains("wrong@"), "{log}");

    // A Redis on another machine without credentials is refused before connecting.
    let mut open = Node::spawn("node-c", "redis://10.255.0.1:6379/", &[]);
    let (status, log) = open
        .wait_exit(Duration::from_secs(10))
        .await
        .expect("exits");
    assert!(!status.success());
    assert!(log.contains("without credentials"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edge_that_missed_bus_messages_fills_chat_from_the_stream() {
    let _serial = SERIAL.lock().await;
    init_logging();
    let redis = RedisServer::start();
    let a = Node::start("node-a", &redis).await;
    let (mut ada, _) = join(&a, "gaps", "ada").await;
    let b = Node::start("node-b", &redis).await;
    let (mut bob, _) = join(&b, "gaps", "bob").await; // relayed to node-a
    assert_eq!(room_node(&redis, "gaps").await.as_deref(), Some("node-a"));
    send_chat(&mut ada, "0", "before").await;
    collect_chat(&mut ada, 1, 1).await;
    let (seqs, _) = collect_chat(&mut bob, 1, 0).await;
    assert_eq!(seqs, [1]);

    // Cut every bus subscription: node-b misses what node-a publishes until it is back.
    let mut conn = redis.conn().await;
    let killed: i64 = redis::cmd("CLIENT")
        .arg(&["KILL", "TYPE", "pubsub"])
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(killed >= 2, "both nodes' subscriptions cut ({killed})");
    for i in 1..=6 {
        send_chat(&mut ada, &format!("m{i}"), &format!("while cut {i}")).await;
    }
    let (ada_seqs, _) = collect_chat(&mut ada, 6, 6).await;
    assert_eq!(ada_seqs, (2..=7).collect::<Vec<_>>());
    // bob gets all of them, once each and in order, from the bus or from the stream.
    let (seqs, _) = collect_chat(&mut bob, 6, 0).await;
    assert_eq!(seqs, (2..=7).collect::<Vec<_>>());
    expect_none(
        &mut bob,
        Duration::from_millis(500),
        "a repeated message",
        |m| matches!(m, ServerMessage::ChatMessage { .. }),
    )
    .await;
    let log = b.log();
    assert!(log.contains("bus subscription lost"), "{log}");
    assert!(log.contains("filled a chat gap from the stream"), "{log}");
    // The room goes on over the restored bus.
    send_chat(&mut ada, "after", "after").await;
    let (seqs, _) = collect_chat(&mut bob, 1, 0).await;
    assert_eq!(seqs, [8]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_reach_redis_over_tls() {
    let _serial = SERIAL.lock().await;
    init_logging();
    let redis = RedisServer::with_tls("tls-and-a-password");
    assert!(redis.url().starts_with("rediss://"));
    let a = Node::start("node-a", &redis).await;
    let b = Node::start("node-b", &redis).await;
    let (mut ada, _) = join(&a, "secure", "ada").await;
    let (mut bob, _) = join(&b, "secure", "bob").await;
    send_chat(&mut bob, "1", "over TLS").await;
    let (seqs, _) = collect_chat(&mut ada, 1, 0).await;
    assert_eq!(seqs, [1]);

    // A node that does not trust the server's certificate refuses to start.
    let mut untrusting = Node::spawn("node-c", &redis.url(), &[]);
    let (status, log) = untrusting
        .wait_exit(Duration::from_secs(10))
        .await
        .expect("exits");
    assert!(!status.success(), "{log}");
    assert!(log.contains("Redis"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_shuts_down_hands_its_rooms_over_at_once() {
    let _serial = SERIAL.lock().await;
    init_logging();
    let redis = RedisServer::start();
    let mut a = Node::start("node-a", &redis).await;
    let b = Node::start("node-b", &redis).await;
    // The room lives on node-a while everyone in it is connected through node-b.
    let mut conn = redis.conn().await;
    let _: () = conn
        .set_ex("studyhall:room:{history}:node", "node-a", 3600)
        .await
        .unwrap();
    let (mut ada, _) = join(&b, "history", "ada").await;
    let (mut bob, _) = join(&b, "history", "bob").await;
    let (status, body) = http_get(a.addr, "/metrics");
    assert_eq!(status, 200);
    assert!(
        body.contains("studyhall_relayed_in_connections{node=\"node-a\"} 2"),
        "{body}"
    );

    a.terminate();
    for client in [&mut ada, &mut bob] {
        let (code, seen) = studyhall_tests::expect_close(client).await;
        assert_eq!(code, CloseCode::REJOIN, "{seen:?}");
        assert!(
            seen.iter()
                .any(|m| matches!(m, ServerMessage::Shutdown { .. })),
            "{seen:?}"
        );
    }
    let (status, _) = a
        .wait_exit(Duration::from_secs(10))
        .await
        .expect("node-a exits");
    assert!(status.success());
    // node-a left the registry as it stopped: the rejoin is placed on node-b at once.
    let (_ada, info) = join(&b, "history", "ada").await;
    assert_eq!(
        room_node(&redis, "history").await.as_deref(),
        Some("node-b")
    );
    assert_eq!(info.participants.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_serves_joins_as_soon_as_it_listens() {
    let _serial = SERIAL.lock().await;
    init_logging();
    let redis = RedisServer::start();
    // No waiting for the registry: join the moment the port answers.
    let a = Node::spawn("node-a", &redis.url(), &[]);
    eventually(Duration::from_secs(10), "node-a listening", || async {
        tokio::net::TcpStream::connect(a.addr).await.is_ok()
    })
    .await;
    let deadline = Instant::now() + Duration::from_secs(5);
    let info = loop {
        match SignalClient::join(
            &a.url(),
            "early",
            &token("early", "ada", Grants::member()),
            MediaState::default(),
        )
        .await
        {
            Ok((_, info)) => break info,
            // Until its bus listens a node cannot take rooms; it says so clearly.
            Err(SignalError::Refused { code, message }) if Instant::now() < deadline => {
                assert_eq!(code, ErrorCode::Unavailable, "{message}");
                assert!(!message.contains("empty command"), "{message}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("join on a fresh node failed: {e}"),
        }
    };
    assert_eq!(info.room, "early");
    assert_eq!(room_node(&redis, "early").await.as_deref(), Some("node-a"));
}

/// Questions across nodes, as the lecture-room design keeps them: a presenter on one
/// node whose socket is killed while questions arrive, and whose room's node then dies,
/// rejoins on the other node with exactly the open questions, read from the presenters
/// group's pending list in Redis.
#[tokio::test]
async fn a_presenter_gets_exactly_the_open_questions_back_on_another_node() {
    use studyhall_protocol::{LectureRequest, QuestionOutcome, Role};
    use studyhall_tests::questions::{open_ids, QuestionsView};
    let _serial = SERIAL.lock().await;
    init_logging();
    let redis = RedisServer::start();
    let mut a = Node::start("node-a", &redis).await;
    let room = "lecture-hall";
    let (client, info) = SignalClient::join(
        &a.url(),
        room,
        &token(room, "host", Grants::host()),
        MediaState::default(),
    )
    .await
    .unwrap();
    let mut host = QuestionsView::new(client, &info);
    let b = Node::start("node-b", &redis).await;
    let (client, info) = join(&b, room, "pat").await;
    let pat = QuestionsView::new(client, &info);
    let (client, info) = join(&b, room, "ada").await;
    let mut ada = QuestionsView::new(client, &info);
    host.send(
        LectureRequest::SetPresenter {
            identity: "pat".into(),
            presenter: true,
        }
        .into(),
    )
    .await
    .unwrap();
    host.send(
        LectureRequest::SetRoomMode {
            mode: studyhall_protocol::RoomMode::Lecture,
        }
        .into(),
    )
    .await
    .unwrap();
    // The room's info in Redis says it is a lecture, and since when.
    let info_key = format!("studyhall:room:{{{room}}}:info");
    eventually(Duration::from_secs(10), "the mirrored lecture", || async {
        let mut conn = redis.conn().await;
        let info: HashMap<String, String> = conn.hgetall(&info_key).await.unwrap();
        info.get("mode").map(String::as_str) == Some("lecture")
            && info.get("lecture_start_ms").is_some_and(|t| !t.is_empty())
    })
    .await;

    drop(pat);
    let one = ada.ask("first", false).await;
    let two = ada.ask("second", true).await;
    let three = ada.ask("third", false).await;
    host.until("the questions", |l| l.0.len() == 3).await;
    host.close(&two.id, QuestionOutcome::Dismissed)
        .await
        .unwrap();
    ada.until("the dismissal", |l| l.open().count() == 2).await;

    // The room's node dies too: the room moves to node-b and reads Redis.
    a.kill();
    drop(host);
    closed_by_its_room_node(&mut ada.client).await;
    let (_client, info) = join(&b, room, "pat").await;
    assert_eq!(room_node(&redis, room).await.as_deref(), Some("node-b"));
    assert_eq!(
        info.you.role,
        Role::Presenter,
        "the presenter outlived the node"
    );
    let mut open = open_ids(&info.features.questions);
    open.sort();
    let mut expected = vec![one.id.clone(), three.id.clone()];
    expected.sort();
    assert_eq!(open, expected, "exactly the open questions");
    let mut conn = redis.conn().await;
    /// XPENDING's summary: count, first and last id, consumers.
    type Summary = (u64, Option<String>, Option<String>, Vec<(String, u64)>);
    let pending: Summary = redis::cmd("XPENDING")
        .arg(format!("studyhall:questions:{{{room}}}"))
        .arg("presenters")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(pending.0, 2, "{pending:?}");
    let ttl: i64 = redis::cmd("PTTL")
        .arg(format!("studyhall:questions:{{{room}}}"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(ttl > 0, "the questions expire ({ttl})");
}

/// A file uploaded to one node downloads from the other (fetched from the node holding
/// it, never through Redis); when that node is gone the other answers 503 at once.
#[tokio::test]
async fn a_shared_file_is_served_by_any_node_and_unavailable_quickly_when_its_node_dies() {
    use studyhall_client::features::materials::{Materials, MaterialsError};
    let _serial = SERIAL.lock().await;
    init_logging();
    let redis = RedisServer::start();
    let mut a = Node::start("node-a", &redis).await;
    let b = Node::start("node-b", &redis).await;
    let room = "library";
    let host_token = token(room, "host", Grants::host());
    let member_token = token(room, "ada", Grants::member());
    let scratch = tempfile::tempdir().unwrap();
    let mut bytes = b"%PDF-1.4\n% cluster\n".to_vec();
    bytes.extend((0..200_000u32).map(|i| (i % 253) as u8));
    bytes.extend_from_slice(b"\n%%EOF\n");
    let file = scratch.path().join("notes.pdf");
    std::fs::write(&file, &bytes).unwrap();
    let material = Materials::new(&a.url(), room, &host_token)
        .unwrap()
        .upload(&file, None, None)
        .await
        .unwrap();

    // Listed and downloaded through node-b; Redis never holds the bytes.
    let via_b = Materials::new(&b.url(), room, &member_token).unwrap();
    assert_eq!(via_b.list().await.unwrap().items, vec![material.clone()]);
    let to = scratch.path().join("from-b.pdf");
    via_b.download(&material, &to, None).await.unwrap();
    assert_eq!(std::fs::read(&to).unwrap(), bytes);
    let mut conn = redis.conn().await;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut conn)
        .await
        .unwrap();
    for key in &keys {
        let kind: String = redis::cmd("TYPE")
            .arg(key)
            .query_async(&mut conn)
            .await
            .unwrap();
        if kind == "string" {
            let len: usize = redis::cmd("STRLEN")
                .arg(key)
                .query_async(&mut conn)
                .await
                .unwrap();
            assert!(len < 10_000, "{key} holds {len} bytes");
        }
    }
    // A range through node-b comes from node-a's disk.
    let part = reqwest::Client::new()
        .get(b.http(&format!("/v1/rooms/{room}/materials/{}", material.id)))
        .bearer_auth(&member_token)
        .header("range", "bytes=0-7")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(&part.bytes().await.unwrap()[..], &bytes[..8]);

    // node-a dies: node-b says so at once, with no hang.
    a.kill();
    let asked = Instant::now();
    let err = via_b
        .download(&material, &scratch.path().join("late.pdf"), None)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, MaterialsError::Refused { status: 503, code, .. } if code == "unavailable"),
        "{err:?}"
    );
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "{:?}",
        asked.elapsed()
    );
}

/// Two nodes starting together, with people joining one room on each in their first
/// moments: the room is placed once (its first member is never told to rejoin with 4013)
/// and both end up in it. (The second node used to take over a room whose node had not
/// registered yet.)
#[tokio::test]
async fn nodes_starting_together_place_a_new_room_once() {
    let _serial = SERIAL.lock().await;
    init_logging();
    let redis = RedisServer::start();
    for trial in 0..4 {
        let room = format!("fresh-{trial}");
        let a = Node::spawn(&format!("a{trial}"), &redis.url(), &[]);
        let b = Node::spawn(&format!("b{trial}"), &redis.url(), &[]);
        let (mut ada, _) = join_eagerly(&a, &room, "ada").await;
        let (_bob, _) = join_eagerly(&b, &room, "bob").await;
        expect(&mut ada, "bob in the same room", |m| {
            matches!(m, ServerMessage::ParticipantJoined { participant } if participant.identity == "bob")
        })
        .await;
        expect_none(&mut ada, Duration::from_secs(2), "a close (4013)", |_| {
            false
        })
        .await;
        drop((a, b));
    }
}

/// Join as soon as `node` takes joins (it may still be starting).
async fn join_eagerly(node: &Node, room: &str, who: &str) -> (SignalClient, JoinInfo) {
    let token = token(room, who, Grants::member());
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        match SignalClient::join(&node.url(), room, &token, MediaState::default()).await {
            Ok(joined) => return joined,
            Err(e) => {
                assert!(Instant::now() < deadline, "{who} never joined: {e}");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    }
}

/// After Redis restarts (a quick restart, data kept), a relayed socket that sat idle
/// stays: the edge fills any chat gap once the store answers again instead of sending
/// it away with 4013, and chat reaches it as before.
#[tokio::test]
async fn a_relayed_socket_outlives_a_quick_redis_restart() {
    let _serial = SERIAL.lock().await;
    init_logging();
    let mut redis = RedisServer::start();
    let a = Node::start("node-a", &redis).await;
    let b = Node::start("node-b", &redis).await;
    let room = "restart";
    let (mut ada, _) = join(&a, room, "ada").await;
    let (mut bob, _) = join(&b, room, "bob").await;
    ada.send(ClientMessage::ChatSend {
        client_msg_id: "before".into(),
        text: "before".into(),
    })
    .await
    .unwrap();
    expect(
        &mut bob,
        "the chat before",
        |m| matches!(m, ServerMessage::ChatMessage { message } if message.text == "before"),
    )
    .await;
    redis.restart();
    // Bob is idle; nothing sends him away.
    expect_none(&mut bob, Duration::from_secs(4), "a close", |_| false).await;
    // Chat goes on once the nodes are back on Redis.
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut n = 0;
    loop {
        n += 1;
        ada.send_frame(&ClientFrame::with_request_id(
            ClientMessage::ChatSend {
                client_msg_id: format!("after-{n}"),
                text: "after".into(),
            },
            "c",
        ))
        .await
        .unwrap();
        let id = format!("after-{n}");
        // Ada is the one talking while the nodes get back on Redis: when she is relayed,
        // an answer lost on the bus closes her socket with 4013 and, as the protocol
        // tells clients, she joins again (the test is about idle Bob).
        let answer = loop {
            match tokio::time::timeout(WAIT, ada.recv()).await {
                Ok(Ok(m @ ServerMessage::ChatAck { .. })) if matches!(&m, ServerMessage::ChatAck { client_msg_id, .. } if client_msg_id == &id) => {
                    break Some(m)
                }
                Ok(Ok(m @ ServerMessage::Error { .. })) if matches!(&m, ServerMessage::Error { request_id, .. } if request_id.as_deref() == Some("c")) => {
                    break Some(m)
                }
                Ok(Ok(_)) => {}
                Ok(Err(_)) => {
                    (ada, _) = join(&a, room, "ada").await;
                    break None;
                }
                Err(_) => panic!("no answer to ada's chat; node-a:\n{}", a.log()),
            }
        };
        if matches!(answer, Some(ServerMessage::ChatAck { .. })) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "chat never came back: {answer:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // Relayed: straight from the bus, or from the store once the edge has its bus back.
    let until = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        match tokio::time::timeout_at(until, bob.recv()).await {
            Ok(Ok(ServerMessage::ChatMessage { message })) if message.text == "after" => break,
            Ok(Ok(_)) => {}
            Ok(Err(e)) => panic!("bob's socket ended: {e}\nnode-b:\n{}", b.log()),
            Err(_) => panic!("the chat after never reached bob; node-b:\n{}", b.log()),
        }
    }
}
