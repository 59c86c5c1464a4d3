//! Media signaling: SDP offers and answers for the two PeerConnections of a participant.
//!
//! The client offers on its *publish* connection; the relay offers on the *subscribe*
//! connection and offers again whenever the set of forwarded tracks changes. Tracks are
//! named by their SDP `mid` and tagged with the source they carry.

use serde::{Deserialize, Serialize};

/// What a published track carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackSource {
    Microphone,
    Camera,
    Screen,
}

impl TrackSource {
    pub fn is_video(self) -> bool {
        !matches!(self, TrackSource::Microphone)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TrackSource::Microphone => "microphone",
            TrackSource::Camera => "camera",
            TrackSource::Screen => "screen",
        }
    }
}

/// A track the client publishes: the `mid` of its m-line in the publish offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedTrack {
    pub mid: String,
    pub source: TrackSource,
    /// Which encoding of the source this m-line carries: the camera may be published
    /// twice, at full size and at about a quarter of it.
    #[serde(default, skip_serializing_if = "Layer::is_full")]
    pub layer: Layer,
}

/// One encoding of a published video source.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    /// As captured (the only layer of audio, of a screen share, and of a camera
    /// published once).
    #[default]
    Full,
    /// Half the width and height of the full layer, at a low bitrate (about
    /// 100 kbit/s): what small tiles get.
    Small,
}

impl Layer {
    pub fn is_full(&self) -> bool {
        *self == Layer::Full
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Full => "full",
            Layer::Small => "small",
        }
    }
}

/// Whether the relay needs a published track now (`publish_layers`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerActivity {
    /// The `mid` of the track in the publish offer.
    pub mid: String,
    pub active: bool,
}

/// A track the relay forwards to this client: the `mid` of its m-line in the subscribe
/// offer, the opaque `track_id` in that m-line's `a=msid`, whose it is and what it carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForwardedTrack {
    pub mid: String,
    pub track_id: String,
    pub identity: String,
    pub source: TrackSource,
}

/// A forwarded video track the client shows, and how large: one entry of `set_view`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TileView {
    /// The `mid` of the track's m-line in the subscribe offer.
    pub mid: String,
    /// The tile's size in device pixels (CSS pixels times the device pixel ratio),
    /// 1 to [`MAX_TILE_EDGE`] each.
    pub width: u32,
    pub height: u32,
}

/// Largest tile edge `set_view` accepts, in device pixels (an 8K screen's width).
pub const MAX_TILE_EDGE: u32 = 7680;

/// Most tiles one `set_view` may list.
pub const MAX_VIEW_TILES: usize = 128;
