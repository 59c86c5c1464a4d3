//! Reminders: a few minutes ([`LEAD`]) before a session starts, once per occurrence, the
//! app raises a desktop notification with a Join button and tells the window (which
//! shows a toast with the same button). An occurrence that has started is not reminded
//! (the app was closed, or it was added late).

use std::collections::HashSet;
use std::sync::Weak;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use studyhall_protocol::schedule::{self, StudySession};

use super::Groups;

/// How long before a session its reminder comes.
pub const LEAD: Duration = Duration::from_secs(5 * 60);
/// How often the reminders look at the clock.
const TICK: Duration = Duration::from_secs(15);

/// A session about to start.
#[derive(
    Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type, tauri_specta::Event,
)]
#[serde(rename_all = "camelCase")]
pub struct SessionReminder {
    /// The group whose session it is (`null`: a personal block, nothing to join).
    pub group: Option<String>,
    pub group_name: Option<String>,
    pub session: String,
    pub title: String,
    /// When it starts, ms since the Unix epoch.
    #[specta(type = f64)]
    pub start_ms: u64,
    /// Whole minutes from the reminder to the start.
    pub minutes: u32,
    /// The desktop notification's Join button was pressed: open the group's room.
    pub join: bool,
}

/// Which occurrences were reminded already.
#[derive(Debug, Default)]
pub struct Reminders {
    told: HashSet<(String, u64)>,
}

impl Reminders {
    /// The reminders due at `now_ms` for `sessions` (group, group name, session): each
    /// occurrence starting within [`LEAD`] from now, once.
    pub fn due(
        &mut self,
        sessions: &[(Option<String>, Option<String>, StudySession)],
        now_ms: u64,
    ) -> Vec<SessionReminder> {
        let lead = LEAD.as_millis() as u64;
        let mut out = vec![];
        for (group, group_name, session) in sessions {
            let Ok(occurrences) = schedule::expand(session, now_ms, now_ms + lead + 1) else {
                continue;
            };
            for o in occurrences {
                if o.start_ms < now_ms || o.start_ms > now_ms + lead {
                    continue;
                }
                let key = (
                    format!("{}:{}", group.as_deref().unwrap_or(""), o.session),
                    o.start_ms,
                );
                if !self.told.insert(key) {
                    continue;
                }
                out.push(SessionReminder {
                    group: group.clone(),
                    group_name: group_name.clone(),
                    session: o.session.clone(),
                    title: o.title.clone(),
                    start_ms: o.start_ms,
                    minutes: ((o.start_ms - now_ms) / 60_000) as u32,
                    join: false,
                });
            }
        }
        // Forget occurrences long past.
        self.told
            .retain(|(_, start)| *start + 24 * 3600 * 1000 > now_ms);
        out
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Look for due reminders every [`TICK`] while the groups live.
pub async fn run(groups: Weak<Groups>) {
    let mut tick = tokio::time::interval(TICK);
    loop {
        tick.tick().await;
        let Some(groups) = groups.upgrade() else {
            return;
        };
        let sessions = groups.all_sessions().await;
        let due = groups
            .reminders
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .due(&sessions, now_ms());
        for reminder in due {
            tracing::info!(session = %reminder.session, title = %reminder.title, "a session is about to start");
            groups.bridge.reminder(reminder);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use studyhall_protocol::schedule::SessionDraft;

    fn session(id: &str, title: &str, start: &str, rrule: Option<&str>) -> StudySession {
        StudySession {
            id: id.into(),
            by: String::new(),
            draft: SessionDraft {
                title: title.into(),
                start: start.into(),
                tz: "Europe/Berlin".into(),
                minutes: 60,
                rrule: rrule.map(str::to_string),
                changes: vec![],
            },
        }
    }

    /// Ms of a UTC time.
    fn at(text: &str) -> u64 {
        chrono::DateTime::parse_from_rfc3339(text)
            .unwrap()
            .timestamp_millis() as u64
    }

    #[test]
    fn a_reminder_comes_once_at_the_right_time_for_the_right_session() {
        // 18:00 and 18:30 Berlin (CET in December) are 17:00 and 17:30 UTC.
        let sessions = vec![
            (
                Some("g0000000000aa".to_string()),
                Some("Algebra".to_string()),
                session(
                    "0000000a",
                    "Problem set",
                    "2026-12-07T18:00",
                    Some("FREQ=WEEKLY"),
                ),
            ),
            (
                None,
                None,
                session("0000000b", "Reading", "2026-12-07T18:30", None),
            ),
        ];
        let mut reminders = Reminders::default();
        let mut tick = |t: &str| reminders.due(&sessions, at(t));
        assert!(
            tick("2026-12-07T16:54:00Z").is_empty(),
            "six minutes before: not yet"
        );
        let first = tick("2026-12-07T16:55:05Z");
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].title, "Problem set");
        assert_eq!(first[0].group.as_deref(), Some("g0000000000aa"));
        assert_eq!(first[0].start_ms, at("2026-12-07T17:00:00Z"));
        assert_eq!(first[0].minutes, 4);
        assert!(tick("2026-12-07T16:57:00Z").is_empty(), "once only");
        assert!(
            tick("2026-12-07T17:01:00Z").is_empty(),
            "not after it started"
        );
        let second = tick("2026-12-07T17:25:00Z");
        assert_eq!(second.len(), 1);
        assert_eq!(second[0].title, "Reading");
        assert_eq!(second[0].group, None);
        // The weekly one comes back the next week, once.
        assert!(tick("2026-12-14T16:54:00Z").is_empty());
        assert_eq!(tick("2026-12-14T16:56:00Z").len(), 1);
        assert!(tick("2026-12-14T16:58:00Z").is_empty());
    }

    #[test]
    fn a_reminder_follows_a_moved_occurrence_and_skips_a_cancelled_one() {
        let mut moved = session("0000000c", "Lab", "2026-12-07T18:00", Some("FREQ=DAILY"));
        moved.draft.changes = vec![
            schedule::OccurrenceChange {
                occurrence: "2026-12-08T18:00".into(),
                moved_to: Some("2026-12-08T20:00".into()),
            },
            schedule::OccurrenceChange {
                occurrence: "2026-12-09T18:00".into(),
                moved_to: None,
            },
        ];
        let sessions = vec![(Some("g0000000000bb".to_string()), None, moved)];
        let mut reminders = Reminders::default();
        assert!(reminders
            .due(&sessions, at("2026-12-08T16:56:00Z"))
            .is_empty());
        assert_eq!(
            reminders.due(&sessions, at("2026-12-08T18:56:00Z")).len(),
            1
        );
        assert!(reminders
            .due(&sessions, at("2026-12-09T16:56:00Z"))
            .is_empty());
    }
}
