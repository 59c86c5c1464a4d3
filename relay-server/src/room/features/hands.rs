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
    ClientMessage, ErrorCode, FeatureEvent, HandEvent, HandRequest, LeaveReason, RaisedHand,
    ServerMessage,
};

use super::{Cx, Outcome, Refused, Reply, RoomFeature, Services, Snapshot};
use crate::ids::{self, now_ms};
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

impl QueueState {
    fn hands(&self) -> Vec<RaisedHand> {
        self.up.iter().map(|(_, h)| h.clone()).collect()
    }

    fn raise(&mut self, identity: &str, at_ms: u64) -> bool {
        if self.up.iter().any(|(_, h)| h.identity == identity) {
            return false;
        }
        self.parked.remove(identity);
        self.next += 1;
        let order = self.next;
        self.up.push((
            order,
            RaisedHand {
                identity: identity.to_string(),
                raised_at: at_ms,
            },
        ));
        true
    }

    /// Lower a raised or set-aside hand; true when the visible queue changed.
    fn lower(&mut self, identity: &str) -> bool {
        self.parked.remove(identity);
        let before = self.up.len();
        self.up.retain(|(_, h)| h.identity != identity);
        self.up.len() != before
    }

    fn park(&mut self, identity: &str, now: Instant) -> bool {
        let Some(i) = self.up.iter().position(|(_, h)| h.identity == identity) else {
            return false;
        };
        let (order, hand) = self.up.remove(i);
        self.parked.insert(identity.to_string(), (order, hand, now));
        true
    }

    fn restore(&mut self, identity: &str, now: Instant) -> bool {
        self.parked
            .retain(|_, (_, _, at)| now.duration_since(*at) < KEPT_THROUGH_RECONNECT);
        let Some((order, hand, _)) = self.parked.remove(identity) else {
            return false;
        };
        let at = self.up.partition_point(|(o, _)| *o < order);
        self.up.insert(at, (order, hand));
        true
    }

    fn holds(&self, identity: &str) -> bool {
        self.parked.contains_key(identity) || self.up.iter().any(|(_, h)| h.identity == identity)
    }
}

impl HandQueue {
    /// The queue as everyone sees it.
    pub fn hands(&self) -> Vec<RaisedHand> {
        lock(&self.state).hands()
    }

    /// Apply `change`; when it changed the visible queue, tell `room` (everyone but
    /// `except`) while still holding the queue, so two changes can never reach anyone
    /// in the wrong order. Returns whether it changed. (Lock order: queue, then room;
    /// no caller holds a room lock.)
    fn change(
        &self,
        room: &Room,
        by: Option<&str>,
        except: Option<&str>,
        change: impl FnOnce(&mut QueueState) -> bool,
    ) -> bool {
        let mut state = lock(&self.state);
        if !change(&mut state) {
            return false;
        }
        let event = ServerMessage::Feature(FeatureEvent::Hands(HandEvent::HandQueue {
            hands: state.hands(),
            by: by.map(str::to_string),
        }));
        room.broadcast(&event, except);
        true
    }

    /// Raise `identity`'s hand; false when it was already up.
    pub fn raise(&self, identity: &str, at_ms: u64) -> bool {
        lock(&self.state).raise(identity, at_ms)
    }

    /// Lower `identity`'s hand (raised or set aside); false when the queue did not change.
    pub fn lower(&self, identity: &str) -> bool {
        lock(&self.state).lower(identity)
    }

    /// Set `identity`'s hand aside while its connection may come back; true when the
    /// visible queue changed.
    pub fn park(&self, identity: &str, now: Instant) -> bool {
        lock(&self.state).park(identity, now)
    }

    /// `identity` is back: its set-aside hand returns to its place if it is recent
    /// enough. True when the visible queue changed. Old set-aside hands are dropped.
    pub fn restore(&self, identity: &str, now: Instant) -> bool {
        lock(&self.state).restore(identity, now)
    }
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
        let request = super::own_request!(cx, message, Hands);
        let queue = cx.room.feature::<HandQueue>();
        let (room, by) = (cx.room, Some(cx.identity));
        match &request {
            HandRequest::RaiseHand => {
                queue.change(room, by, None, |q| q.raise(cx.identity, now_ms()));
                // Kicked or replaced meanwhile: the room has forgotten this identity's
                // hand already, so this one must not stay up.
                if !cx.is_current() {
                    queue.change(room, None, None, |q| q.lower(cx.identity));
                    return Err(super::replaced());
                }
            }
            HandRequest::LowerHand => {
                queue.change(room, by, None, |q| q.lower(cx.identity));
            }
            HandRequest::LowerAllHands => {
                queue.change(room, by, None, |q| {
                    let any = !q.up.is_empty() || !q.parked.is_empty();
                    q.up.clear();
                    q.parked.clear();
                    any
                });
            }
            HandRequest::LowerHandOf { identity } => {
                if let Err(m) = ids::check_identity(identity) {
                    return Err(Refused::new(ErrorCode::InvalidId, format!("identity: {m}")));
                }
                let lowered = queue.change(room, by, None, |q| {
                    if q.holds(identity) {
                        q.lower(identity);
                        true
                    } else {
                        false
                    }
                });
                if !lowered && !cx.room.contains(identity) {
                    return Err(Refused::new(
                        ErrorCode::NotFound,
                        format!("`{identity}` is not in the room"),
                    ));
                }
            }
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
        // The joiner sees the queue in its snapshot; the others are told.
        room.feature::<HandQueue>()
            .change(room, None, Some(identity), |q| q.restore(identity, now));
    }

    fn left(&self, room: &Room, identity: &str, reason: LeaveReason, now: Instant) {
        room.feature::<HandQueue>()
            .change(room, None, None, |q| match reason {
                // Back already (a fast rejoin ran first): nothing to set aside.
                LeaveReason::Timeout if room.contains(identity) => false,
                LeaveReason::Timeout => q.park(identity, now),
                _ => q.lower(identity),
            });
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
    async fn a_host_lowers_a_hand_set_aside_and_bad_identities_are_refused() {
        let (h, mut host) = Harness::new();
        let mut bob = h.join("bob");
        h.send(&mut bob, HandRequest::RaiseHand.into())
            .await
            .unwrap();
        assert!(h
            .rooms
            .leave(&h.room, "bob", bob.conn.id, LeaveReason::Timeout));
        let lower = |identity: &str| {
            ClientMessage::from(HandRequest::LowerHandOf {
                identity: identity.into(),
            })
        };
        assert_eq!(
            h.send(&mut host, lower("bob")).await,
            Ok(Reply::Ack),
            "set aside, not gone"
        );
        let _bob_again = h.join("bob");
        assert!(
            h.room.feature::<HandQueue>().hands().is_empty(),
            "it stays down"
        );
        let bad = h.send(&mut host, lower("bad name\u{0}")).await;
        assert!(
            matches!(
                bad,
                Err(Refused::Error {
                    code: ErrorCode::InvalidId,
                    ..
                })
            ),
            "{bad:?}"
        );
    }

    #[tokio::test]
    async fn a_drop_reported_after_its_owner_is_back_sets_nothing_aside() {
        let (h, _host) = Harness::new();
        let mut bob = h.join("bob");
        h.send(&mut bob, HandRequest::RaiseHand.into())
            .await
            .unwrap();
        // The old connection's timeout is reported while bob is (again) in the room.
        Hands.left(&h.room, "bob", LeaveReason::Timeout, Instant::now());
        assert_eq!(who(&h.room.feature::<HandQueue>().hands()), ["bob"]);
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
