//! The candidate's API, authenticated by the link token alone. Every step answers with
//! the next token: the one presented is spent.

pub mod challenge;
pub mod device;
pub mod page;
pub mod preview;
pub mod readable;
pub mod session;
mod upload;
