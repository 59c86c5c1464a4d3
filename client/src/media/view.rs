//! What this client shows. The caller names the video tiles on screen by participant
//! and source, with their size; the relay is told by mid (`set_view`) and sends only
//! those; once a view is set, tracks offered later are paused until a view names them.
//! The view is kept: after a subscribe offer it is sent again when it maps onto the
//! offer's tracks differently (a wanted participant's track is offered, or a new
//! connection brings new mids). Before the first view, everything is received.
//!
//! Views are numbered as they are made, and each one is the whole view at that time.
//! They reach the socket by two ways: the caller's through the outgoing queue, the
//! offer's straight from the signaling task. So a view made first can arrive second;
//! [`ViewState::may_write`] drops one older than a view already written, which it would
//! otherwise undo (the relay would pause a camera the newer view names, for good).

use std::collections::HashMap;

use studyhall_protocol::{
    ClientFrame, ClientMessage, ForwardedTrack, ServerMessage, TileView, TrackSource, MAX_TILE_EDGE,
};

/// A video tile on screen: whose, which source, and its size in device pixels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tile {
    pub identity: String,
    pub source: TrackSource,
    pub width: u32,
    pub height: u32,
}

/// Request ids of our views start with this: their `ack`s and errors are ours to
/// handle, not the caller's.
const VIEW_REQUEST: &str = "view-";

/// The view wanted and the mids of the tracks offered now.
#[derive(Debug, Default)]
pub(crate) struct ViewState {
    mids: HashMap<(String, TrackSource), String>,
    wanted: Option<Vec<Tile>>,
    /// What the latest view sent named.
    last: Option<Vec<TileView>>,
    sent: u64,
    /// The number of the newest view written to the socket.
    written: u64,
}

impl ViewState {
    /// A subscribe offer listed `tracks` (every forwarded m-line): the frame to send
    /// after answering it, when a view was set and it now names other tracks.
    pub(crate) fn offered(&mut self, tracks: &[ForwardedTrack]) -> Option<ClientFrame> {
        self.mids = tracks
            .iter()
            .map(|t| ((t.identity.clone(), t.source), t.mid.clone()))
            .collect();
        self.wanted.as_ref()?;
        let tiles = self.tiles();
        (self.last.as_ref() != Some(&tiles)).then(|| self.frame(tiles))
    }

    /// Show `tiles` from now: the frame to send.
    pub(crate) fn set(&mut self, tiles: Vec<Tile>) -> ClientFrame {
        self.wanted = Some(tiles);
        let tiles = self.tiles();
        self.frame(tiles)
    }

    /// Whether `frame` is to be written now: anything but one of our views, or a view
    /// newer than every view written so far (which it then becomes).
    pub(crate) fn may_write(&mut self, frame: &ClientFrame) -> bool {
        let Some(number) = view_number(frame) else {
            return true;
        };
        if number <= self.written {
            tracing::debug!(
                number,
                written = self.written,
                "dropping a view older than one sent"
            );
            return false;
        }
        self.written = number;
        true
    }

    fn frame(&mut self, tracks: Vec<TileView>) -> ClientFrame {
        tracing::debug!(?tracks, offered = self.mids.len(), "sending a view");
        self.last = Some(tracks.clone());
        self.sent += 1;
        let mut frame = ClientFrame::new(ClientMessage::SetView { tracks });
        frame.request_id = Some(format!("{VIEW_REQUEST}{}", self.sent));
        frame
    }

    /// The wanted tiles that are offered, by mid. Sizes are clamped to what the relay
    /// takes; tiles of tracks not offered (yet) are left out.
    fn tiles(&self) -> Vec<TileView> {
        self.wanted
            .iter()
            .flatten()
            .filter(|t| t.source.is_video())
            .filter_map(|t| {
                let mid = self.mids.get(&(t.identity.clone(), t.source))?;
                Some(TileView {
                    mid: mid.clone(),
                    width: t.width.clamp(1, MAX_TILE_EDGE),
                    height: t.height.clamp(1, MAX_TILE_EDGE),
                })
            })
            .collect()
    }
}

/// The number of one of our views, from its request id.
fn view_number(frame: &ClientFrame) -> Option<u64> {
    if !matches!(frame.message, ClientMessage::SetView { .. }) {
        return None;
    }
    frame
        .request_id
        .as_deref()?
        .strip_prefix(VIEW_REQUEST)?
        .parse()
        .ok()
}

/// Whether `msg` answers one of our views; if so it has been dealt with (logged).
pub(crate) fn answers_a_view(msg: &ServerMessage) -> bool {
    match msg {
        ServerMessage::Ack { request_id } => request_id.starts_with(VIEW_REQUEST),
        ServerMessage::Error {
            request_id: Some(id),
            code,
            message,
            ..
        } if id.starts_with(VIEW_REQUEST) => {
            // A track that went while the view was on its way, or views sent too fast:
            // the next offer or view puts it right.
            tracing::debug!(?code, %message, "the relay did not take all of a view");
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offered(identity: &str, source: TrackSource, mid: &str) -> ForwardedTrack {
        ForwardedTrack {
            mid: mid.into(),
            track_id: format!("t{mid}"),
            identity: identity.into(),
            source,
        }
    }

    fn tile(identity: &str, source: TrackSource, width: u32) -> Tile {
        Tile {
            identity: identity.into(),
            source,
            width,
            height: 100,
        }
    }

    fn tracks(frame: &ClientFrame) -> Vec<TileView> {
        match &frame.message {
            ClientMessage::SetView { tracks } => tracks.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn tiles_are_sent_by_mid_and_again_when_an_offer_changes_what_they_name() {
        let mut v = ViewState::default();
        let offer = [
            offered("ada", TrackSource::Camera, "1"),
            offered("ada", TrackSource::Microphone, "2"),
        ];
        assert!(v.offered(&offer).is_none(), "no view yet: nothing to send");
        let frame = v.set(vec![
            tile("ada", TrackSource::Camera, 99_999),
            tile("ada", TrackSource::Microphone, 10),
            tile("bob", TrackSource::Camera, 10),
        ]);
        // Audio is never paused; bob's camera is not offered yet; sizes are clamped.
        assert_eq!(
            tracks(&frame),
            [TileView {
                mid: "1".into(),
                width: MAX_TILE_EDGE,
                height: 100
            }]
        );
        assert!(frame
            .request_id
            .as_deref()
            .unwrap()
            .starts_with(VIEW_REQUEST));
        // Cyd's camera is offered: nobody asked for it, the view stays as sent (the
        // relay pauses it).
        let cyd = offered("cyd", TrackSource::Camera, "4");
        assert!(v
            .offered(&[offer[0].clone(), offer[1].clone(), cyd.clone()])
            .is_none());
        // Bob's camera is offered: the same view now names it too.
        let again = v
            .offered(&[
                offered("ada", TrackSource::Camera, "1"),
                cyd,
                offered("bob", TrackSource::Camera, "5"),
            ])
            .expect("the view is sent again");
        let mids: Vec<_> = tracks(&again).into_iter().map(|t| t.mid).collect();
        assert_eq!(mids, ["1", "5"]);
        assert_ne!(again.request_id, frame.request_id);
        assert!(answers_a_view(&ServerMessage::Ack {
            request_id: again.request_id.clone().unwrap()
        }));
        assert!(!answers_a_view(&ServerMessage::Ack {
            request_id: "chat-1".into()
        }));
    }

    #[test]
    fn a_view_made_before_one_already_written_is_dropped() {
        let mut v = ViewState::default();
        // The caller's view, made before the first offer: it names nothing yet and
        // waits in the outgoing queue.
        let queued = v.set(vec![tile("ada", TrackSource::Camera, 640)]);
        assert!(tracks(&queued).is_empty());
        // The offer's view names ada's camera and goes out first.
        let answer = v
            .offered(&[offered("ada", TrackSource::Camera, "1")])
            .expect("the view names the camera now");
        assert!(v.may_write(&answer));
        // The queued one would hide the camera again: it is not written.
        assert!(!v.may_write(&queued));
        assert!(!v.may_write(&answer), "a view is written once");
        // Later views and other frames go out.
        let later = v.set(vec![]);
        assert!(v.may_write(&later));
        assert!(v.may_write(&ClientFrame::new(ClientMessage::Leave)));
    }
}
