//! Presence: active, away or on a break, set by the participant (the app sets `away`
//! after some minutes without input). It is part of each participant, so joiners get
//! it with `participants` and changes go out as `participant_updated`.

use studyhall_protocol::{ClientMessage, FeatureRequest, PresenceRequest};

use super::{Cx, Outcome, Reply, RoomFeature};

pub struct Presence;

#[async_trait::async_trait]
impl RoomFeature for Presence {
    fn name(&self) -> &'static str {
        "presence"
    }

    fn kinds(&self) -> &'static [&'static str] {
        PresenceRequest::TYPES
    }

    async fn handle(&self, cx: &mut Cx<'_>, message: ClientMessage) -> Outcome {
        let ClientMessage::Feature(FeatureRequest::Presence(PresenceRequest::SetPresence {
            presence,
        })) = message
        else {
            return Err(super::unhandled(message.kind()));
        };
        // Only the connection that owns the identity may change it; the room tells
        // everyone, the sender included.
        if !cx.is_current() {
            return Err(super::replaced());
        }
        cx.room.update_participant(cx.identity, cx.conn.id, |p| {
            let changed = p.presence != presence;
            p.presence = presence;
            changed
        });
        Ok(Reply::Ack)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::Harness;
    use super::*;
    use studyhall_protocol::Presence as P;

    #[tokio::test]
    async fn presence_changes_reach_everyone_once() {
        let (h, mut host) = Harness::new();
        let mut bob = h.join("bob");
        host.drain();
        let away: ClientMessage = PresenceRequest::SetPresence { presence: P::Away }.into();
        assert_eq!(h.send(&mut bob, away.clone()).await, Ok(Reply::Ack));
        let seen = host.drain();
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert_eq!(seen[0]["type"], "participant_updated");
        assert_eq!(seen[0]["participant"]["presence"], "away");
        assert_eq!(h.send(&mut bob, away).await, Ok(Reply::Ack));
        assert!(host.drain().is_empty(), "no change, no event");
    }
}
