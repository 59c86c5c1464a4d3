//! What the app is: its name and the versions it speaks, for the UI's start screen and
//! for bug reports.

pub mod commands;
