//! Raise hand from a participant's side: raise and lower your hand, a host lowers
//! anyone's, and the queue (first raised first) as the relay last sent it.

use studyhall_protocol::{ClientMessage, HandEvent, HandRequest, RaisedHand};

use crate::session::{RoomSession, SessionError};

impl RoomSession {
    /// Raise your hand (one already up keeps its place).
    pub async fn raise_hand(&self) -> Result<(), SessionError> {
        self.acked(HandRequest::RaiseHand.into()).await
    }

    /// Lower your own hand.
    pub async fn lower_hand(&self) -> Result<(), SessionError> {
        self.acked(HandRequest::LowerHand.into()).await
    }

    /// Host only: lower someone else's hand.
    pub async fn lower_hand_of(&self, identity: &str) -> Result<(), SessionError> {
        self.acked(
            HandRequest::LowerHandOf {
                identity: identity.to_string(),
            }
            .into(),
        )
        .await
    }
}

/// The raised hands, first raised first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HandQueue(pub Vec<RaisedHand>);

impl HandQueue {
    pub fn new(hands: &[RaisedHand]) -> Self {
        HandQueue(hands.to_vec())
    }

    /// Where `identity` stands in the queue (0 is first), if its hand is up.
    pub fn position(&self, identity: &str) -> Option<usize> {
        self.0.iter().position(|h| h.identity == identity)
    }

    pub fn apply(&mut self, event: &HandEvent) -> bool {
        match event {
            HandEvent::HandQueue { hands, .. } => {
                let changed = self.0 != *hands;
                self.0 = hands.clone();
                changed
            }
        }
    }
}

pub fn describe(event: &HandEvent) -> String {
    match event {
        HandEvent::HandQueue { hands, .. } if hands.is_empty() => "hands: none raised".into(),
        HandEvent::HandQueue { hands, .. } => {
            let who: Vec<&str> = hands.iter().map(|h| h.identity.as_str()).collect();
            format!("hands: {}", who.join(", "))
        }
    }
}

/// Command-line options of raise hand.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct HandArgs {
    /// Raise your hand once joined.
    #[arg(long)]
    pub raise_hand: bool,
}

impl HandArgs {
    pub fn requests(&self) -> Vec<ClientMessage> {
        if self.raise_hand {
            vec![HandRequest::RaiseHand.into()]
        } else {
            vec![]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queue_follows_the_relay() {
        let hand = |id: &str| RaisedHand {
            identity: id.into(),
            raised_at: 1,
        };
        let mut q = HandQueue::new(&[hand("ann")]);
        let event = HandEvent::HandQueue {
            hands: vec![hand("ann"), hand("bob")],
            by: Some("bob".into()),
        };
        assert!(q.apply(&event));
        assert!(!q.apply(&event), "the same queue again changes nothing");
        assert_eq!(q.position("bob"), Some(1));
        assert_eq!(q.position("cat"), None);
        assert_eq!(describe(&event), "hands: ann, bob");
    }
}
