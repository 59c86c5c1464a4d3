//! The focus timer from a participant's side: start, pause, resume, skip and stop it
//! (hosts, or everyone when a host allows it), the room's timer as the relay last sent
//! it, and the offset of this machine's clock from the relay's, so the time left shown
//! here matches everyone else's.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use studyhall_protocol::{
    ClientMessage, Phase, TimerChange, TimerEvent, TimerRequest, TimerRun, TimerSettings,
    TimerState,
};

use crate::session::{RoomSession, SessionError};

impl RoomSession {
    /// Start at round 1's focus (restarting a running timer), with `settings` or the
    /// room's current ones.
    pub async fn timer_start(&self, settings: Option<TimerSettings>) -> Result<(), SessionError> {
        self.acked(TimerRequest::TimerStart { settings }.into())
            .await
    }

    pub async fn timer_pause(&self) -> Result<(), SessionError> {
        self.acked(TimerRequest::TimerPause.into()).await
    }

    pub async fn timer_resume(&self) -> Result<(), SessionError> {
        self.acked(TimerRequest::TimerResume.into()).await
    }

    /// End the current phase now and begin the next.
    pub async fn timer_skip(&self) -> Result<(), SessionError> {
        self.acked(TimerRequest::TimerSkip.into()).await
    }

    pub async fn timer_stop(&self) -> Result<(), SessionError> {
        self.acked(TimerRequest::TimerStop.into()).await
    }

    /// Host only: change settings (from the next phase on) and options.
    pub async fn timer_options(
        &self,
        settings: Option<TimerSettings>,
        anyone_controls: Option<bool>,
        quiet_during_focus: Option<bool>,
    ) -> Result<(), SessionError> {
        self.acked(
            TimerRequest::TimerOptions {
                settings,
                anyone_controls,
                quiet_during_focus,
            }
            .into(),
        )
        .await
    }

    /// How far the relay's clock is ahead of this machine's, in ms: `samples` pings,
    /// keeping the one with the shortest round trip (its midpoint is the surest).
    pub async fn relay_clock_offset(&self, samples: usize) -> Result<i64, SessionError> {
        let mut sync = ClockSync::default();
        for nonce in 0..samples.max(1) as u64 {
            sync.sent(nonce, local_ms());
            if let Some(time) = self.ping().await? {
                sync.answered(nonce, time, local_ms());
            }
        }
        sync.offset().ok_or(SessionError::Refused {
            code: studyhall_protocol::ErrorCode::Internal,
            message: "the relay does not tell its clock (pong without time)".into(),
        })
    }
}

/// This machine's clock, ms since the Unix epoch.
pub fn local_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Works out the relay clock's offset from ping round trips.
#[derive(Debug, Clone, Default)]
pub struct ClockSync {
    sent: Vec<(u64, u64)>,
    /// `(round trip, offset)` of the best answer so far.
    best: Option<(u64, i64)>,
}

impl ClockSync {
    /// A ping with `nonce` left at local time `at`.
    pub fn sent(&mut self, nonce: u64, at: u64) {
        self.sent.retain(|(n, _)| *n != nonce);
        self.sent.push((nonce, at));
        if self.sent.len() > 32 {
            self.sent.remove(0);
        }
    }

    /// Its `pong` came back at local time `at`, saying the relay's clock read `time`.
    pub fn answered(&mut self, nonce: u64, time: u64, at: u64) {
        let Some(i) = self.sent.iter().position(|(n, _)| *n == nonce) else {
            return;
        };
        let (_, left) = self.sent.remove(i);
        let rtt = at.saturating_sub(left);
        let offset = time as i64 - (left + rtt / 2) as i64;
        if self.best.is_none_or(|(best, _)| rtt < best) {
            self.best = Some((rtt, offset));
        }
    }

    /// Relay clock minus local clock, ms.
    pub fn offset(&self) -> Option<i64> {
        self.best.map(|(_, o)| o)
    }
}

/// The room's timer as this client knows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoomTimer(pub TimerState);

impl RoomTimer {
    pub fn apply(&mut self, event: &TimerEvent) -> bool {
        match event {
            // An event older than the state held (queued before a rejoin's snapshot).
            TimerEvent::Timer { timer, .. } if timer.now < self.0.now => false,
            TimerEvent::Timer { timer, .. } => {
                let changed = self.0 != *timer;
                self.0 = timer.clone();
                changed
            }
        }
    }

    /// The current phase and the ms left in it at relay time `relay_now`.
    pub fn at(&self, relay_now: u64) -> Option<(TimerRun, u64)> {
        self.0.run.map(|run| (run, run.remaining_at(relay_now)))
    }
}

fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::Focus => "focus",
        Phase::ShortBreak => "short break",
        Phase::LongBreak => "long break",
    }
}

/// `timer: focus, round 1 of 4, 24:59 left` (or `stopped`), with the time left at
/// relay time `relay_now`.
pub fn status(state: &TimerState, relay_now: u64) -> String {
    match state.run {
        None => "timer: stopped".into(),
        Some(run) => {
            let left = run.remaining_at(relay_now);
            // Whole seconds rounded up, as a countdown shows them (0:00 only at the end).
            let secs = Duration::from_millis(left).as_secs() + u64::from(left % 1000 != 0);
            format!(
                "timer: {}, round {} of {}, {}:{:02} left ({left} ms){}",
                phase_name(run.phase),
                run.round,
                state.settings.rounds,
                secs / 60,
                secs % 60,
                if run.paused { ", paused" } else { "" }
            )
        }
    }
}

pub fn describe(event: &TimerEvent) -> String {
    match event {
        TimerEvent::Timer { timer, change, by } => {
            let what = match change {
                TimerChange::Started => "started",
                TimerChange::Paused => "paused",
                TimerChange::Resumed => "resumed",
                TimerChange::Skipped => "skipped ahead",
                TimerChange::Stopped => "stopped",
                TimerChange::PhaseEnded => "moved on",
                TimerChange::Options => "options changed",
            };
            let by = by
                .as_deref()
                .map(|b| format!(" by {b}"))
                .unwrap_or_default();
            format!("{} [{what}{by}]", status(timer, timer.now))
        }
    }
}

/// Command-line options of the focus timer.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TimerArgs {
    /// Start the room's focus timer once joined (needs the host grant unless the host
    /// allowed everyone).
    #[arg(long)]
    pub timer_start: bool,
    /// With --timer-start: minutes of focus (default 25).
    #[arg(long, value_name = "MIN")]
    pub timer_focus: Option<u32>,
    /// With --timer-start: minutes of a short break (default 5).
    #[arg(long, value_name = "MIN")]
    pub timer_break: Option<u32>,
    /// With --timer-start: minutes of the long break (default 15).
    #[arg(long, value_name = "MIN")]
    pub timer_long_break: Option<u32>,
    /// With --timer-start: focus rounds before the long break (default 4).
    #[arg(long, value_name = "N")]
    pub timer_rounds: Option<u32>,
}

impl TimerArgs {
    fn settings(&self) -> Option<TimerSettings> {
        let d = TimerSettings::default();
        let any = self.timer_focus.is_some()
            || self.timer_break.is_some()
            || self.timer_long_break.is_some()
            || self.timer_rounds.is_some();
        any.then(|| TimerSettings {
            focus_secs: self
                .timer_focus
                .map_or(d.focus_secs, |m| m.saturating_mul(60)),
            short_break_secs: self
                .timer_break
                .map_or(d.short_break_secs, |m| m.saturating_mul(60)),
            long_break_secs: self
                .timer_long_break
                .map_or(d.long_break_secs, |m| m.saturating_mul(60)),
            rounds: self.timer_rounds.unwrap_or(d.rounds),
        })
    }

    pub fn requests(&self) -> Vec<ClientMessage> {
        if self.timer_start {
            vec![TimerRequest::TimerStart {
                settings: self.settings(),
            }
            .into()]
        } else {
            vec![]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offset_comes_from_the_quickest_round_trip() {
        let mut sync = ClockSync::default();
        assert_eq!(sync.offset(), None);
        // Relay 5 s ahead; a slow answer (asymmetric delay) first, then a quick one.
        sync.sent(1, 1_000);
        sync.answered(1, 6_400, 1_600);
        sync.sent(2, 2_000);
        sync.answered(2, 7_010, 2_020);
        assert_eq!(sync.offset(), Some(5_000));
        sync.answered(9, 0, 3_000);
        assert_eq!(sync.offset(), Some(5_000), "unknown answers are ignored");
    }

    #[test]
    fn status_tells_phase_round_and_time_left() {
        let mut state = TimerState::default();
        assert_eq!(status(&state, 0), "timer: stopped");
        state.run = Some(TimerRun {
            phase: Phase::Focus,
            round: 2,
            phase_ms: 1_500_000,
            ends_at: Some(100_000),
            remaining_ms: 0,
            paused: false,
        });
        assert_eq!(
            status(&state, 40_500),
            "timer: focus, round 2 of 4, 1:00 left (59500 ms)"
        );
        let args = TimerArgs {
            timer_start: true,
            timer_focus: Some(50),
            ..Default::default()
        };
        let requests = args.requests();
        let [ClientMessage::Feature(studyhall_protocol::FeatureRequest::Timer(
            TimerRequest::TimerStart { settings: Some(s) },
        ))] = requests.as_slice()
        else {
            panic!("expected a start with settings")
        };
        assert_eq!((s.focus_secs, s.rounds), (3000, 4));
    }
}
