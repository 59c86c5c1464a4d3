//! Negotiation: a participant's publish offer and its answer, the subscribe offers the
//! relay makes as tracks come and go (and their answers), and which tracks each
//! subscriber is offered.

use super::*;

impl Sfu {
    /// Accept (or renegotiate) a participant's publish offer; returns the SDP answer.
    pub fn publish(
        &mut self,
        now: Instant,
        group: &str,
        identity: &str,
        conn: u64,
        offer_sdp: &str,
        tracks: &[PublishedTrack],
    ) -> Result<String, SfuError> {
        self.member_on(group, identity, conn)?;
        if tracks.len() > MAX_PUBLISHED_TRACKS {
            return Err(SfuError::Invalid(format!(
                "at most {MAX_PUBLISHED_TRACKS} tracks can be published"
            )));
        }
        check_layers(tracks)?;
        let offer =
            SdpOffer::from_sdp_string(offer_sdp).map_err(|e| SfuError::BadSdp(e.to_string()))?;
        let peer_id = match self.members[&key(group, identity)].publish {
            Some(id) if self.peers.get(&id).is_some_and(|p| p.alive) => id,
            _ => {
                let id = self.add_peer(now, group, identity, Role::Publish)?;
                self.member_mut(group, identity).publish = Some(id);
                id
            }
        };
        let peer = self
            .peers
            .get_mut(&peer_id)
            .expect("peer just found or created");
        let answer = catch_unwind(AssertUnwindSafe(|| peer.rtc.sdp_api().accept_offer(offer)));
        let answer: SdpAnswer = match answer {
            Ok(Ok(a)) => a,
            Ok(Err(e)) => return Err(SfuError::Negotiation(e.to_string())),
            Err(_) => {
                peer.alive = false;
                return Err(SfuError::Negotiation(
                    "the media engine failed on this offer".into(),
                ));
            }
        };
        // The offer's tracks list is authoritative: tag mids, drop what is no longer listed.
        let listed: HashMap<Mid, (TrackSource, Layer)> = tracks
            .iter()
            .map(|t| (Mid::from(t.mid.as_str()), (t.source, t.layer)))
            .collect();
        for mid in listed.keys() {
            if peer.rtc.media(*mid).is_none() {
                return Err(SfuError::UnknownMid(mid.to_string()));
            }
        }
        let removed: Vec<Mid> = peer
            .tracks_in
            .keys()
            .filter(|m| !listed.contains_key(*m))
            .copied()
            .collect();
        let disabled = self.members[&key(group, identity)].disabled.clone();
        let peer = self.peers.get_mut(&peer_id).expect("exists");
        let mut added = Vec::new();
        for (mid, (source, layer)) in &listed {
            if !peer.tracks_in.contains_key(mid) {
                peer.tracks_in.insert(
                    *mid,
                    TrackIn::new(*source, *layer, !disabled.contains(source)),
                );
                // A small layer feeds the m-lines its full layer has.
                if *layer == Layer::Full {
                    added.push((*mid, *source));
                }
            }
        }
        for mid in &removed {
            peer.tracks_in.remove(mid);
        }
        info!(
            group,
            identity,
            added = added.len(),
            removed = removed.len(),
            "publish negotiated"
        );
        self.drain(now, peer_id);
        for mid in removed {
            self.unpublish(now, peer_id, mid);
        }
        for (mid, source) in added {
            self.publish_track(now, group, identity, peer_id, mid, source);
        }
        Ok(answer.to_sdp_string())
    }

    /// The participant's answer to our latest subscribe offer.
    pub fn subscribe_answer(
        &mut self,
        now: Instant,
        group: &str,
        identity: &str,
        conn: u64,
        sdp: &str,
    ) -> Result<(), SfuError> {
        let id = self
            .member_on(group, identity, conn)?
            .subscribe
            .ok_or(SfuError::NoPendingOffer)?;
        let answer =
            SdpAnswer::from_sdp_string(sdp).map_err(|e| SfuError::BadSdp(e.to_string()))?;
        let peer = self.peers.get_mut(&id).ok_or(SfuError::NoPendingOffer)?;
        let pending = peer.pending.take().ok_or(SfuError::NoPendingOffer)?;
        let accepted = catch_unwind(AssertUnwindSafe(|| {
            peer.rtc.sdp_api().accept_answer(pending, answer)
        }));
        match accepted {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                // The offer is spent; offer again with the same changes.
                for t in &mut peer.tracks_out {
                    if let OutState::Negotiating(_) = t.state {
                        t.state = OutState::ToOpen;
                    }
                }
                let err = SfuError::Negotiation(e.to_string());
                self.negotiate(now, id);
                return Err(err);
            }
            Err(_) => {
                peer.alive = false;
                return Err(SfuError::Negotiation(
                    "the media engine failed on this answer".into(),
                ));
            }
        }
        let mut opened = Vec::new();
        for t in &mut peer.tracks_out {
            if let OutState::Negotiating(mid) = t.state.clone() {
                t.state = OutState::Open(mid);
                if t.kind == MediaKind::Video {
                    opened.push((t.publisher, t.mid_in));
                    let rtc = &mut peer.rtc;
                    let _ = catch_unwind(AssertUnwindSafe(|| {
                        if let Some(tx) = rtc.direct_api().stream_tx_by_mid(mid, None) {
                            tx.set_rtx_cache(RTX_CACHE_PACKETS, RTX_CACHE_AGE, Some(RTX_RATIO_CAP));
                        }
                    }));
                }
            }
        }
        self.drain(now, id);
        // A new subscriber needs a keyframe to start decoding.
        for (publisher, mid_in) in opened {
            self.request_keyframe(now, publisher, mid_in, true);
        }
        self.negotiate(now, id);
        Ok(())
    }

    /// Every published track in `group` except `identity`'s own.
    pub(super) fn group_tracks(&self, group: &str, identity: &str) -> Vec<TrackOut> {
        let mut out = Vec::new();
        for (id, p) in &self.peers {
            if p.role == Role::Publish && p.group == group && p.identity != identity && p.alive {
                for (mid, t) in p.tracks_in.iter().filter(|(_, t)| t.layer == Layer::Full) {
                    out.push(TrackOut::new(*id, *mid, p.identity.clone(), t.source));
                }
            }
        }
        out.sort_by(|a, b| (&a.identity, a.source).cmp(&(&b.identity, b.source)));
        out
    }

    pub(super) fn publish_track(
        &mut self,
        now: Instant,
        group: &str,
        identity: &str,
        publisher: PeerId,
        mid: Mid,
        source: TrackSource,
    ) {
        let receivers: Vec<String> = self
            .members
            .iter()
            .filter(|((g, i), m)| g == group && i != identity && m.wants_media)
            .map(|((_, i), _)| i.clone())
            .collect();
        for receiver in receivers {
            let track = TrackOut::new(publisher, mid, identity.to_string(), source);
            self.add_outgoing(now, group, &receiver, vec![track]);
        }
    }

    pub(super) fn add_outgoing(
        &mut self,
        now: Instant,
        group: &str,
        identity: &str,
        mut tracks: Vec<TrackOut>,
    ) {
        let member = self.members.get(&key(group, identity));
        // A subscriber with a view shows only what it named: a new track waits for it.
        let viewing = member.is_some_and(|m| m.viewing);
        for t in &mut tracks {
            t.visible = !viewing;
        }
        match member.and_then(|m| m.subscribe) {
            Some(id) if self.peers.get(&id).is_some_and(|p| p.alive) => {
                if let Some(peer) = self.peers.get_mut(&id) {
                    // A track it already has is not offered twice: a publish of several
                    // tracks creates the subscribe peer with all of them at the first.
                    for t in tracks {
                        let has = peer.tracks_out.iter().any(|o| {
                            o.publisher == t.publisher
                                && o.mid_in == t.mid_in
                                && !matches!(o.state, OutState::ToClose(_))
                        });
                        if !has {
                            peer.tracks_out.push(t);
                        }
                    }
                }
                self.negotiate(now, id);
            }
            // A new subscribe connection (the first, or one replacing a failed or
            // overgrown one) carries every track published now.
            _ => self.new_subscriber(now, group, identity),
        }
    }

    /// Replace `identity`'s subscribe peer (if any) with a fresh one that forwards every
    /// track currently published in the group.
    pub(super) fn new_subscriber(&mut self, now: Instant, group: &str, identity: &str) {
        if let Some(old) = self
            .members
            .get(&key(group, identity))
            .and_then(|m| m.subscribe)
        {
            if let Some(mut peer) = self.remove_peer(old) {
                peer.rtc.disconnect();
            }
        }
        let mut tracks = self.group_tracks(group, identity);
        // Mids change with the connection: a view must name them again.
        let viewing = self
            .members
            .get(&key(group, identity))
            .is_some_and(|m| m.viewing);
        for t in &mut tracks {
            t.visible = !viewing;
        }
        match self.add_peer(now, group, identity, Role::Subscribe) {
            Ok(id) => {
                self.member_mut(group, identity).subscribe = Some(id);
                if let Some(peer) = self.peers.get_mut(&id) {
                    peer.tracks_out = tracks;
                }
                self.negotiate(now, id);
            }
            Err(e) => warn!(error = %e, "cannot create subscribe peer"),
        }
    }

    pub(super) fn unpublish_all(&mut self, now: Instant, publisher: PeerId) {
        let subs: Vec<PeerId> = self.peers.keys().copied().collect();
        for sub in subs {
            self.close_outgoing(now, sub, |t| t.publisher == publisher);
        }
    }

    pub(super) fn unpublish(&mut self, now: Instant, publisher: PeerId, mid: Mid) {
        let subs: Vec<PeerId> = self.peers.keys().copied().collect();
        for sub in subs {
            self.close_outgoing(now, sub, |t| t.publisher == publisher && t.mid_in == mid);
        }
    }

    pub(super) fn close_outgoing(
        &mut self,
        now: Instant,
        sub: PeerId,
        which: impl Fn(&TrackOut) -> bool,
    ) {
        let Some(peer) = self.peers.get_mut(&sub) else {
            return;
        };
        let mut changed = false;
        peer.tracks_out.retain_mut(|t| {
            if !which(t) {
                return true;
            }
            changed = true;
            match t.state.clone() {
                // Never offered: just forget it.
                OutState::ToOpen => false,
                OutState::Negotiating(mid) | OutState::Open(mid) | OutState::ToClose(mid) => {
                    t.state = OutState::ToClose(mid);
                    true
                }
            }
        });
        if changed {
            self.negotiate(now, sub);
        }
    }

    /// Send a new subscribe offer if something changed and no offer is pending.
    pub(super) fn negotiate(&mut self, now: Instant, sub: PeerId) {
        let Some(peer) = self.peers.get_mut(&sub) else {
            return;
        };
        if peer.pending.is_some() || !peer.alive {
            return;
        }
        // Stopped tracks stay as inactive m-lines; past a bound, start a new connection
        // instead of letting every offer (and the client's answer) grow without limit.
        let closing = peer
            .tracks_out
            .iter()
            .filter(|t| matches!(t.state, OutState::ToClose(_)))
            .count();
        if peer.inactive_mlines + closing > MAX_INACTIVE_MLINES {
            let (group, identity) = (peer.group.clone(), peer.identity.clone());
            info!(%identity, "subscribe connection has too many stopped m-lines; starting a new one");
            self.new_subscriber(now, &group, &identity);
            return;
        }
        let needs = peer
            .tracks_out
            .iter()
            .any(|t| matches!(t.state, OutState::ToOpen | OutState::ToClose(_)));
        if !needs {
            return;
        }
        for t in peer
            .tracks_out
            .iter_mut()
            .filter(|t| t.state == OutState::ToOpen)
        {
            peer.next_track += 1;
            t.track_id = msid(peer.next_track, t.publisher, t.source).1;
        }
        let result = catch_unwind(AssertUnwindSafe(|| {
            let mut api = peer.rtc.sdp_api();
            let mut states = Vec::new();
            for t in &peer.tracks_out {
                states.push(match &t.state {
                    OutState::ToOpen => {
                        let (stream_id, _) = msid(0, t.publisher, t.source);
                        let mid = api.add_media(
                            t.kind,
                            Direction::SendOnly,
                            Some(stream_id),
                            Some(t.track_id.clone()),
                            None,
                        );
                        OutState::Negotiating(mid)
                    }
                    OutState::ToClose(mid) => {
                        // Inactive rather than stopped: an offer whose m-lines are all
                        // stopped has an empty BUNDLE group, which peers (str0m itself
                        // included) refuse in the answer.
                        api.set_direction(*mid, Direction::Inactive);
                        OutState::ToClose(*mid)
                    }
                    other => other.clone(),
                });
            }
            (api.apply(), states)
        }));
        let (applied, states) = match result {
            Ok(r) => r,
            Err(_) => {
                warn!(identity = %peer.identity, "str0m panicked building an offer; dropping media peer");
                peer.alive = false;
                return;
            }
        };
        for (t, s) in peer.tracks_out.iter_mut().zip(states) {
            t.state = s;
        }
        // Stopped m-lines are gone from our bookkeeping once offered.
        let before = peer.tracks_out.len();
        peer.tracks_out
            .retain(|t| !matches!(t.state, OutState::ToClose(_)));
        peer.inactive_mlines += before - peer.tracks_out.len();
        let Some((offer, pending)) = applied else {
            return;
        };
        peer.pending = Some(pending);
        let tracks = peer
            .tracks_out
            .iter()
            .filter_map(|t| match &t.state {
                OutState::Negotiating(mid) | OutState::Open(mid) => Some(ForwardedTrack {
                    mid: mid.to_string(),
                    track_id: t.track_id.clone(),
                    identity: t.identity.clone(),
                    source: t.source,
                }),
                _ => None,
            })
            .collect();
        self.notices.push_back(Notice::SubscribeOffer {
            group: peer.group.clone(),
            identity: peer.identity.clone(),
            conn: peer.conn,
            sdp: offer.to_sdp_string(),
            tracks,
        });
        self.drain(now, sub);
    }
}

/// A publish offer's layers: a small layer only for the camera, and only beside its full
/// layer; each source and layer at most once.
fn check_layers(tracks: &[PublishedTrack]) -> Result<(), SfuError> {
    let mut seen = HashSet::new();
    for t in tracks {
        if !seen.insert((t.source, t.layer)) {
            return Err(SfuError::Invalid(format!(
                "more than one `{}` track of layer `{}`",
                t.source.as_str(),
                t.layer.as_str()
            )));
        }
    }
    for t in tracks.iter().filter(|t| t.layer == Layer::Small) {
        if t.source != TrackSource::Camera {
            return Err(SfuError::Invalid(format!(
                "only the camera has a small layer, not the {}",
                t.source.as_str()
            )));
        }
        if !seen.contains(&(t.source, Layer::Full)) {
            return Err(SfuError::Invalid(
                "a small camera layer needs the full one in the same offer".into(),
            ));
        }
    }
    Ok(())
}
