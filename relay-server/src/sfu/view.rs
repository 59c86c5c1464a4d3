//! What each subscriber shows. A client says which forwarded video tracks are on its
//! screen (`set_view`); the others are paused for it alone: nothing is sent for them,
//! and nobody else's media changes. A paused track starts again at its next keyframe,
//! which the relay asks its publisher for.

use studyhall_protocol::TileView;

use super::*;

impl Sfu {
    /// Show the video tracks `tiles` names to `identity` and pause its other video
    /// tracks. Tracks not yet offered to it stay as they are (sent) until its next view.
    /// A mid that names no track offered to it is [`SfuError::UnknownMid`]; the rest of
    /// the view is applied all the same (a track may have gone while the view was on
    /// its way).
    pub fn set_view(
        &mut self,
        now: Instant,
        group: &str,
        identity: &str,
        conn: u64,
        tiles: &[TileView],
    ) -> Result<(), SfuError> {
        let member = self.member_on(group, identity, conn)?;
        let peer = member.subscribe.and_then(|id| self.peers.get_mut(&id));
        let mut resumed = Vec::new();
        let mut known = HashSet::new();
        if let Some(peer) = peer {
            for out in &mut peer.tracks_out {
                let mid = match out.state {
                    OutState::Negotiating(mid) | OutState::Open(mid) => mid,
                    OutState::ToOpen | OutState::ToClose(_) => continue,
                };
                let shown = tiles.iter().any(|t| *t.mid == *mid);
                if shown {
                    known.insert(mid);
                }
                if out.kind != MediaKind::Video {
                    continue;
                }
                if shown && !out.visible {
                    resumed.push((out.publisher, out.mid_in));
                }
                out.visible = shown;
            }
        }
        // The tiles shown again need a keyframe to start from.
        for (publisher, mid) in resumed {
            self.request_keyframe(now, publisher, mid, false);
        }
        match tiles.iter().find(|t| !known.iter().any(|m| **m == *t.mid)) {
            Some(t) => Err(SfuError::UnknownMid(t.mid.clone())),
            None => Ok(()),
        }
    }
}
