//! The user's own study record, kept on this machine only (nothing is sent anywhere):
//! time spent in rooms and focus phases completed, each with its room, in a SQLite file
//! beside the settings.
//!
//! Time is counted on the monotonic clock, a step at a time ([`FLUSH_EVERY`]), each
//! step capped at [`MAX_STEP`]: a wall clock that jumps backwards or forwards only
//! changes which day a step is filed under, never how long it was, and a suspended or
//! frozen machine counts at most one capped step. Steps are written as they are
//! counted, so a crash or a killed app loses at most one step.
//!
//! A record that cannot be read is moved aside and a new one started; the app says so
//! once ([`StudySummary::notice`]).

pub mod commands;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppErrorKind};

/// File name of the study record inside the app's data directory.
pub const STUDY_DB_FILE: &str = "study.sqlite3";
/// How often time in a room is written down.
pub const FLUSH_EVERY: Duration = Duration::from_secs(20);
/// The most one step may add, whatever the clocks say.
pub const MAX_STEP: Duration = Duration::from_secs(60);
/// A day counts towards the streak with at least this much time in rooms.
pub const STREAK_MIN_SECONDS: u64 = 10 * 60;
/// The daily goal until the user sets one, in minutes.
pub const DEFAULT_GOAL_MINUTES: u32 = 120;
/// The daily goal's range, in minutes.
pub const GOAL_RANGE: (u32, u32) = (5, 16 * 60);
/// How many days back the summary reaches.
pub const SUMMARY_DAYS: i64 = 400;
/// The longest focus phase a record accepts (the relay's own limit).
const MAX_FOCUS_SECONDS: u64 = 4 * 3600;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS room_time (
    id         INTEGER PRIMARY KEY,
    room       TEXT    NOT NULL,
    title      TEXT    NOT NULL,
    day        TEXT    NOT NULL,
    started_ms INTEGER NOT NULL,
    seconds    INTEGER NOT NULL CHECK (seconds >= 0)
);
CREATE INDEX IF NOT EXISTS room_time_day ON room_time (day);
CREATE TABLE IF NOT EXISTS focus (
    id      INTEGER PRIMARY KEY,
    room    TEXT    NOT NULL,
    title   TEXT    NOT NULL,
    day     TEXT    NOT NULL,
    at_ms   INTEGER NOT NULL,
    seconds INTEGER NOT NULL CHECK (seconds >= 0)
);
CREATE INDEX IF NOT EXISTS focus_day ON focus (day);
CREATE TABLE IF NOT EXISTS prefs (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
";

/// The clocks the record reads: the monotonic one measures, the wall one only labels.
pub trait Clocks: Send + Sync {
    /// Monotonic time since some fixed point.
    fn mono(&self) -> Duration;
    /// Today in the user's time zone, `YYYY-MM-DD`.
    fn today(&self) -> String;
    /// Wall-clock ms since the Unix epoch.
    fn wall_ms(&self) -> i64;
}

/// The machine's clocks.
pub struct SystemClocks(Instant);

impl Default for SystemClocks {
    fn default() -> Self {
        SystemClocks(Instant::now())
    }
}

impl Clocks for SystemClocks {
    fn mono(&self) -> Duration {
        self.0.elapsed()
    }
    fn today(&self) -> String {
        chrono::Local::now().format("%Y-%m-%d").to_string()
    }
    fn wall_ms(&self) -> i64 {
        chrono::Utc::now().timestamp_millis()
    }
}

/// One day's totals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DayTotal {
    /// `YYYY-MM-DD`, in the user's time zone.
    pub day: String,
    /// Seconds in rooms.
    #[specta(type = u32)]
    pub seconds: f64,
    pub focus_phases: u32,
    #[specta(type = u32)]
    pub focus_seconds: f64,
}

/// One room's totals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct RoomTotal {
    pub room: String,
    pub title: String,
    #[specta(type = u32)]
    pub seconds: f64,
    pub focus_phases: u32,
}

/// What the Study page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct StudySummary {
    /// Today, `YYYY-MM-DD`, in the user's time zone.
    pub today: String,
    /// Days with any record in the last 400, oldest first.
    pub days: Vec<DayTotal>,
    /// Every room ever studied in, most time first.
    pub rooms: Vec<RoomTotal>,
    /// Today's time per room, most first.
    pub today_rooms: Vec<RoomTotal>,
    /// Days in a row, up to today (or yesterday, while today has not counted yet), with
    /// at least `streakMinSeconds` in rooms.
    pub streak_days: u32,
    pub best_streak_days: u32,
    #[specta(type = u32)]
    pub streak_min_seconds: f64,
    pub goal_minutes: u32,
    /// Set once when the record could not be read and was started afresh.
    pub notice: Option<String>,
}

/// The study record. Shared by the room side (which records) and the Study page.
pub struct Study {
    conn: Mutex<Connection>,
    clocks: Arc<dyn Clocks>,
    path: PathBuf,
    notice: Mutex<Option<String>>,
}

fn storage(e: impl std::fmt::Display) -> AppError {
    AppError::new(
        AppErrorKind::Storage,
        format!("The study record is unavailable: {e}"),
    )
}

fn open_checked(path: &Path) -> Result<Connection, String> {
    let conn = Connection::open(path).map_err(|e| e.to_string())?;
    let check: String = conn
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(|e| e.to_string())?;
    if check != "ok" {
        return Err(check);
    }
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(|e| e.to_string())?;
    conn.execute_batch(SCHEMA).map_err(|e| e.to_string())?;
    Ok(conn)
}

impl Study {
    /// Open the record at `path`; one that cannot be read is moved aside (to
    /// `study.sqlite3.unreadable-<ms>`) and a new one started, with a notice.
    pub fn open(path: &Path, clocks: Arc<dyn Clocks>) -> Result<Study, AppError> {
        let (conn, notice) = match open_checked(path) {
            Ok(conn) => (conn, None),
            Err(problem) => {
                let aside = path.with_file_name(format!(
                    "{}.unreadable-{}",
                    path.file_name().and_then(|n| n.to_str()).unwrap_or("study"),
                    clocks.wall_ms()
                ));
                tracing::warn!(%problem, aside = %aside.display(), "study record unreadable; starting afresh");
                let moved = std::fs::rename(path, &aside);
                for suffix in ["-wal", "-shm"] {
                    let side = PathBuf::from(format!("{}{suffix}", path.display()));
                    let _ = std::fs::rename(side, format!("{}{suffix}", aside.display()));
                }
                match moved
                    .map_err(|e| e.to_string())
                    .and_then(|()| open_checked(path))
                {
                    Ok(conn) => {
                        let notice = format!(
                            "Your study record could not be read ({problem}), so a new one was started. The old file was kept as {}.",
                            aside.display()
                        );
                        (conn, Some(notice))
                    }
                    // Nowhere to keep a record: the app still starts, recording in memory.
                    Err(second) => {
                        let conn = open_checked(Path::new(":memory:")).map_err(storage)?;
                        let notice = format!(
                            "Your study record at {} cannot be used ({problem}; {second}). Study time is counted only until the app closes.",
                            path.display()
                        );
                        (conn, Some(notice))
                    }
                }
            }
        };
        Ok(Study {
            conn: Mutex::new(conn),
            clocks,
            path: path.to_path_buf(),
            notice: Mutex::new(notice),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Start counting time in `room` (until the returned tracker is dropped).
    pub fn track(self: &Arc<Self>, room: &str, title: &str) -> Arc<Tracking> {
        Arc::new(Tracking {
            study: self.clone(),
            room: room.to_string(),
            title: title.to_string(),
            seg: Mutex::new(Segment {
                row: None,
                day: String::new(),
                last: self.clocks.mono(),
            }),
        })
    }

    /// Write down time in rooms every [`FLUSH_EVERY`] while `tracking` lives.
    pub fn spawn_flusher(tracking: &Arc<Tracking>) -> tokio::task::JoinHandle<()> {
        Self::spawn_flusher_every(tracking, FLUSH_EVERY)
    }

    fn spawn_flusher_every(
        tracking: &Arc<Tracking>,
        every: Duration,
    ) -> tokio::task::JoinHandle<()> {
        let weak: Weak<Tracking> = Arc::downgrade(tracking);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                let Some(tracking) = weak.upgrade() else {
                    return;
                };
                if let Err(e) = tracking.flush() {
                    tracing::warn!(error = %e.message, "study time not written");
                }
            }
        })
    }

    pub fn goal_minutes(&self) -> Result<u32, AppError> {
        let value: Option<String> = self
            .conn()
            .query_row(
                "SELECT value FROM prefs WHERE key = 'goal_minutes'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(storage)?;
        Ok(value
            .and_then(|v| v.parse().ok())
            .filter(|m| (GOAL_RANGE.0..=GOAL_RANGE.1).contains(m))
            .unwrap_or(DEFAULT_GOAL_MINUTES))
    }

    pub fn set_goal_minutes(&self, minutes: u32) -> Result<(), AppError> {
        if !(GOAL_RANGE.0..=GOAL_RANGE.1).contains(&minutes) {
            return Err(AppError::new(
                AppErrorKind::InvalidInput,
                format!(
                    "The daily goal must be between {} and {} minutes.",
                    GOAL_RANGE.0, GOAL_RANGE.1
                ),
            ));
        }
        self.conn()
            .execute(
                "INSERT INTO prefs (key, value) VALUES ('goal_minutes', ?1)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![minutes.to_string()],
            )
            .map_err(storage)?;
        Ok(())
    }

    pub fn summary(&self) -> Result<StudySummary, AppError> {
        let today = self.clocks.today();
        let cutoff = chrono::NaiveDate::parse_from_str(&today, "%Y-%m-%d")
            .map(|d| (d - chrono::Duration::days(SUMMARY_DAYS)).to_string())
            .unwrap_or_default();
        let (days, rooms) = self.totals(&cutoff, &today)?;
        let (streak_days, best_streak_days) = streaks(&days, &today);
        Ok(StudySummary {
            today_rooms: self.rooms_on(&today)?,
            today,
            days,
            rooms,
            streak_days,
            best_streak_days,
            streak_min_seconds: STREAK_MIN_SECONDS as f64,
            goal_minutes: self.goal_minutes()?,
            notice: self
                .notice
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
        })
    }

    /// Totals per day (from `cutoff` to `today`, oldest first: days filed under a date
    /// still to come, by a clock that was ahead, wait for it) and per room.
    fn totals(
        &self,
        cutoff: &str,
        today: &str,
    ) -> Result<(Vec<DayTotal>, Vec<RoomTotal>), AppError> {
        let conn = self.conn();
        let mut days: std::collections::BTreeMap<String, DayTotal> = Default::default();
        let mut stmt = conn
            .prepare(
                "SELECT day, SUM(seconds) FROM room_time WHERE day BETWEEN ?1 AND ?2 GROUP BY day",
            )
            .map_err(storage)?;
        let rows = stmt
            .query_map(params![cutoff, today], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })
            .map_err(storage)?;
        for row in rows {
            let (day, seconds) = row.map_err(storage)?;
            days.entry(day.clone())
                .or_insert_with(|| empty_day(day))
                .seconds = seconds.max(0) as f64;
        }
        let mut stmt = conn
            .prepare(
                "SELECT day, COUNT(*), SUM(seconds) FROM focus
                 WHERE day BETWEEN ?1 AND ?2 GROUP BY day",
            )
            .map_err(storage)?;
        let rows = stmt
            .query_map(params![cutoff, today], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })
            .map_err(storage)?;
        for row in rows {
            let (day, count, seconds) = row.map_err(storage)?;
            let entry = days.entry(day.clone()).or_insert_with(|| empty_day(day));
            entry.focus_phases = count.max(0) as u32;
            entry.focus_seconds = seconds.max(0) as f64;
        }
        let rooms = room_totals(&conn, "", "9999")?;
        Ok((days.into_values().collect(), rooms))
    }

    /// Time per room on `day` (`YYYY-MM-DD`), most first.
    pub fn rooms_on(&self, day: &str) -> Result<Vec<RoomTotal>, AppError> {
        room_totals(&self.conn(), day, day)
    }

    /// The user has seen the notice.
    pub fn dismiss_notice(&self) {
        *self.notice.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Every entry as CSV: `kind,day,room,title,started,seconds`.
    pub fn csv(&self) -> Result<String, AppError> {
        let conn = self.conn();
        let mut out = String::from("kind,day,room,title,started,seconds\n");
        let mut stmt = conn
            .prepare(
                "SELECT 'room', day, room, title, started_ms, seconds FROM room_time
                 UNION ALL
                 SELECT 'focus', day, room, title, at_ms, seconds FROM focus
                 ORDER BY 5, 1",
            )
            .map_err(storage)?;
        let rows = stmt
            .query_map([], |r| {
                Ok([
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    chrono::DateTime::from_timestamp_millis(r.get::<_, i64>(4)?)
                        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                        .unwrap_or_default(),
                    r.get::<_, i64>(5)?.to_string(),
                ])
            })
            .map_err(storage)?;
        for row in rows {
            let fields = row.map_err(storage)?;
            let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
            out.push_str(&line.join(","));
            out.push('\n');
        }
        Ok(out)
    }
}

/// Time and focus phases per room on the days from `first` to `last`, most time first.
fn room_totals(conn: &Connection, first: &str, last: &str) -> Result<Vec<RoomTotal>, AppError> {
    let mut stmt = conn
        .prepare(
            "SELECT room, MAX(title), SUM(seconds),
                    (SELECT COUNT(*) FROM focus f
                     WHERE f.room = t.room AND f.day BETWEEN ?1 AND ?2)
             FROM room_time t WHERE day BETWEEN ?1 AND ?2
             GROUP BY room ORDER BY SUM(seconds) DESC, room",
        )
        .map_err(storage)?;
    let rooms = stmt
        .query_map(params![first, last], |r| {
            Ok(RoomTotal {
                room: r.get(0)?,
                title: r.get(1)?,
                seconds: r.get::<_, i64>(2)?.max(0) as f64,
                focus_phases: r.get::<_, i64>(3)?.max(0) as u32,
            })
        })
        .map_err(storage)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(storage)?;
    Ok(rooms)
}

fn empty_day(day: String) -> DayTotal {
    DayTotal {
        day,
        seconds: 0.0,
        focus_phases: 0,
        focus_seconds: 0.0,
    }
}

/// A CSV field, quoted when it must be; a leading `= + - @` is defused so a
/// spreadsheet never runs a room title as a formula.
fn csv_field(field: &str) -> String {
    let field = if field.starts_with(['=', '+', '-', '@']) {
        format!("'{field}")
    } else {
        field.to_string()
    };
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field
    }
}

/// The current streak (ending today, or yesterday while today has not counted yet) and
/// the best one, in days with at least [`STREAK_MIN_SECONDS`].
fn streaks(days: &[DayTotal], today: &str) -> (u32, u32) {
    let counted: Vec<chrono::NaiveDate> = days
        .iter()
        .filter(|d| d.seconds >= STREAK_MIN_SECONDS as f64 && d.day.as_str() <= today)
        .filter_map(|d| chrono::NaiveDate::parse_from_str(&d.day, "%Y-%m-%d").ok())
        .collect();
    let mut best = 0;
    let mut run = 0;
    let mut prev: Option<chrono::NaiveDate> = None;
    for day in &counted {
        run = match prev {
            Some(p) if *day - p == chrono::Duration::days(1) => run + 1,
            _ => 1,
        };
        best = best.max(run);
        prev = Some(*day);
    }
    let Ok(today) = chrono::NaiveDate::parse_from_str(today, "%Y-%m-%d") else {
        return (0, best);
    };
    let current = match prev {
        Some(last) if last == today || today - last == chrono::Duration::days(1) => run,
        _ => 0,
    };
    (current, best)
}

struct Segment {
    /// The row being added to, and the day it is filed under.
    row: Option<i64>,
    day: String,
    /// The monotonic time counted up to.
    last: Duration,
}

/// Time being counted in one room.
pub struct Tracking {
    study: Arc<Study>,
    room: String,
    title: String,
    seg: Mutex<Segment>,
}

impl Tracking {
    /// Write down the time since the last step (capped at [`MAX_STEP`]).
    pub fn flush(&self) -> Result<(), AppError> {
        let clocks = &self.study.clocks;
        let mut seg = self.seg.lock().unwrap_or_else(|p| p.into_inner());
        let now = clocks.mono();
        let elapsed = now.saturating_sub(seg.last);
        let step = elapsed.min(MAX_STEP).as_secs();
        // Whole seconds are counted and the rest carries over; past the cap, the excess
        // is dropped.
        seg.last = if elapsed > MAX_STEP {
            now
        } else {
            seg.last + Duration::from_secs(step)
        };
        let today = clocks.today();
        let conn = self.study.conn();
        if seg.row.is_none() || seg.day != today {
            conn.execute(
                "INSERT INTO room_time (room, title, day, started_ms, seconds)
                 VALUES (?1, ?2, ?3, ?4, 0)",
                params![self.room, self.title, today, clocks.wall_ms()],
            )
            .map_err(storage)?;
            seg.row = Some(conn.last_insert_rowid());
            seg.day = today;
        }
        conn.execute(
            "UPDATE room_time SET seconds = seconds + ?1 WHERE id = ?2",
            params![step as i64, seg.row],
        )
        .map_err(storage)?;
        Ok(())
    }

    /// A focus phase of `seconds` ended while we were in the room.
    pub fn focus_completed(&self, seconds: u64) -> Result<(), AppError> {
        let clocks = &self.study.clocks;
        self.study
            .conn()
            .execute(
                "INSERT INTO focus (room, title, day, at_ms, seconds) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    self.room,
                    self.title,
                    clocks.today(),
                    clocks.wall_ms(),
                    seconds.min(MAX_FOCUS_SECONDS) as i64
                ],
            )
            .map_err(storage)?;
        Ok(())
    }
}

impl Drop for Tracking {
    /// Leaving the room writes down the last step.
    fn drop(&mut self) {
        if let Err(e) = self.flush() {
            tracing::warn!(error = %e.message, "study time not written");
        }
    }
}

#[cfg(test)]
mod tests;
