//! Media sources. Synthetic ones (a test pattern that carries who/when/which frame, and
//! a per-identity tone) work on any machine; device sources join with the desktop app.

pub mod pattern;
pub mod tone;
