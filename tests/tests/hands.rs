//! Raise hand over real WebSockets: the queue in raise order reaches everyone, a host
//! lowers anyone's hand with an ack, a hand is lowered when its owner leaves and kept
//! when its connection drops and comes back, and a late joiner gets the queue as it
//! stands.

use studyhall_protocol::{
    ClientFrame, ErrorCode, FeatureEvent, HandEvent, HandRequest, RaisedHand, ServerMessage,
};
use studyhall_tests::{expect, expect_error, TestRelay};

/// The identities of the next `hand_queue` `client` receives.
async fn next_queue(client: &mut studyhall_client::SignalClient, what: &str) -> Vec<String> {
    let msg = expect(client, what, |m| {
        matches!(m, ServerMessage::Feature(FeatureEvent::Hands(_)))
    })
    .await;
    let ServerMessage::Feature(FeatureEvent::Hands(HandEvent::HandQueue { hands, .. })) = msg
    else {
        unreachable!()
    };
    ids(&hands)
}

fn ids(hands: &[RaisedHand]) -> Vec<String> {
    hands.iter().map(|h| h.identity.clone()).collect()
}

#[tokio::test]
async fn hands_queue_in_order_and_a_host_lowers_them_with_an_ack() {
    let relay = TestRelay::start().await;
    let (mut ada, _) = relay.join_host("algebra", "ada").await;
    let (mut bob, _) = relay.join("algebra", "bob").await;
    let (mut cat, _) = relay.join("algebra", "cat").await;

    cat.send(HandRequest::RaiseHand.into()).await.unwrap();
    assert_eq!(next_queue(&mut ada, "cat's hand").await, ["cat"]);
    bob.send(HandRequest::RaiseHand.into()).await.unwrap();
    assert_eq!(next_queue(&mut ada, "bob's hand").await, ["cat", "bob"]);
    assert_eq!(next_queue(&mut bob, "cat's hand").await, ["cat"]);
    assert_eq!(next_queue(&mut bob, "bob's own hand").await, ["cat", "bob"]);

    // A late joiner gets the queue as it stands.
    let (_dan, info) = relay.join("algebra", "dan").await;
    assert_eq!(ids(&info.features.hands), ["cat", "bob"]);

    // A member cannot lower someone else's hand; the queue is untouched.
    bob.send_frame(&ClientFrame::with_request_id(
        HandRequest::LowerHandOf {
            identity: "cat".into(),
        }
        .into(),
        "b1",
    ))
    .await
    .unwrap();
    let refused = expect_error(&mut bob, ErrorCode::Forbidden).await;
    assert!(
        matches!(&refused, ServerMessage::Error { request_id: Some(r), message, .. } if r == "b1" && message.contains("`host`")),
        "{refused:?}"
    );

    // The host lowers cat's hand: an ack, and everyone sees the new queue.
    ada.send_frame(&ClientFrame::with_request_id(
        HandRequest::LowerHandOf {
            identity: "cat".into(),
        }
        .into(),
        "a1",
    ))
    .await
    .unwrap();
    assert_eq!(next_queue(&mut ada, "cat lowered").await, ["bob"]);
    expect(
        &mut ada,
        "the ack",
        |m| matches!(m, ServerMessage::Ack { request_id } if request_id == "a1"),
    )
    .await;
    assert_eq!(next_queue(&mut cat, "cat's queue").await, ["cat"]);
    assert_eq!(
        next_queue(&mut cat, "bob joins the queue").await,
        ["cat", "bob"]
    );
    assert_eq!(
        next_queue(&mut cat, "cat lowered, as cat sees it").await,
        ["bob"]
    );

    // Bob lowers his own.
    bob.send(HandRequest::LowerHand.into()).await.unwrap();
    assert!(next_queue(&mut ada, "bob lowered").await.is_empty());
}

#[tokio::test]
async fn a_hand_is_kept_through_a_dropped_connection_and_lowered_by_leaving() {
    let relay = TestRelay::start().await;
    let (mut ada, _) = relay.join_host("r", "ada").await;
    let (mut bob, _) = relay.join("r", "bob").await;
    let (mut cat, _) = relay.join("r", "cat").await;
    bob.send(HandRequest::RaiseHand.into()).await.unwrap();
    cat.send(HandRequest::RaiseHand.into()).await.unwrap();
    assert_eq!(next_queue(&mut ada, "bob").await, ["bob"]);
    assert_eq!(next_queue(&mut ada, "cat").await, ["bob", "cat"]);

    // Bob's network drops (no close frame): his hand is set aside, then back in its
    // place when he rejoins.
    drop(bob);
    assert_eq!(next_queue(&mut ada, "bob dropped").await, ["cat"]);
    let (_bob, info) = relay.join("r", "bob").await;
    assert_eq!(ids(&info.features.hands), ["bob", "cat"]);
    assert_eq!(next_queue(&mut ada, "bob back").await, ["bob", "cat"]);

    // Cat leaves for good: the hand goes down and stays down.
    cat.send(studyhall_protocol::ClientMessage::Leave)
        .await
        .unwrap();
    assert_eq!(next_queue(&mut ada, "cat left").await, ["bob"]);
    let (_cat, info) = relay.join("r", "cat").await;
    assert_eq!(ids(&info.features.hands), ["bob"]);
}
