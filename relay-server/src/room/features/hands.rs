//! Raise hand: the queue of raised hands, first raised first.
//!
//! A hand stays up until its owner lowers it, a host lowers it, or its owner leaves the
//! room. A connection that drops (`timeout`) is likely to come back: its hand is set
//! aside for [`KEPT_THROUGH_RECONNECT`] and returns to its place when the same identity
//! joins again. Every change goes to everyone as `hand_queue`, the whole queue (a room
//! holds at most a few dozen people), so a client never has to merge partial updates.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use studyhall_protocol::{
    ClientMessage, ErrorCode, FeatureEvent, FeatureRequest, HandEvent, HandRequest, LeaveReason,
    RaisedHand, ServerMessage,
};

use super::{Cx, Outcome, Refused, Reply, RoomFeature, Services, Snapshot};
use crate::ids::now_ms;
use crate::room::{lock, ConnHandle, Room};

/// How long the hand of a dropped connection waits for its owner to rejoin.
pub const KEPT_THROUGH_RECONNECT: Duration = Duration::from_secs(120);

pub struct Hands;

/// A room's raised hands.
#[derive(Debug, Default)]
pub struct HandQueue {
    state: Mutex<QueueState>,
}

#[derive(Debug, Default)]
struct QueueState {
    /// Raised hands with the order they were raised in.
    up: Vec<(u64, RaisedHand)>,
    /// Hands of dropped connections, with their order and when they were set aside.
    parked: HashMap<String, (u64, RaisedHand, Instant)>,
    next: u64,
}

impl HandQueue {
    /// The queue as everyone sees it.
    pub fn hands(&self) -> Vec<RaisedHand> {
        lock(&self.state)
            .up
            .iter()
            .map(|(_, h)| h.clone())
            .collect()
    }

    /// Raise `identity`'s hand; false when it was already up.
    pub fn raise(&self, identity: &str, at_ms: u64) -> bool {
        let mut s = lock(&self.state);
        if s.up.iter().any(|(_, h)| h.identity == identity) {
            return false;
        }
        s.parked.remove(identity);
        s.next += 1;
        let order = s.next;
        s.up.push((
            order,
            RaisedHand {
                identity: identity.to_string(),
                raised_at: at_ms,
            },
        ));
        true
    }

    /// Lower `identity`'s hand; false when it was down.
    pub fn lower(&self, identity: &str) -> bool {
        let mut s = lock(&self.state);
        let before = s.up.len();
        s.up.retain(|(_, h)| h.identity != identity);
        let parked = s.parked.remove(identity).is_some();
        s.up.len() != before || parked
    }

    /// Set `identity`'s hand aside while its connection may come back; true when the
    /// visible queue changed.
    pub fn park(&self, identity: &str, now: Instant) -> bool {
        let mut s = lock(&self.state);
        let Some(i) = s.up.iter().position(|(_, h)| h.identity == identity) else {
            return false;
        };
        let (order, hand) = s.up.remove(i);
        s.parked.insert(identity.to_string(), (order, hand, now));
        true
    }

    /// `identity` is back: its set-aside hand returns to its place if it is recent
    /// enough. True when the visible queue changed. Old set-aside hands are dropped.
    pub fn restore(&self, identity: &str, now: Instant) -> bool {
        let mut s = lock(&self.state);
        s.parked
            .retain(|_, (_, _, at)| now.duration_since(*at) < KEPT_THROUGH_RECONNECT);
        let Some((order, hand, _)) = s.parked.remove(identity) else {
            return false;
        };
        let at = s.up.partition_point(|(o, _)| *o < order);
        s.up.insert(at, (order, hand));
        true
    }
}

fn queue_event(room: &Room, by: Option<&str>) -> ServerMessage {
    ServerMessage::Feature(FeatureEvent::Hands(HandEvent::HandQueue {
        hands: room.feature::<HandQueue>().hands(),
        by: by.map(str::to_string),
    }))
}

#[async_trait::async_trait]
impl RoomFeature for Hands {
    fn name(&self) -> &'static str {
        "hands"
    }

    fn kinds(&self) -> &'static [&'static str] {
        HandRequest::TYPES
    }

    async fn handle(&self, cx: &mut Cx<'_>, message: ClientMessage) -> Outcome {
        let ClientMessage::Feature(FeatureRequest::Hands(request)) = message else {
            return Err(super::chat::unhandled(message.kind()));
        };
        if !cx.is_current() {
            return Err(Refused::new(
                ErrorCode::Replaced,
                "this connection was replaced by a newer one",
            ));
        }
        let queue = cx.room.feature::<HandQueue>();
        let changed = match &request {
            HandRequest::RaiseHand => queue.raise(cx.identity, now_ms()),
            HandRequest::LowerHand => queue.lower(cx.identity),
            HandRequest::LowerHandOf { identity } => {
                if !cx.room.contains(identity) {
                    return Err(Refused::new(
                        ErrorCode::NotFound,
                        format!("`{identity}` is not in the room"),
                    ));
                }
                queue.lower(identity)
            }
        };
        if changed {
            cx.room
                .broadcast(&queue_event(cx.room, Some(cx.identity)), None);
        }
        Ok(Reply::Ack)
    }

    async fn snapshot(
        &self,
        _services: &Services,
        room: &std::sync::Arc<Room>,
        _conn: &ConnHandle,
        into: &mut Snapshot,
    ) {
        into.features.hands = room.feature::<HandQueue>().hands();
    }

    fn joined(&self, room: &Room, identity: &str, _replaced: bool, now: Instant) {
        if room.feature::<HandQueue>().restore(identity, now) {
            room.broadcast(&queue_event(room, None), Some(identity));
        }
    }

    fn left(&self, room: &Room, identity: &str, reason: LeaveReason, now: Instant) {
        let queue = room.feature::<HandQueue>();
        let changed = match reason {
            LeaveReason::Timeout => queue.park(identity, now),
            _ => queue.lower(identity),
        };
        if changed {
            room.broadcast(&queue_event(room, None), None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::Harness;
    use super::*;

    fn who(hands: &[RaisedHand]) -> Vec<&str> {
        hands.iter().map(|h| h.identity.as_str()).collect()
    }

    #[test]
    fn the_queue_keeps_raise_order_and_a_reconnect_keeps_its_place() {
        let q = HandQueue::default();
        let t0 = Instant::now();
        assert!(q.raise("ann", 1));
        assert!(q.raise("bob", 2));
        assert!(q.raise("cat", 3));
        assert!(!q.raise("ann", 4), "a raised hand keeps its place");
        assert_eq!(who(&q.hands()), ["ann", "bob", "cat"]);
        assert!(q.park("bob", t0));
        assert_eq!(who(&q.hands()), ["ann", "cat"]);
        assert!(q.restore("bob", t0 + Duration::from_secs(5)));
        assert_eq!(who(&q.hands()), ["ann", "bob", "cat"], "back in its place");
        assert!(q.park("ann", t0));
        assert!(
            !q.restore("ann", t0 + KEPT_THROUGH_RECONNECT),
            "too late: the hand is gone"
        );
        assert_eq!(who(&q.hands()), ["bob", "cat"]);
        assert!(q.lower("cat"));
        assert!(!q.lower("cat"));
        assert!(!q.park("nobody", t0));
    }

    #[tokio::test]
    async fn hands_go_up_and_down_and_everyone_sees_the_queue() {
        let (h, mut host) = Harness::new();
        let mut bob = h.join("bob");
        let mut cat = h.join("cat");
        host.drain();
        assert_eq!(
            h.send(&mut cat, HandRequest::RaiseHand.into()).await,
            Ok(Reply::Ack)
        );
        assert_eq!(
            h.send(&mut bob, HandRequest::RaiseHand.into()).await,
            Ok(Reply::Ack)
        );
        let last = host.drain().pop().unwrap();
        assert_eq!(last["type"], "hand_queue");
        assert_eq!(last["hands"][0]["identity"], "cat");
        assert_eq!(last["hands"][1]["identity"], "bob");
        assert_eq!(last["by"], "bob");
        assert_eq!(
            h.send(&mut cat, HandRequest::LowerHand.into()).await,
            Ok(Reply::Ack)
        );
        let last = bob.drain().pop().unwrap();
        assert_eq!(last["hands"].as_array().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn only_a_host_lowers_someone_elses_hand() {
        let (h, mut host) = Harness::new();
        let mut bob = h.join("bob");
        let mut cat = h.join("cat");
        h.send(&mut bob, HandRequest::RaiseHand.into())
            .await
            .unwrap();
        let by_cat = h
            .send(
                &mut cat,
                HandRequest::LowerHandOf {
                    identity: "bob".into(),
                }
                .into(),
            )
            .await;
        assert!(
            matches!(
                by_cat,
                Err(Refused::Error {
                    code: ErrorCode::Forbidden,
                    ..
                })
            ),
            "{by_cat:?}"
        );
        assert_eq!(who(&h.room.feature::<HandQueue>().hands()), ["bob"]);
        let missing = h
            .send(
                &mut host,
                HandRequest::LowerHandOf {
                    identity: "zed".into(),
                }
                .into(),
            )
            .await;
        assert!(matches!(
            missing,
            Err(Refused::Error {
                code: ErrorCode::NotFound,
                ..
            })
        ));
        host.drain();
        let by_host = h
            .send(
                &mut host,
                HandRequest::LowerHandOf {
                    identity: "bob".into(),
                }
                .into(),
            )
            .await;
        assert_eq!(by_host, Ok(Reply::Ack));
        let last = bob.drain().pop().unwrap();
        assert_eq!(last["type"], "hand_queue");
        assert_eq!(last["by"], "host");
        assert!(last["hands"].as_array().unwrap().is_empty());
    }

    #[tokio::test]
    async fn leaving_lowers_a_hand_and_a_dropped_connection_gets_it_back() {
        let (h, mut host) = Harness::new();
        let mut bob = h.join("bob");
        let mut cat = h.join("cat");
        h.send(&mut bob, HandRequest::RaiseHand.into())
            .await
            .unwrap();
        h.send(&mut cat, HandRequest::RaiseHand.into())
            .await
            .unwrap();
        host.drain();
        assert!(h
            .rooms
            .leave(&h.room, "cat", cat.conn.id, LeaveReason::Left));
        assert!(h
            .rooms
            .leave(&h.room, "bob", bob.conn.id, LeaveReason::Timeout));
        let queues: Vec<_> = host
            .drain()
            .into_iter()
            .filter(|m| m["type"] == "hand_queue")
            .collect();
        assert_eq!(queues.len(), 2, "{queues:?}");
        assert!(queues[1]["hands"].as_array().unwrap().is_empty());
        let _bob_again = h.join("bob");
        assert_eq!(who(&h.room.feature::<HandQueue>().hands()), ["bob"]);
        let back = host.drain();
        assert!(
            back.iter()
                .any(|m| m["type"] == "hand_queue" && m["hands"][0]["identity"] == "bob"),
            "{back:?}"
        );
        let _cat_again = h.join("cat");
        assert_eq!(
            who(&h.room.feature::<HandQueue>().hands()),
            ["bob"],
            "a hand lowered by leaving stays down"
        );
    }
}
