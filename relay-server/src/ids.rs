//! Checks for the names that cross the wire: rooms, identities, display names and ids.

use studyhall_protocol::MAX_ID_LEN;

/// Wall-clock time in ms since the Unix epoch (0 if the clock is before it).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Room names: 1–64 characters of `A–Z a–z 0–9 . _ -`, so they are safe in URLs, keys
/// and file names.
pub fn check_room(room: &str) -> Result<(), String> {
    if room.is_empty() || room.len() > 64 {
        return Err("must be 1 to 64 characters".into());
    }
    if !room
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err("may contain only letters, digits, '.', '_' and '-'".into());
    }
    // A room is named in URLs (its files), where these two are path steps.
    if room == "." || room == ".." {
        return Err("may not be `.` or `..`".into());
    }
    Ok(())
}

/// Identities: 1–64 bytes, no control characters or spaces at either end.
pub fn check_identity(identity: &str) -> Result<(), String> {
    if identity.is_empty() || identity.len() > MAX_ID_LEN {
        return Err(format!("must be 1 to {MAX_ID_LEN} bytes"));
    }
    if identity.chars().any(char::is_control) || identity.trim() != identity {
        return Err("must not contain control characters or surrounding spaces".into());
    }
    Ok(())
}

/// Display names: 1–64 characters, no control characters, not blank.
pub fn check_display_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() || name.chars().count() > 64 {
        return Err("must be 1 to 64 characters and not blank".into());
    }
    if name.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(())
}

/// Client-chosen ids (`request_id`, `client_msg_id`): 1–64 bytes, printable.
pub fn check_client_id(id: &str) -> Result<(), String> {
    if id.is_empty() || id.len() > MAX_ID_LEN {
        return Err(format!("must be 1 to {MAX_ID_LEN} bytes"));
    }
    if id.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rooms() {
        assert!(check_room("algebra-101_b.x").is_ok());
        assert!(check_room("").is_err());
        assert!(check_room("a b").is_err());
        assert!(check_room("../etc").is_err());
        assert!(check_room("..").is_err() && check_room(".").is_err());
        assert!(check_room("...").is_ok());
        assert!(check_room(&"x".repeat(65)).is_err());
    }

    #[test]
    fn identities_and_names() {
        assert!(check_identity("ada@uni").is_ok());
        assert!(check_identity(" ada").is_err());
        assert!(check_identity("a\u{0}b").is_err());
        assert!(check_display_name("Ada Lovelace").is_ok());
        assert!(check_display_name("   ").is_err());
        assert!(check_client_id(&"m".repeat(64)).is_ok());
        assert!(check_client_id(&"m".repeat(65)).is_err());
    }
}
