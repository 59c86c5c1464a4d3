//! Reactions: emoji sent to everyone, shown briefly on the sender's tile. Nothing is
//! stored; each connection has its own small rate (carried across reconnects).

use studyhall_protocol::reactions::{REACTIONS_PER_SECOND, REACTION_BURST};
use studyhall_protocol::{
    ClientMessage, FeatureEvent, FeatureRequest, ReactionEvent, ReactionRequest, ServerMessage,
};

use super::{Cx, Outcome, Refused, Reply, RoomFeature};

pub struct Reactions;

#[async_trait::async_trait]
impl RoomFeature for Reactions {
    fn name(&self) -> &'static str {
        "reactions"
    }

    fn kinds(&self) -> &'static [&'static str] {
        ReactionRequest::TYPES
    }

    async fn handle(&self, cx: &mut Cx<'_>, message: ClientMessage) -> Outcome {
        let ClientMessage::Feature(FeatureRequest::Reactions(ReactionRequest::React { reaction })) =
            message
        else {
            return Err(super::unhandled(message.kind()));
        };
        if !cx.is_current() {
            return Err(super::replaced());
        }
        cx.buckets
            .reactions
            .try_take(cx.now)
            .map_err(|wait| Refused::Limit {
                message: format!(
                    "reactions_per_second: at most {REACTIONS_PER_SECOND} a second (a burst of {REACTION_BURST}); try again in {} ms",
                    wait.as_millis().max(1)
                ),
                wait,
            })?;
        cx.room.broadcast(
            &ServerMessage::Feature(FeatureEvent::Reactions(ReactionEvent::Reaction {
                identity: cx.identity.to_string(),
                reaction,
            })),
            None,
        );
        Ok(Reply::Ack)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::Harness;
    use super::*;
    use studyhall_protocol::Reaction;

    #[tokio::test]
    async fn reactions_reach_everyone_until_the_rate_is_passed() {
        let (h, mut host) = Harness::new();
        let mut ada = h.join("ada");
        let react = || -> ClientMessage {
            ReactionRequest::React {
                reaction: Reaction::Clap,
            }
            .into()
        };
        for _ in 0..REACTION_BURST {
            h.send(&mut ada, react()).await.unwrap();
        }
        let seen = host.drain();
        assert_eq!(
            seen.iter()
                .filter(|m| m["type"] == "reaction"
                    && m["identity"] == "ada"
                    && m["reaction"] == "clap")
                .count(),
            REACTION_BURST as usize
        );
        assert_eq!(
            ada.drain().len(),
            REACTION_BURST as usize,
            "the sender sees its own"
        );
        match h.send(&mut ada, react()).await {
            Err(Refused::Limit { message, .. }) => {
                assert!(message.starts_with("reactions_per_second"), "{message}")
            }
            other => panic!("{other:?}"),
        }
        assert!(host.drain().is_empty(), "a refused reaction goes nowhere");
    }
}
