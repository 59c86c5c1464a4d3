//! The focus timer: a room studies to one clock (pomodoro). The relay keeps the timer's
//! state and moves it from phase to phase; clients show the time left, correcting for
//! their clock's offset from the relay's (`pong.time`).
//!
//! Times are the relay's clock, in ms since the Unix epoch. While a phase runs, its end
//! is `ends_at`; while it is paused, what is left is `remaining_ms`.

use serde::{Deserialize, Serialize};

/// Phases of the timer, in the order a round goes through them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Focus,
    ShortBreak,
    LongBreak,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Focus => "focus",
            Phase::ShortBreak => "short_break",
            Phase::LongBreak => "long_break",
        }
    }
}

/// Lengths of the phases, and how many focus rounds come before a long break.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TimerSettings {
    /// Seconds of one focus phase.
    pub focus_secs: u32,
    /// Seconds of a short break (after each focus round but the last).
    pub short_break_secs: u32,
    /// Seconds of the long break (after the last round; then round 1 starts again).
    pub long_break_secs: u32,
    /// Focus rounds before the long break.
    pub rounds: u32,
}

impl Default for TimerSettings {
    /// 25 minutes of focus, 5-minute breaks, a 15-minute break after 4 rounds.
    fn default() -> Self {
        TimerSettings {
            focus_secs: 25 * 60,
            short_break_secs: 5 * 60,
            long_break_secs: 15 * 60,
            rounds: 4,
        }
    }
}

/// The allowed range of one setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub field: &'static str,
    pub min: u32,
    pub max: u32,
    /// The unit the range is told in (`"s"` or `""`).
    pub unit: &'static str,
}

impl TimerSettings {
    /// Every setting's range: phases from one minute; focus up to 4 hours, a short break
    /// up to 1 hour, a long break up to 2 hours; 1 to 12 rounds.
    pub const RANGES: [Range; 4] = [
        Range {
            field: "focus_secs",
            min: 60,
            max: 4 * 3600,
            unit: "s",
        },
        Range {
            field: "short_break_secs",
            min: 60,
            max: 3600,
            unit: "s",
        },
        Range {
            field: "long_break_secs",
            min: 60,
            max: 2 * 3600,
            unit: "s",
        },
        Range {
            field: "rounds",
            min: 1,
            max: 12,
            unit: "",
        },
    ];

    fn values(&self) -> [u32; 4] {
        [
            self.focus_secs,
            self.short_break_secs,
            self.long_break_secs,
            self.rounds,
        ]
    }

    /// Check every setting against [`TimerSettings::RANGES`]; the error names the first
    /// one out of range and its range.
    pub fn validate(&self) -> Result<(), String> {
        for (range, value) in Self::RANGES.iter().zip(self.values()) {
            if value < range.min || value > range.max {
                return Err(format!(
                    "{} must be between {}{unit} and {}{unit} (got {value}{unit})",
                    range.field,
                    range.min,
                    range.max,
                    unit = range.unit
                ));
            }
        }
        Ok(())
    }

    /// Length of `phase` in ms.
    pub fn phase_ms(&self, phase: Phase) -> u64 {
        1000 * u64::from(match phase {
            Phase::Focus => self.focus_secs,
            Phase::ShortBreak => self.short_break_secs,
            Phase::LongBreak => self.long_break_secs,
        })
    }
}

/// A running (or paused) timer's current phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TimerRun {
    pub phase: Phase,
    /// The focus round this phase belongs to, from 1 to `settings.rounds` (a break
    /// belongs to the round before it).
    pub round: u32,
    /// Length of this phase, ms.
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub phase_ms: u64,
    /// When this phase ends (relay clock, ms since the epoch); `null` while paused.
    #[cfg_attr(feature = "specta", specta(type = Option<f64>))]
    pub ends_at: Option<u64>,
    /// Ms left in this phase: exact while paused; while running, what was left at the
    /// timer's `now`.
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub remaining_ms: u64,
    pub paused: bool,
}

impl TimerRun {
    /// Ms left at relay time `now_ms`.
    pub fn remaining_at(&self, now_ms: u64) -> u64 {
        match self.ends_at {
            Some(end) if !self.paused => end.saturating_sub(now_ms),
            _ => self.remaining_ms,
        }
    }
}

/// The whole state of a room's timer, as every change sends it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TimerState {
    pub settings: TimerSettings,
    /// The current phase; `null` when the timer is stopped.
    #[serde(default)]
    pub run: Option<TimerRun>,
    /// Whether everyone may start, pause, resume, skip and stop it (else only hosts).
    #[serde(default)]
    pub anyone_controls: bool,
    /// Whether clients hold back chat notifications during focus phases.
    #[serde(default)]
    pub quiet_during_focus: bool,
    /// Focus phases this room has completed since the timer was started.
    #[serde(default)]
    pub focus_completed: u32,
    /// The relay's clock when this state was sent (ms since the epoch).
    #[cfg_attr(feature = "specta", specta(type = f64))]
    #[serde(default)]
    pub now: u64,
}

/// Requests of the focus timer. Starting, pausing, resuming, skipping and stopping need
/// the `host` grant unless the host allowed everyone (`anyone_controls`); changing the
/// options always needs `host`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TimerRequest {
    /// Start at round 1's focus phase (restarting a running timer), with these settings
    /// or, when absent, the room's current ones. Only a host may start with settings
    /// other than the current ones.
    TimerStart {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        settings: Option<TimerSettings>,
    },
    /// Pause the running phase (no-op when paused).
    TimerPause,
    /// Resume a paused phase (no-op when running).
    TimerResume,
    /// End the current phase now and start the next.
    TimerSkip,
    /// Stop the timer.
    TimerStop,
    /// Change settings (taking effect from the next phase when running) or options.
    /// Absent fields stay as they are. Needs `host`.
    TimerOptions {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        settings: Option<TimerSettings>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        anyone_controls: Option<bool>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        quiet_during_focus: Option<bool>,
    },
}

impl TimerRequest {
    pub const TYPES: &'static [&'static str] = &[
        "timer_start",
        "timer_pause",
        "timer_resume",
        "timer_skip",
        "timer_stop",
        "timer_options",
    ];

    pub fn kind(&self) -> &'static str {
        match self {
            TimerRequest::TimerStart { .. } => "timer_start",
            TimerRequest::TimerPause => "timer_pause",
            TimerRequest::TimerResume => "timer_resume",
            TimerRequest::TimerSkip => "timer_skip",
            TimerRequest::TimerStop => "timer_stop",
            TimerRequest::TimerOptions { .. } => "timer_options",
        }
    }
}

/// What changed the timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum TimerChange {
    Started,
    Paused,
    Resumed,
    /// Someone ended the phase early; the next one began.
    Skipped,
    Stopped,
    /// The phase ran out and the next one began (sent by the relay, without `by`).
    PhaseEnded,
    /// Settings or options changed.
    Options,
}

impl TimerChange {
    /// Whether a new phase began with this change (clients chime).
    pub fn new_phase(self) -> bool {
        matches!(
            self,
            TimerChange::Started | TimerChange::Skipped | TimerChange::PhaseEnded
        )
    }
}

/// Events of the focus timer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TimerEvent {
    /// The timer changed: its whole state. Sent to everyone in the room.
    Timer {
        timer: TimerState,
        change: TimerChange,
        /// Who changed it (absent when the relay did: a phase ran out).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<String>,
    },
}

impl TimerEvent {
    pub const TYPES: &'static [&'static str] = &["timer"];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_out_of_range_name_the_field_and_range() {
        assert!(TimerSettings::default().validate().is_ok());
        let zero = TimerSettings {
            focus_secs: 0,
            ..Default::default()
        };
        assert_eq!(
            zero.validate().unwrap_err(),
            "focus_secs must be between 60s and 14400s (got 0s)"
        );
        let ten_hours = TimerSettings {
            focus_secs: 36_000,
            ..Default::default()
        };
        assert!(ten_hours.validate().unwrap_err().contains("14400s"));
        let rounds = TimerSettings {
            rounds: 1000,
            ..Default::default()
        };
        assert_eq!(
            rounds.validate().unwrap_err(),
            "rounds must be between 1 and 12 (got 1000)"
        );
    }

    #[test]
    fn remaining_counts_down_only_while_running() {
        let run = TimerRun {
            phase: Phase::Focus,
            round: 1,
            phase_ms: 60_000,
            ends_at: Some(100_000),
            remaining_ms: 60_000,
            paused: false,
        };
        assert_eq!(run.remaining_at(70_000), 30_000);
        assert_eq!(run.remaining_at(200_000), 0);
        let paused = TimerRun {
            ends_at: None,
            paused: true,
            remaining_ms: 12_000,
            ..run
        };
        assert_eq!(paused.remaining_at(999_999), 12_000);
    }
}
