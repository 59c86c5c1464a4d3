//! The media rules of a session: what a participant sends (mute, camera, screen) and the
//! negotiation of its two connections with the SFU.

use std::collections::HashSet;
use std::time::Instant;

use studyhall_protocol::{
    ErrorCode, MediaUpdate, PublishedTrack, ServerMessage, TileView, TrackSource, MAX_TILE_EDGE,
    MAX_VIEW_TILES,
};
use tracing::warn;

use super::{Flow, Session};
use crate::ids;
use crate::sfu::SfuError;

impl Session {
    pub(super) async fn set_media(&self, update: MediaUpdate, request_id: Option<String>) {
        if self.replaced(request_id.clone()) {
            return;
        }
        let turns_on =
            update.mic == Some(true) || update.camera == Some(true) || update.screen == Some(true);
        if turns_on && !self.grants.publish {
            self.error(
                ErrorCode::Forbidden,
                "turning a source on needs the `publish` grant, which this token does not have",
                request_id,
            );
            return;
        }
        // In a lecture, a student's microphone and camera wait for the host's leave, and
        // only presenters share their screen.
        for (source, on) in [
            (TrackSource::Microphone, update.mic),
            (TrackSource::Camera, update.camera),
            (TrackSource::Screen, update.screen),
        ] {
            if on != Some(true) {
                continue;
            }
            if let Err(why) = crate::room::features::lecture::may_send(
                &self.relay.features,
                &self.room,
                &self.identity,
                source,
            )
            .await
            {
                self.error(ErrorCode::Forbidden, why, request_id);
                return;
            }
        }
        // Only a change made by the connection that owns the identity reaches the SFU:
        // a replaced connection must not mute its successor.
        let changed = self
            .room
            .update_participant(&self.identity, self.conn.id, |p| p.media.apply(update));
        if changed.is_some() {
            self.apply_forwarding(update).await;
        }
        self.ack(request_id);
    }

    /// Muting a source stops its forwarding; unmuting resumes it.
    async fn apply_forwarding(&self, update: MediaUpdate) {
        for (source, on) in [
            (TrackSource::Microphone, update.mic),
            (TrackSource::Camera, update.camera),
            (TrackSource::Screen, update.screen),
        ] {
            if let Some(on) = on {
                self.relay
                    .sfu
                    .set_enabled(&self.room.name, &self.identity, self.conn.id, source, on)
                    .await;
            }
        }
    }

    fn replaced(&self, request_id: Option<String>) -> bool {
        if self.room.is_current(&self.identity, self.conn.id) {
            return false;
        }
        self.error(
            ErrorCode::Replaced,
            "this connection was replaced by a newer one",
            request_id,
        );
        true
    }

    pub(super) async fn publish_offer(
        &mut self,
        sdp: String,
        tracks: Vec<PublishedTrack>,
        request_id: Option<String>,
        now: Instant,
    ) -> Flow {
        if self.replaced(request_id.clone()) {
            return Flow::Continue;
        }
        if let Err(wait) = self.publish_bucket.try_take(now) {
            return self.rate_limited(now, wait.as_millis() as u64, request_id);
        }
        let mut sources = HashSet::new();
        for t in &tracks {
            if let Err(m) = ids::check_client_id(&t.mid) {
                self.error(ErrorCode::InvalidId, format!("mid: {m}"), request_id);
                return Flow::Continue;
            }
            if !sources.insert((t.source, t.layer)) {
                self.error(
                    ErrorCode::BadMessage,
                    format!("more than one `{}` track", t.source.as_str()),
                    request_id,
                );
                return Flow::Continue;
            }
        }
        match self
            .relay
            .sfu
            .publish(&self.room.name, &self.identity, self.conn.id, sdp, tracks)
            .await
        {
            Ok(sdp) => self.reply(ServerMessage::PublishAnswer { request_id, sdp }),
            // Replaced between the check above and the media task: say so, as above.
            Err(SfuError::Replaced) => self.error(
                ErrorCode::Replaced,
                SfuError::Replaced.to_string(),
                request_id,
            ),
            Err(e) => {
                warn!(error = %e, "publish offer refused");
                self.error(ErrorCode::MediaFailed, e.to_string(), request_id);
            }
        }
        Flow::Continue
    }

    pub(super) async fn subscribe_answer(&self, sdp: String, request_id: Option<String>) {
        if self.replaced(request_id.clone()) {
            return;
        }
        let answered = self
            .relay
            .sfu
            .subscribe_answer(&self.room.name, &self.identity, self.conn.id, sdp)
            .await;
        match answered {
            Ok(()) => self.ack(request_id),
            Err(SfuError::Replaced) => self.error(
                ErrorCode::Replaced,
                SfuError::Replaced.to_string(),
                request_id,
            ),
            Err(e) => {
                warn!(error = %e, "subscribe answer refused");
                self.error(ErrorCode::MediaFailed, e.to_string(), request_id);
            }
        }
    }

    /// Which forwarded video tracks the client shows. Malformed views are refused
    /// whole; one naming a track that is no longer offered is applied for the rest.
    pub(super) async fn set_view(
        &mut self,
        tiles: Vec<TileView>,
        request_id: Option<String>,
        now: Instant,
    ) -> Flow {
        if self.replaced(request_id.clone()) {
            return Flow::Continue;
        }
        if let Err(wait) = self.view_bucket.try_take(now) {
            return self.rate_limited(now, wait.as_millis() as u64, request_id);
        }
        if tiles.len() > MAX_VIEW_TILES {
            self.error(
                ErrorCode::BadMessage,
                format!(
                    "a view lists at most {MAX_VIEW_TILES} tracks, not {}",
                    tiles.len()
                ),
                request_id,
            );
            return Flow::Continue;
        }
        for t in &tiles {
            if let Err(m) = ids::check_client_id(&t.mid) {
                self.error(ErrorCode::InvalidId, format!("mid: {m}"), request_id);
                return Flow::Continue;
            }
            let fits = |edge: u32| (1..=MAX_TILE_EDGE).contains(&edge);
            if !fits(t.width) || !fits(t.height) {
                self.error(
                    ErrorCode::OutOfRange,
                    format!(
                        "tile `{}` is {}×{}; width and height must be 1 to {MAX_TILE_EDGE} device pixels",
                        t.mid, t.width, t.height
                    ),
                    request_id,
                );
                return Flow::Continue;
            }
        }
        match self
            .relay
            .sfu
            .set_view(&self.room.name, &self.identity, self.conn.id, tiles)
            .await
        {
            Ok(()) => self.ack(request_id),
            Err(SfuError::UnknownMid(mid)) => self.error(
                ErrorCode::NotFound,
                format!("no video track with mid `{mid}` is forwarded to you; the rest of the view was applied"),
                request_id,
            ),
            Err(SfuError::Replaced) => self.error(
                ErrorCode::Replaced,
                SfuError::Replaced.to_string(),
                request_id,
            ),
            Err(e) => self.error(ErrorCode::MediaFailed, e.to_string(), request_id),
        }
        Flow::Continue
    }
}
