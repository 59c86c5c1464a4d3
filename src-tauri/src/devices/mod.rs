//! Capture and playback devices: listing them and the device check before joining.

pub mod commands;
