//! The whiteboard over real WebSockets: people drawing together, a late joiner and a
//! reconnect getting the board as it stands, limits that name themselves, a flood that
//! costs only its sender, and a board that survives a restart of the embedded relay.

use std::time::Duration;

use studyhall_client::features::board::wave;
use studyhall_protocol::board::{FIRST_PAGE, MAX_POINTS, MAX_TEXT_BYTES};
use studyhall_protocol::{
    BoardAccess, BoardEvent, BoardObject, BoardRequest, ErrorCode, FeatureEvent, ServerMessage,
    Shape, Style,
};
use studyhall_tests::board::BoardView;
use studyhall_tests::TestRelay;

fn add(object: BoardObject) -> BoardRequest {
    BoardRequest::BoardAdd {
        page: FIRST_PAGE.into(),
        object,
    }
}

async fn view(relay: &TestRelay, room: &str, who: &str, host: bool) -> BoardView {
    let (client, info) = if host {
        relay.join_host(room, who).await
    } else {
        relay.join(room, who).await
    };
    BoardView::new(client, &info.features.board)
}

#[tokio::test]
async fn two_people_draw_and_a_late_joiner_gets_the_board_as_it_stands() {
    let relay = TestRelay::start().await;
    let mut host = view(&relay, "lecture", "host", true).await;
    let mut ada = view(&relay, "lecture", "ada", false).await;
    host.sync().await;
    ada.sync().await;

    // Ada may not draw until the host lets her.
    let refused = ada.send(add(wave("a0", 0))).await.unwrap_err();
    assert_eq!(refused.0, ErrorCode::Forbidden, "{refused:?}");
    host.send(BoardRequest::BoardSetAccess {
        access: BoardAccess {
            everyone: false,
            drawers: vec!["ada".into()],
        },
    })
    .await
    .unwrap();

    // A stroke in progress reaches the others live, the finished one is stored.
    let partial = wave("h1", 1);
    host.send(BoardRequest::BoardLive {
        page: FIRST_PAGE.into(),
        id: "h1".into(),
        shape: partial.shape.clone(),
        style: partial.style.clone(),
        from: 0,
    })
    .await
    .unwrap();
    let live = ada.live_strokes(1).await;
    assert!(matches!(&live[0], BoardEvent::BoardLive { by, id, .. } if by == "host" && id == "h1"));
    host.send(add(wave("h1", 1))).await.unwrap();
    ada.send(add(wave("a1", 2))).await.unwrap();
    host.send(BoardRequest::BoardAddPage {
        page: "proof".into(),
        index: None,
        annotates: None,
    })
    .await
    .unwrap();
    let text = BoardObject {
        id: "t1".into(),
        author: String::new(),
        shape: Shape::Text {
            at: [800, 600],
            text: "Lemma 1: ∀ε>0 ∃δ".into(),
            size: 500,
        },
        style: Style {
            color: "#111111".into(),
            width: 10,
            fill: false,
        },
    };
    host.send(BoardRequest::BoardAdd {
        page: "proof".into(),
        object: text,
    })
    .await
    .unwrap();
    let seq = host.settle(5).await.seq;
    let at_ada = ada.settle(seq).await.clone();
    let at_host = host.board.board.clone().unwrap();
    assert_eq!(at_ada, at_host, "both boards agree");
    assert_eq!(at_host.objects(), 3);
    assert_eq!(at_host.pages[0].objects[1].author, "ada");

    // Bob joins later: joined tells him the pages, a sync brings the objects.
    let mut bob = view(&relay, "lecture", "bob", false).await;
    assert_eq!(bob.board.summary.seq, seq);
    assert_eq!(bob.board.summary.pages.len(), 2);
    assert_eq!(bob.board.summary.pages[0].objects, 2);
    assert_eq!(bob.sync().await, &at_host);

    // Ada drops; the host draws on; back, she gets only what she missed.
    let BoardView { client, board, .. } = ada;
    drop(client);
    for i in 0..3 {
        host.send(add(wave(&format!("m{i}"), i))).await.unwrap();
    }
    let (client, info) = relay.join("lecture", "ada").await;
    let mut ada = BoardView::new(client, &info.features.board);
    ada.board = board.rejoined(&info.features.board);
    ada.sync().await;
    let missed = ada.drain(Duration::from_millis(200)).await;
    assert!(
        missed.is_empty(),
        "everything came before the ack: {missed:?}"
    );
    assert_eq!(ada.board.board.as_ref(), host.board.board.as_ref());
}

#[tokio::test]
async fn bad_drawings_are_refused_with_the_limit_named_and_change_nothing() {
    let relay = TestRelay::start().await;
    let mut host = view(&relay, "limits", "host", true).await;
    let mut ada = view(&relay, "limits", "ada", false).await;
    host.sync().await;
    ada.sync().await;
    host.send(add(wave("ok", 0))).await.unwrap();
    ada.settle(1).await;

    let mut long = wave("long", 1);
    long.shape = Shape::Pen {
        points: vec![[10, 10, 50]; MAX_POINTS + 1],
    };
    let (code, message) = host.send(add(long)).await.unwrap_err();
    assert_eq!(code, ErrorCode::LimitReached);
    assert!(message.starts_with("points_per_stroke"), "{message}");

    let mut text = wave("text", 2);
    text.shape = Shape::Text {
        at: [0, 0],
        text: "x".repeat(MAX_TEXT_BYTES + 1),
        size: 400,
    };
    let (code, message) = host.send(add(text)).await.unwrap_err();
    assert_eq!(code, ErrorCode::LimitReached);
    assert!(message.starts_with("text_bytes"), "{message}");

    let mut off = wave("off", 3);
    off.shape = Shape::Line {
        from: [0, 0],
        to: [20_000, 0],
    };
    assert_eq!(
        host.send(add(off)).await.unwrap_err().0,
        ErrorCode::OutOfRange
    );
    assert_eq!(
        host.send(add(wave("ok", 0))).await.unwrap_err().0,
        ErrorCode::InvalidState,
        "an id already on the board"
    );
    assert_eq!(
        host.send(BoardRequest::BoardRemovePage {
            page: FIRST_PAGE.into()
        })
        .await
        .unwrap_err()
        .0,
        ErrorCode::InvalidState,
        "the last page stays"
    );

    // A malformed op (a shape of no known kind) is refused by name; nothing changes.
    host.client
        .send_raw(tokio_tungstenite::tungstenite::Message::Text(
            r##"{"type":"board_add","request_id":"raw","page":"page-1","object":{"id":"q","shape":{"kind":"star"},"style":{"color":"#000000","width":5}}}"##.into(),
        ))
        .await
        .unwrap();
    let refused = studyhall_tests::expect_error(&mut host.client, ErrorCode::BadMessage).await;
    assert!(
        matches!(&refused, ServerMessage::Error { message, .. } if message.contains("star")),
        "{refused:?}"
    );

    let quiet = ada.drain(Duration::from_millis(300)).await;
    assert!(
        quiet.iter().all(|m| !matches!(
            m,
            ServerMessage::Feature(FeatureEvent::Board(BoardEvent::BoardOp(_)))
        )),
        "refused drawings reach no one: {quiet:?}"
    );
    assert_eq!(ada.board.board.as_ref().unwrap().objects(), 1);
}

#[tokio::test]
async fn a_flood_from_one_person_is_refused_to_them_and_the_others_draw_on() {
    let relay = TestRelay::start().await;
    let mut host = view(&relay, "flood", "host", true).await;
    let mut ada = view(&relay, "flood", "ada", false).await;
    host.sync().await;
    ada.sync().await;
    host.send(BoardRequest::BoardSetAccess {
        access: BoardAccess {
            everyone: true,
            drawers: vec![],
        },
    })
    .await
    .unwrap();
    // The host sends 100 strokes at once, far over the rate.
    for i in 0..100 {
        host.client
            .send(add(wave(&format!("f{i}"), i)).into())
            .await
            .unwrap();
    }
    // Ada's strokes still go through, each stored and sent to everyone.
    for i in 0..5 {
        ada.send(add(wave(&format!("a{i}"), i))).await.unwrap();
    }
    let seen = host.drain(Duration::from_millis(500)).await;
    let limited: Vec<&str> = seen
        .iter()
        .filter_map(|m| match m {
            ServerMessage::Error {
                code: ErrorCode::RateLimited,
                message,
                ..
            } => Some(message.as_str()),
            _ => None,
        })
        .collect();
    assert!(!limited.is_empty(), "the flood was rate limited");
    // The whiteboard's own limit is reached before the signaling rate, and its refusal
    // names it (not the generic "too many messages").
    assert!(
        limited
            .iter()
            .any(|m| m.starts_with("ops_per_second:") && m.contains("per second")),
        "the whiteboard's refusal names its limit: {limited:?}"
    );
    let board = host.board.board.as_ref().unwrap();
    let ada_strokes = board.pages[0]
        .objects
        .iter()
        .filter(|o| o.author == "ada")
        .count();
    assert_eq!(ada_strokes, 5);
    assert!(board.objects() < 100 + 5, "not all of the flood was taken");
}

#[tokio::test]
async fn a_pen_moving_at_30_per_second_is_not_held_to_the_message_rate() {
    let relay = TestRelay::start().await;
    let mut host = view(&relay, "pen", "host", true).await;
    let mut ada = view(&relay, "pen", "ada", false).await;
    let stroke = wave("pen", 0);
    let Shape::Pen { points } = &stroke.shape else {
        unreachable!()
    };
    // Four seconds of a fast pen, 35 live strokes a second: 140 frames, more than the
    // general message rate allows (a burst of 50, then 20 a second).
    for k in 0..140usize {
        host.client
            .send(
                BoardRequest::BoardLive {
                    page: FIRST_PAGE.into(),
                    id: "pen".into(),
                    shape: Shape::Pen {
                        points: points[..=(k % points.len())].to_vec(),
                    },
                    style: stroke.style.clone(),
                    from: 0,
                }
                .into(),
            )
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(28)).await;
    }
    assert_eq!(ada.live_strokes(140).await.len(), 140, "every one arrived");
    let seen = host.drain(Duration::from_millis(200)).await;
    assert!(
        !seen
            .iter()
            .any(|m| matches!(m, ServerMessage::Error { .. })),
        "no error for the drawer: {seen:?}"
    );
}

#[tokio::test]
async fn the_board_survives_a_restart_of_the_embedded_relay() {
    let relay = TestRelay::start().await;
    let mut host = view(&relay, "kept", "host", true).await;
    host.sync().await;
    for i in 0..12 {
        host.send(add(wave(&format!("k{i}"), i))).await.unwrap();
    }
    host.send(BoardRequest::BoardErase {
        page: FIRST_PAGE.into(),
        ids: vec!["k3".into()],
    })
    .await
    .unwrap();
    let before = host.settle(13).await.clone();
    drop(host);
    let relay = relay.restart().await;
    let mut ada = view(&relay, "kept", "ada", false).await;
    assert_eq!(ada.board.summary.id, before.id, "the same board");
    assert_eq!(ada.board.summary.seq, 13);
    assert_eq!(ada.sync().await, &before);
    // Undo history lived in the old process: nothing to undo now, and drawing goes on
    // from the stored sequence.
    let mut host = view(&relay, "kept", "host", true).await;
    host.sync().await;
    assert_eq!(
        host.send(BoardRequest::BoardUndo).await.unwrap_err().0,
        ErrorCode::InvalidState
    );
    host.send(add(wave("after", 1))).await.unwrap();
    assert_eq!(ada.settle(14).await.objects(), 12);
}
