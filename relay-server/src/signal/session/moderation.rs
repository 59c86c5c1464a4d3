//! Host actions of a session: removing a participant and ending the room. The grant
//! table has already checked `host`.

use studyhall_protocol::ErrorCode;
use tracing::info;

use super::Session;
use crate::room::KickError;

/// Longest reason a host may give for a kick, in characters.
const MAX_KICK_REASON: usize = 200;

impl Session {
    pub(super) async fn end_room(&self, request_id: Option<String>) {
        // The ack goes before the room's end closes this socket too.
        self.ack(request_id);
        // What lived only while the room ran is cleared first, so that a join racing the
        // end never finds it (a lock, an open poll).
        crate::room::features::ended(&self.relay.features, &self.room).await;
        let gone = self.relay.rooms.end_room(&self.room, &self.identity);
        info!(participants = gone.len(), "room ended by host");
        for (identity, conn) in gone {
            self.relay.sfu.leave(&self.room.name, &identity, conn).await;
        }
    }

    pub(super) async fn kick(
        &self,
        target: String,
        reason: Option<String>,
        request_id: Option<String>,
    ) {
        if let Some(r) = &reason {
            if r.chars().count() > MAX_KICK_REASON {
                self.error(
                    ErrorCode::BadMessage,
                    format!("reason is longer than {MAX_KICK_REASON} characters"),
                    request_id,
                );
                return;
            }
        }
        match self
            .relay
            .rooms
            .kick(&self.room, &target, &self.identity, reason)
        {
            Ok(conn) => {
                info!(target = %target, "participant kicked by host");
                self.relay.sfu.leave(&self.room.name, &target, conn).await;
                self.ack(request_id);
            }
            Err(e @ KickError::NotFound(_)) => {
                self.error(ErrorCode::NotFound, e.to_string(), request_id)
            }
            Err(e @ KickError::SelfKick) => {
                self.error(ErrorCode::Forbidden, e.to_string(), request_id)
            }
        }
    }
}
