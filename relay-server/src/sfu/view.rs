//! What each subscriber shows. A client says which forwarded video tracks are on its
//! screen (`set_view`); the others, and tracks offered later, are paused for it alone:
//! nothing is sent for them, and nobody else's media changes. A paused track starts
//! again at its next keyframe, which the relay asks its publisher for.

use studyhall_protocol::TileView;

use super::*;

/// The largest tile, in device pixels, that gets a publisher's small layer (half the
/// width and height of its camera): up to about one and a half times the small layer's
/// own size, where it still looks sharp.
pub const SMALL_TILE: (u32, u32) = (480, 360);

fn fits_small(t: &TileView) -> bool {
    t.width <= SMALL_TILE.0 && t.height <= SMALL_TILE.1
}

impl Sfu {
    /// Show the video tracks `tiles` names to `identity` and pause its other video
    /// tracks, and those offered from now on until a view names them. A mid that names
    /// no track offered to it is [`SfuError::UnknownMid`]; the rest of the view is
    /// applied all the same (a track may have gone while the view was on its way).
    pub fn set_view(
        &mut self,
        now: Instant,
        group: &str,
        identity: &str,
        conn: u64,
        tiles: &[TileView],
    ) -> Result<(), SfuError> {
        self.member_on(group, identity, conn)?;
        let member = self
            .members
            .get_mut(&key(group, identity))
            .expect("checked above");
        member.viewing = true;
        let peer = member.subscribe.and_then(|id| self.peers.get_mut(&id));
        let mut resumed = Vec::new();
        let mut known = HashSet::new();
        if let Some(peer) = peer {
            for out in &mut peer.tracks_out {
                let mid = match out.state {
                    OutState::Negotiating(mid) | OutState::Open(mid) => mid,
                    // Not offered yet, so not named: paused like the rest.
                    OutState::ToOpen => {
                        out.visible = out.kind != MediaKind::Video;
                        continue;
                    }
                    OutState::ToClose(_) => continue,
                };
                let tile = tiles.iter().find(|t| *t.mid == *mid);
                if tile.is_some() {
                    known.insert(mid);
                }
                if out.kind != MediaKind::Video {
                    continue;
                }
                if let Some(tile) = tile {
                    out.small = fits_small(tile);
                }
                if tile.is_some() && !out.visible {
                    resumed.push((out.publisher, out.source, out.small));
                }
                out.visible = tile.is_some();
            }
        }
        // The tiles shown again need a keyframe to start from, of the layer they get.
        for (publisher, source, small) in resumed {
            let small_mid = self.layer_mid(publisher, source, Layer::Small);
            let mid = small_mid
                .filter(|_| small)
                .or_else(|| self.layer_mid(publisher, source, Layer::Full));
            if let Some(mid) = mid {
                self.request_keyframe(now, publisher, mid, false);
            }
        }
        match tiles.iter().find(|t| !known.iter().any(|m| **m == *t.mid)) {
            Some(t) => Err(SfuError::UnknownMid(t.mid.clone())),
            None => Ok(()),
        }
    }
}

impl Sfu {
    /// Tell each publisher which of its video tracks anyone receives, when that changed
    /// (dynacast): it may stop encoding the others. A layer counts as received while a
    /// subscriber wants it or still gets it (a switch away waits for the new layer's
    /// keyframe). Before the first notice, every track counts as received.
    pub(super) fn tell_layers(&mut self) {
        let mut used: HashSet<(PeerId, TrackSource, Layer)> = HashSet::new();
        for sub in self
            .peers
            .values()
            .filter(|p| p.role == Role::Subscribe && p.alive)
        {
            for out in &sub.tracks_out {
                if out.kind != MediaKind::Video || matches!(out.state, OutState::ToClose(_)) {
                    continue;
                }
                let Some(publisher) = self.peers.get(&out.publisher) else {
                    continue;
                };
                let of_source = || {
                    publisher
                        .tracks_in
                        .values()
                        .filter(|t| t.source == out.source)
                };
                let has_small = of_source().any(|t| t.layer == Layer::Small);
                let enabled = of_source().any(|t| t.enabled);
                if let Some(layer) = forward::sent_layer(out, enabled, has_small) {
                    used.insert((out.publisher, out.source, layer));
                }
                if let Some(index) = out.rewriter.sending() {
                    used.insert((out.publisher, out.source, forward::layer_of(index)));
                }
            }
        }
        for (id, p) in self
            .peers
            .iter_mut()
            .filter(|(_, p)| p.role == Role::Publish && p.alive)
        {
            let now: HashMap<Mid, bool> = p
                .tracks_in
                .iter()
                .filter(|(_, t)| t.kind == MediaKind::Video)
                .map(|(mid, t)| (*mid, used.contains(&(*id, t.source, t.layer))))
                .collect();
            let changed = now
                .iter()
                .any(|(mid, active)| p.layers_told.get(mid).copied().unwrap_or(true) != *active);
            if !changed {
                p.layers_told.retain(|mid, _| now.contains_key(mid));
                continue;
            }
            let mut tracks: Vec<LayerActivity> = now
                .iter()
                .map(|(mid, active)| LayerActivity {
                    mid: mid.to_string(),
                    active: *active,
                })
                .collect();
            tracks.sort_by(|a, b| a.mid.cmp(&b.mid));
            debug!(identity = %p.identity, ?tracks, "telling a publisher which tracks are received");
            p.layers_told = now;
            self.notices.push_back(Notice::PublishLayers {
                group: p.group.clone(),
                identity: p.identity.clone(),
                conn: p.conn,
                tracks,
            });
        }
    }
}
