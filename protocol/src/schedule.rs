//! Study sessions: a title, a start in a time zone's wall-clock time, a length, maybe a
//! recurrence (an iCalendar `RRULE`), and changes to single occurrences (cancelled or
//! moved).
//!
//! The types are wire types (a group's schedule travels in [`crate::groups::Group`]).
//! With the `schedule` feature this module also expands sessions into occurrences within
//! a bounded window (the `rrule` crate, in the session's own time zone, so a weekly
//! 18:00 session stays at 18:00 across a daylight-saving change), and reads and writes
//! `.ics` files (the `icalendar` crate), size- and count-capped.

use serde::{Deserialize, Serialize};

/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 100;
/// Shortest and longest session, in minutes.
pub const MIN_MINUTES: u32 = 5;
pub const MAX_MINUTES: u32 = 12 * 60;
/// Longest `RRULE` value, in bytes.
pub const MAX_RRULE_BYTES: usize = 300;
/// Most changed (cancelled or moved) occurrences of one session.
pub const MAX_CHANGES: usize = 100;
/// Widest window occurrences are expanded in, in days.
pub const MAX_WINDOW_DAYS: u64 = 400;
/// Most occurrences one expansion returns.
pub const MAX_OCCURRENCES: usize = 1000;
/// Largest `.ics` file imported, in bytes, and most events taken from one.
pub const MAX_ICS_BYTES: usize = 256 * 1024;
pub const MAX_ICS_EVENTS: usize = 200;

/// A session as stored: a group's (its `id` given by the relay, `by` who added it) or a
/// personal study block (kept by the app).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct StudySession {
    /// 8 lowercase hex digits.
    pub id: String,
    /// Identity of whoever added it (empty for personal blocks).
    #[serde(default)]
    pub by: String,
    #[serde(flatten)]
    pub draft: SessionDraft,
}

/// What a session is, without who keeps it: what `POST …/sessions` takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct SessionDraft {
    /// 1–100 characters.
    pub title: String,
    /// Wall-clock start in `tz`: `YYYY-MM-DDTHH:MM`.
    pub start: String,
    /// IANA time zone name, such as `Europe/Berlin` or `UTC`.
    pub tz: String,
    /// Length in minutes, 5 to 720.
    pub minutes: u32,
    /// An iCalendar `RRULE` value (without `RRULE:`), such as `FREQ=WEEKLY;BYDAY=MO,TH`.
    /// At most daily (`FREQ=DAILY`, `WEEKLY`, `MONTHLY` or `YEARLY`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rrule: Option<String>,
    /// Occurrences cancelled or moved.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<OccurrenceChange>,
}

/// One occurrence of a recurring session, cancelled or moved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct OccurrenceChange {
    /// The occurrence's own wall-clock start (`YYYY-MM-DDTHH:MM`, in the session's `tz`).
    pub occurrence: String,
    /// Where it moved (wall-clock, same `tz`); `null`: cancelled.
    #[serde(default)]
    pub moved_to: Option<String>,
}

/// One occurrence, in absolute time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Occurrence {
    pub session: String,
    pub title: String,
    /// Start and end, ms since the Unix epoch.
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub start_ms: u64,
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub end_ms: u64,
    /// The occurrence's own wall-clock start (what a change names).
    pub occurrence: String,
    /// Whether a change moved it from there.
    pub moved: bool,
}

/// Why a session, a window or a file was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleError(pub String);

impl std::fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ScheduleError {}

#[cfg(feature = "schedule")]
pub use self::rules::*;

#[cfg(feature = "schedule")]
mod rules {
    use std::collections::HashMap;
    use std::str::FromStr;

    use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Utc};
    use chrono_tz::Tz;
    use icalendar::{
        Calendar, CalendarDateTime, Component, DatePerhapsTime, Event, EventLike, Property,
    };

    use super::*;

    const WALL: &str = "%Y-%m-%dT%H:%M";
    const ICS_LOCAL: &str = "%Y%m%dT%H%M%S";

    fn fail(message: impl Into<String>) -> ScheduleError {
        ScheduleError(message.into())
    }

    /// Read a wall-clock time (`YYYY-MM-DDTHH:MM`, years 2000 to 2100).
    pub fn parse_wall(text: &str) -> Result<NaiveDateTime, ScheduleError> {
        let at = NaiveDateTime::parse_from_str(text, WALL).map_err(|_| {
            fail(format!(
                "{text:?} is not a date and time like 2026-12-07T18:00"
            ))
        })?;
        let year = chrono::Datelike::year(&at);
        if !(2000..=2100).contains(&year) {
            return Err(fail(format!("{text:?} is not between 2000 and 2100")));
        }
        Ok(at)
    }

    /// Read an IANA time zone name.
    pub fn parse_tz(name: &str) -> Result<Tz, ScheduleError> {
        Tz::from_str(name).map_err(|_| fail(format!("{name:?} is not a time zone name")))
    }

    /// The instant of a wall-clock time in `tz`. A time that does not exist (skipped by a
    /// change to summer time) is taken an hour later; one that happens twice (the hour
    /// repeated in autumn), the first time.
    pub fn resolve(tz: Tz, wall: NaiveDateTime) -> DateTime<Tz> {
        match tz.from_local_datetime(&wall) {
            chrono::LocalResult::Single(t) => t,
            chrono::LocalResult::Ambiguous(first, _) => first,
            chrono::LocalResult::None => tz
                .from_local_datetime(&(wall + Duration::hours(1)))
                .earliest()
                .unwrap_or_else(|| tz.from_utc_datetime(&wall)),
        }
    }

    fn rule_set(draft: &SessionDraft, tz: Tz) -> Result<rrule::RRuleSet, ScheduleError> {
        let start = parse_wall(&draft.start)?;
        let Some(rule) = &draft.rrule else {
            return Err(fail("no recurrence"));
        };
        let text = format!(
            "DTSTART;TZID={}:{}\nRRULE:{}",
            tz.name(),
            start.format(ICS_LOCAL),
            rule
        );
        rrule::RRuleSet::from_str(&text).map_err(|e| fail(format!("recurrence: {e}")))
    }

    /// Check a draft against every rule, with a clear message for the first it breaks.
    pub fn validate(draft: &SessionDraft) -> Result<(), ScheduleError> {
        let title = draft.title.trim();
        if title.is_empty() {
            return Err(fail("a session needs a title"));
        }
        if title.chars().count() > MAX_TITLE_CHARS {
            return Err(fail(format!(
                "a title is at most {MAX_TITLE_CHARS} characters"
            )));
        }
        if title.chars().any(char::is_control) {
            return Err(fail("a title may not contain control characters"));
        }
        parse_wall(&draft.start)?;
        let tz = parse_tz(&draft.tz)?;
        if !(MIN_MINUTES..=MAX_MINUTES).contains(&draft.minutes) {
            return Err(fail(format!(
                "a session lasts {MIN_MINUTES} to {MAX_MINUTES} minutes"
            )));
        }
        if let Some(rule) = &draft.rrule {
            if rule.len() > MAX_RRULE_BYTES {
                return Err(fail(format!(
                    "a recurrence is at most {MAX_RRULE_BYTES} bytes"
                )));
            }
            let upper = rule.to_ascii_uppercase();
            if ["SECONDLY", "MINUTELY", "HOURLY"]
                .iter()
                .any(|f| upper.contains(&format!("FREQ={f}")))
            {
                return Err(fail(
                    "a session repeats at most daily (FREQ=DAILY, WEEKLY, MONTHLY or YEARLY)",
                ));
            }
            if ["BYHOUR", "BYMINUTE", "BYSECOND", "BYSETPOS"]
                .iter()
                .any(|p| upper.contains(&format!("{p}=")))
            {
                return Err(fail(
                    "a session repeats at most daily, at its start time (no BYHOUR, BYMINUTE, BYSECOND or BYSETPOS)",
                ));
            }
            if rule.contains(['\n', '\r', ':']) {
                return Err(fail("a recurrence is one RRULE value, without `RRULE:`"));
            }
            rule_set(draft, tz)?;
        } else if !draft.changes.is_empty() {
            return Err(fail(
                "only a recurring session has occurrences to cancel or move",
            ));
        }
        if draft.changes.len() > MAX_CHANGES {
            return Err(fail(format!(
                "at most {MAX_CHANGES} occurrences of one session can be changed"
            )));
        }
        for change in &draft.changes {
            let own = parse_wall(&change.occurrence)?;
            if let Some(to) = &change.moved_to {
                let to = parse_wall(to)?;
                if (to - own).num_days().abs() > 365 {
                    return Err(fail(format!(
                        "an occurrence moves at most a year ({} to {})",
                        change.occurrence,
                        to.format(WALL)
                    )));
                }
            }
        }
        Ok(())
    }

    /// The occurrences of `session` that overlap `[from_ms, to_ms)`, in order. The window
    /// may be at most [`MAX_WINDOW_DAYS`] wide, and at most [`MAX_OCCURRENCES`] come back.
    pub fn expand(
        session: &StudySession,
        from_ms: u64,
        to_ms: u64,
    ) -> Result<Vec<Occurrence>, ScheduleError> {
        if to_ms < from_ms {
            return Err(fail("the window ends before it starts"));
        }
        if to_ms - from_ms > MAX_WINDOW_DAYS * 86_400_000 {
            return Err(fail(format!(
                "occurrences are listed for at most {MAX_WINDOW_DAYS} days at once"
            )));
        }
        let draft = &session.draft;
        validate(draft)?;
        let tz = parse_tz(&draft.tz)?;
        let length = Duration::minutes(i64::from(draft.minutes));
        let moves: HashMap<&str, Option<&str>> = draft
            .changes
            .iter()
            .map(|c| (c.occurrence.as_str(), c.moved_to.as_deref()))
            .collect();
        let wall_starts: Vec<NaiveDateTime> = match &draft.rrule {
            None => vec![parse_wall(&draft.start)?],
            Some(_) => {
                // Occurrences starting a session's length before the window still overlap
                // it; moved ones may come from anywhere within a year either side.
                let margin = Duration::days(366);
                let after = ms_to_utc(from_ms) - margin;
                let before = ms_to_utc(to_ms) + margin;
                let set = rule_set(draft, tz)?
                    .after(after.with_timezone(&rrule::Tz::UTC))
                    .before(before.with_timezone(&rrule::Tz::UTC));
                let result = set.all(u16::MAX);
                result
                    .dates
                    .iter()
                    .map(|d| d.with_timezone(&tz).naive_local())
                    .collect()
            }
        };
        let mut out = Vec::new();
        for wall in wall_starts {
            let own = wall.format(WALL).to_string();
            let (at, moved) = match moves.get(own.as_str()) {
                Some(None) => continue,
                Some(Some(to)) => (parse_wall(to)?, true),
                None => (wall, false),
            };
            let start = resolve(tz, at).with_timezone(&Utc);
            let end = start + length;
            let (start_ms, end_ms) = (
                start.timestamp_millis().max(0) as u64,
                end.timestamp_millis().max(0) as u64,
            );
            if start_ms < to_ms && end_ms > from_ms {
                out.push(Occurrence {
                    session: session.id.clone(),
                    title: draft.title.clone(),
                    start_ms,
                    end_ms,
                    occurrence: own,
                    moved,
                });
            }
        }
        out.sort_by_key(|o| (o.start_ms, o.session.clone()));
        if out.len() > MAX_OCCURRENCES {
            out.truncate(MAX_OCCURRENCES);
        }
        Ok(out)
    }

    fn ms_to_utc(ms: u64) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(ms.min(i64::MAX as u64) as i64)
            .single()
            .unwrap_or_default()
    }

    fn local(tz: Tz, wall: NaiveDateTime) -> CalendarDateTime {
        CalendarDateTime::WithTimezone {
            date_time: wall,
            tzid: tz.name().to_string(),
        }
    }

    /// Write sessions as an iCalendar file: one `VEVENT` per session (UID
    /// `<id>@studyhall`), with its `RRULE`, an `EXDATE` per cancelled occurrence and a
    /// `VEVENT` with `RECURRENCE-ID` per moved one.
    pub fn to_ics(sessions: &[StudySession], calendar_name: &str) -> String {
        let mut calendar = Calendar::new();
        calendar.name(calendar_name);
        for session in sessions {
            let draft = &session.draft;
            let (Ok(tz), Ok(start)) = (parse_tz(&draft.tz), parse_wall(&draft.start)) else {
                continue;
            };
            let uid = format!("{}@studyhall", session.id);
            let length = Duration::minutes(i64::from(draft.minutes));
            let mut event = Event::new();
            event
                .uid(&uid)
                .summary(&draft.title)
                .starts(local(tz, start))
                .ends(local(tz, start + length));
            if let Some(rule) = &draft.rrule {
                event.add_property("RRULE", rule.as_str());
            }
            for change in draft.changes.iter().filter(|c| c.moved_to.is_none()) {
                if let Ok(wall) = parse_wall(&change.occurrence) {
                    event.append_multi_property(
                        Property::new("EXDATE", wall.format(ICS_LOCAL).to_string())
                            .add_parameter("TZID", tz.name())
                            .done(),
                    );
                }
            }
            calendar.push(event.done());
            for change in &draft.changes {
                let (Some(to), Ok(own)) = (&change.moved_to, parse_wall(&change.occurrence)) else {
                    continue;
                };
                let Ok(to) = parse_wall(to) else { continue };
                let mut moved = Event::new();
                moved
                    .uid(&uid)
                    .summary(&draft.title)
                    .starts(local(tz, to))
                    .ends(local(tz, to + length))
                    .append_property(
                        Property::new("RECURRENCE-ID", own.format(ICS_LOCAL).to_string())
                            .add_parameter("TZID", tz.name())
                            .done(),
                    );
                calendar.push(moved.done());
            }
        }
        calendar.done().to_string()
    }

    /// What an `.ics` import found: sessions to add (with the file's UIDs), and what was
    /// left out, each with why.
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct Imported {
        pub sessions: Vec<(String, SessionDraft)>,
        pub skipped: Vec<String>,
    }

    /// The wall-clock time and zone of an event's date-time; `floating_tz` for times
    /// without one.
    fn wall_of(when: &DatePerhapsTime, floating_tz: Tz) -> Result<(NaiveDateTime, Tz), String> {
        match when {
            DatePerhapsTime::Date(_) => Err("all-day events are not study sessions".into()),
            DatePerhapsTime::DateTime(CalendarDateTime::Floating(wall)) => Ok((*wall, floating_tz)),
            DatePerhapsTime::DateTime(CalendarDateTime::Utc(at)) => Ok((at.naive_utc(), Tz::UTC)),
            DatePerhapsTime::DateTime(CalendarDateTime::WithTimezone { date_time, tzid }) => {
                let tz = parse_tz(tzid).map_err(|e| e.0)?;
                Ok((*date_time, tz))
            }
        }
    }

    fn property_wall(property: &Property) -> Option<NaiveDateTime> {
        let value = property.value();
        NaiveDateTime::parse_from_str(value.trim_end_matches('Z'), ICS_LOCAL).ok()
    }

    /// Read sessions from an `.ics` file of at most [`MAX_ICS_BYTES`] bytes, taking at
    /// most [`MAX_ICS_EVENTS`] events. Times without a zone are read in `floating_tz`.
    /// Events that are not sessions (all-day, too long, unreadable) are skipped and said.
    pub fn from_ics(text: &str, floating_tz: &str) -> Result<Imported, ScheduleError> {
        if text.len() > MAX_ICS_BYTES {
            return Err(fail(format!(
                "the file is {} KiB; an import takes at most {} KiB",
                text.len().div_ceil(1024),
                MAX_ICS_BYTES / 1024
            )));
        }
        let floating_tz = parse_tz(floating_tz)?;
        let calendar = Calendar::from_str(text)
            .map_err(|e| fail(format!("not an iCalendar file: {}", first_line(&e))))?;
        let events: Vec<&Event> = calendar.events().collect();
        if events.is_empty() {
            return Err(fail("the file has no events"));
        }
        if events.len() > MAX_ICS_EVENTS {
            return Err(fail(format!(
                "the file has {} events; an import takes at most {MAX_ICS_EVENTS}",
                events.len()
            )));
        }
        let mut out = Imported::default();
        let mut by_uid: HashMap<String, usize> = HashMap::new();
        let mut overrides = Vec::new();
        for (n, event) in events.iter().enumerate() {
            let label = event
                .get_summary()
                .map(|s| format!("{s:?}"))
                .unwrap_or_else(|| format!("event {}", n + 1));
            if event.properties().contains_key("RECURRENCE-ID") {
                overrides.push((label, *event));
                continue;
            }
            match event_draft(event, floating_tz) {
                Ok(draft) => {
                    let uid = event
                        .get_uid()
                        .map(str::to_string)
                        .unwrap_or_else(|| format!("event-{n}"));
                    by_uid.insert(uid.clone(), out.sessions.len());
                    out.sessions.push((uid, draft));
                }
                Err(why) => out.skipped.push(format!("{label}: {why}")),
            }
        }
        for (label, event) in overrides {
            let Some(&at) = event.get_uid().and_then(|u| by_uid.get(u)) else {
                out.skipped.push(format!(
                    "{label}: a changed occurrence of an event not in the file"
                ));
                continue;
            };
            let draft = &mut out.sessions[at].1;
            let tz = parse_tz(&draft.tz)?;
            // A RECURRENCE-ID in UTC (`Z`) or another zone is named in the session's.
            let own = event.properties().get("RECURRENCE-ID").and_then(|p| {
                let wall = property_wall(p)?;
                let from = if p.value().ends_with('Z') {
                    Tz::UTC
                } else {
                    p.params()
                        .get("TZID")
                        .and_then(|z| parse_tz(z.value()).ok())
                        .unwrap_or(tz)
                };
                Some(resolve(from, wall).with_timezone(&tz).naive_local())
            });
            let moved = event.get_start().map(|s| wall_of(&s, tz));
            match (own, moved) {
                (Some(own), Some(Ok((to, to_tz)))) => {
                    let to = resolve(to_tz, to).with_timezone(&tz).naive_local();
                    draft.changes.push(OccurrenceChange {
                        occurrence: own.format(WALL).to_string(),
                        moved_to: Some(to.format(WALL).to_string()),
                    });
                }
                _ => out.skipped.push(format!(
                    "{label}: a changed occurrence without readable times"
                )),
            }
        }
        // Keep only the sessions that pass every rule once their changes are in.
        let mut kept = Vec::new();
        for (uid, draft) in out.sessions {
            match validate(&draft) {
                Ok(()) => kept.push((uid, draft)),
                Err(e) => out.skipped.push(format!("{:?}: {e}", draft.title)),
            }
        }
        out.sessions = kept;
        Ok(out)
    }

    fn first_line(e: &impl std::fmt::Display) -> String {
        e.to_string()
            .lines()
            .next()
            .unwrap_or("")
            .chars()
            .take(200)
            .collect()
    }

    fn event_draft(event: &Event, floating_tz: Tz) -> Result<SessionDraft, String> {
        let start = event.get_start().ok_or("it has no start")?;
        let (wall, tz) = wall_of(&start, floating_tz)?;
        let minutes = match event.get_end() {
            Some(end) => {
                let (end_wall, end_tz) = wall_of(&end, tz)?;
                let from = resolve(tz, wall).with_timezone(&Utc);
                let to = resolve(end_tz, end_wall).with_timezone(&Utc);
                (to - from).num_minutes()
            }
            None => match event.property_value("DURATION") {
                Some(d) => parse_ics_duration(d).ok_or("its DURATION is not readable")?,
                None => return Err("it has no end or duration".into()),
            },
        };
        if minutes < i64::from(MIN_MINUTES) || minutes > i64::from(MAX_MINUTES) {
            return Err(format!(
                "it lasts {minutes} minutes; a session lasts {MIN_MINUTES} to {MAX_MINUTES}"
            ));
        }
        let title: String = event
            .get_summary()
            .unwrap_or("Study session")
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_TITLE_CHARS)
            .collect();
        let title = if title.trim().is_empty() {
            "Study session".to_string()
        } else {
            title.trim().to_string()
        };
        let mut changes = Vec::new();
        if let Some(exdates) = event.multi_properties().get("EXDATE") {
            for property in exdates {
                for value in property.value().split(',') {
                    let Ok(at) =
                        NaiveDateTime::parse_from_str(value.trim_end_matches('Z'), ICS_LOCAL)
                    else {
                        continue;
                    };
                    let at = if value.ends_with('Z') {
                        resolve(Tz::UTC, at).with_timezone(&tz).naive_local()
                    } else {
                        at
                    };
                    changes.push(OccurrenceChange {
                        occurrence: at.format(WALL).to_string(),
                        moved_to: None,
                    });
                }
            }
        }
        Ok(SessionDraft {
            title,
            start: wall.format(WALL).to_string(),
            tz: tz.name().to_string(),
            minutes: minutes as u32,
            rrule: event.property_value("RRULE").map(str::to_string),
            changes,
        })
    }

    /// Minutes of an iCalendar duration such as `PT1H30M` or `P1D` (weeks, days, hours,
    /// minutes; seconds dropped).
    fn parse_ics_duration(text: &str) -> Option<i64> {
        let rest = text.trim().strip_prefix('P')?;
        let (mut minutes, mut number, mut in_time) = (0i64, String::new(), false);
        for c in rest.chars() {
            match c {
                'T' => in_time = true,
                '0'..='9' => number.push(c),
                unit => {
                    let n: i64 = number.parse().ok()?;
                    number.clear();
                    minutes += match (unit, in_time) {
                        ('W', false) => n * 7 * 1440,
                        ('D', false) => n * 1440,
                        ('H', true) => n * 60,
                        ('M', true) => n,
                        ('S', true) => 0,
                        _ => return None,
                    };
                }
            }
        }
        number.is_empty().then_some(minutes)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn weekly(start: &str, tz: &str) -> StudySession {
            StudySession {
                id: "0000000a".into(),
                by: String::new(),
                draft: SessionDraft {
                    title: "Algebra".into(),
                    start: start.into(),
                    tz: tz.into(),
                    minutes: 90,
                    rrule: Some("FREQ=WEEKLY;BYDAY=SA".into()),
                    changes: vec![],
                },
            }
        }

        fn ms(text: &str) -> u64 {
            DateTime::parse_from_rfc3339(text)
                .unwrap()
                .timestamp_millis() as u64
        }

        #[test]
        fn a_weekly_session_keeps_its_local_time_across_the_autumn_change() {
            // Europe/Berlin leaves summer time on Sunday 25 October 2026.
            let session = weekly("2026-10-17T18:00", "Europe/Berlin");
            let got = expand(
                &session,
                ms("2026-10-10T00:00:00Z"),
                ms("2026-11-08T00:00:00Z"),
            )
            .unwrap();
            let starts: Vec<String> = got
                .iter()
                .map(|o| ms_to_utc(o.start_ms).format("%m-%d %H:%M").to_string())
                .collect();
            // 18:00 CEST is 16:00 UTC; 18:00 CET is 17:00 UTC.
            assert_eq!(
                starts,
                vec!["10-17 16:00", "10-24 16:00", "10-31 17:00", "11-07 17:00"]
            );
            assert!(got.iter().all(|o| o.end_ms - o.start_ms == 90 * 60_000));
        }

        #[test]
        fn across_the_spring_change_in_new_york_too() {
            // America/New_York starts summer time on Sunday 8 March 2026.
            let mut session = weekly("2026-03-01T09:30", "America/New_York");
            session.draft.rrule = Some("FREQ=WEEKLY;COUNT=3".into());
            let got = expand(
                &session,
                ms("2026-02-01T00:00:00Z"),
                ms("2026-04-01T00:00:00Z"),
            )
            .unwrap();
            let hours: Vec<u32> = got
                .iter()
                .map(|o| chrono::Timelike::hour(&ms_to_utc(o.start_ms)))
                .collect();
            assert_eq!(hours, vec![14, 13, 13], "09:30 EST, then 09:30 EDT");
        }

        #[test]
        fn cancelled_and_moved_occurrences() {
            let mut session = weekly("2026-12-05T18:00", "UTC");
            session.draft.changes = vec![
                OccurrenceChange {
                    occurrence: "2026-12-12T18:00".into(),
                    moved_to: None,
                },
                OccurrenceChange {
                    occurrence: "2026-12-19T18:00".into(),
                    moved_to: Some("2026-12-20T10:00".into()),
                },
            ];
            let got = expand(
                &session,
                ms("2026-12-01T00:00:00Z"),
                ms("2026-12-31T00:00:00Z"),
            )
            .unwrap();
            let seen: Vec<(String, bool)> = got
                .iter()
                .map(|o| {
                    (
                        ms_to_utc(o.start_ms).format("%d %H:%M").to_string(),
                        o.moved,
                    )
                })
                .collect();
            assert_eq!(
                seen,
                vec![
                    ("05 18:00".into(), false),
                    ("20 10:00".into(), true),
                    ("26 18:00".into(), false)
                ]
            );
            assert_eq!(got[1].occurrence, "2026-12-19T18:00");
        }

        #[test]
        fn windows_and_rules_are_bounded() {
            let session = weekly("2026-12-05T18:00", "UTC");
            assert!(expand(&session, 0, (MAX_WINDOW_DAYS + 1) * 86_400_000).is_err());
            assert!(expand(&session, 10, 5).is_err());
            let mut daily = weekly("2026-01-01T07:00", "UTC");
            daily.draft.rrule = Some("FREQ=DAILY".into());
            let got = expand(
                &daily,
                ms("2026-01-01T00:00:00Z"),
                ms("2027-01-01T00:00:00Z"),
            )
            .unwrap();
            assert_eq!(got.len(), 365);
            let bad = |f: &dyn Fn(&mut SessionDraft)| {
                let mut d = weekly("2026-12-05T18:00", "UTC").draft;
                f(&mut d);
                validate(&d).unwrap_err().0
            };
            assert!(bad(&|d| d.rrule = Some("FREQ=MINUTELY".into())).contains("at most daily"));
            assert!(bad(&|d| d.rrule = Some("FREQ=DAILY;BYHOUR=1,2,3".into())).contains("BYHOUR"));
            assert!(bad(&|d| d.rrule = Some("FREQ=WEEKLY;BYDAY=XX".into())).contains("recurrence"));
            assert!(bad(&|d| d.rrule = Some("x".repeat(301))).contains("300 bytes"));
            assert!(bad(&|d| d.tz = "Mars/Olympus".into()).contains("time zone"));
            assert!(bad(&|d| d.start = "tomorrow".into()).contains("2026-12-07T18:00"));
            assert!(bad(&|d| d.minutes = 2).contains("5 to 720"));
            assert!(bad(&|d| d.title = " ".into()).contains("title"));
            assert!(bad(&|d| {
                d.rrule = None;
                d.changes = vec![OccurrenceChange {
                    occurrence: "2026-12-05T18:00".into(),
                    moved_to: None,
                }]
            })
            .contains("only a recurring"));
        }

        #[test]
        fn ics_round_trip_keeps_every_field() {
            let mut session = weekly("2026-10-17T18:00", "Europe/Berlin");
            session.draft.title = "Algebra; week \"one\", again".into();
            session.draft.changes = vec![
                OccurrenceChange {
                    occurrence: "2026-10-24T18:00".into(),
                    moved_to: None,
                },
                OccurrenceChange {
                    occurrence: "2026-10-31T18:00".into(),
                    moved_to: Some("2026-11-01T09:15".into()),
                },
            ];
            let mut single = weekly("2026-12-24T08:00", "America/New_York");
            single.id = "0000000b".into();
            single.draft.rrule = None;
            single.draft.minutes = 45;
            let text = to_ics(&[session.clone(), single.clone()], "Studyhall");
            assert!(text.contains("BEGIN:VCALENDAR") && text.contains("RECURRENCE-ID"));
            let back = from_ics(&text, "UTC").unwrap();
            assert!(back.skipped.is_empty(), "{:?}", back.skipped);
            assert_eq!(
                back.sessions,
                vec![
                    ("0000000a@studyhall".to_string(), session.draft),
                    ("0000000b@studyhall".to_string(), single.draft)
                ]
            );
        }

        #[test]
        fn imports_are_capped_and_say_what_they_skip() {
            let big = "x".repeat(MAX_ICS_BYTES + 1);
            assert!(from_ics(&big, "UTC")
                .unwrap_err()
                .0
                .contains("at most 256 KiB"));
            assert!(from_ics("hello", "UTC").is_err());
            let mut many = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n");
            for i in 0..=MAX_ICS_EVENTS {
                many.push_str(&format!(
                    "BEGIN:VEVENT\r\nUID:{i}\r\nDTSTART:20261205T180000Z\r\nDURATION:PT1H\r\nEND:VEVENT\r\n"
                ));
            }
            many.push_str("END:VCALENDAR\r\n");
            assert!(from_ics(&many, "UTC")
                .unwrap_err()
                .0
                .contains("at most 200"));
            let mixed = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n\
                BEGIN:VEVENT\r\nUID:a\r\nSUMMARY:Holiday\r\nDTSTART;VALUE=DATE:20261224\r\nEND:VEVENT\r\n\
                BEGIN:VEVENT\r\nUID:b\r\nSUMMARY:Marathon\r\nDTSTART:20261205T080000Z\r\nDURATION:P1D\r\nEND:VEVENT\r\n\
                BEGIN:VEVENT\r\nUID:c\r\nSUMMARY:Reading\r\nDTSTART:20261205T180000\r\nDURATION:PT1H30M\r\nRRULE:FREQ=DAILY;COUNT=3\r\nEND:VEVENT\r\n\
                END:VCALENDAR\r\n";
            let got = from_ics(mixed, "Europe/Berlin").unwrap();
            assert_eq!(got.sessions.len(), 1);
            let (_, reading) = &got.sessions[0];
            assert_eq!(
                (reading.start.as_str(), reading.tz.as_str(), reading.minutes),
                ("2026-12-05T18:00", "Europe/Berlin", 90)
            );
            assert_eq!(got.skipped.len(), 2, "{:?}", got.skipped);
            assert!(got.skipped[0].contains("all-day"));
            assert!(got.skipped[1].contains("1440 minutes"));
        }
    }
}
