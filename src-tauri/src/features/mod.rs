//! Room features (raise hand, presence, and what comes next) over IPC, for all features
//! at once: the UI sends a feature's request with [`commands::feature_request`] and hears
//! its events as `roomEvent` `{type: "feature", event}`; the room snapshot carries every
//! feature's state (`features`). The request, event and snapshot types are the
//! protocol's own (`studyhall_protocol::{FeatureRequest, FeatureEvent,
//! FeatureSnapshot}`), exported to TypeScript as they are, so a new feature needs no code
//! here: its types reach the UI's bindings by themselves.

pub mod commands;
pub mod drafts;
