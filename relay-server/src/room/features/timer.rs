//! The focus timer: the room studies to one clock.
//!
//! The relay holds the authoritative state (settings, phase, when it ends, paused or
//! not) and moves it on when a phase runs out. The state is written to the room-state
//! store ([`RoomStateStore`]) on every change, so it outlives reconnects, a restart of
//! the embedded relay and, in a cluster, the node that held the room: whoever loads it
//! next catches up, phase by phase, with what the clock did meanwhile
//! ([`Machine::catch_up`]), which gives the same result as having watched it.
//!
//! Everyone gets the whole state (`timer`) on every change; a client shows the time
//! left as `ends_at` minus the relay's clock, which it learns from `pong.time`.

use std::sync::{Arc, Weak};
use std::time::Duration;

use studyhall_protocol::groups::FocusPresence;
use studyhall_protocol::{
    ClientMessage, ErrorCode, FeatureEvent, Phase, ServerMessage, TimerChange, TimerEvent,
    TimerRequest, TimerRun, TimerSettings, TimerState,
};
use tokio::sync::Mutex;

use super::{Cx, Outcome, Refused, Reply, RoomFeature, Services, Snapshot};
use crate::clock::Clock;
use crate::room::{ConnHandle, Room};
use crate::store::{RoomStateStore, ROOM_STATE_TTL};

/// The timer's key in the room-state store.
pub const STORE_KEY: &str = "timer";

/// Most phases a catch-up walks through (two weeks of one-minute phases); a timer left
/// further behind than that is stopped.
const MAX_CATCH_UP: u32 = 20_000;

pub struct Timer;

/// How many timer requests one connection may send: a burst, then this many a second.
pub const CHANGES_PER_SECOND: u32 = 2;
pub const CHANGES_BURST: u32 = 10;

/// The timer's state machine: pure, with time passed in (relay ms).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Machine {
    pub state: TimerState,
}

impl Machine {
    /// The phase after `run` under `settings`, starting at `start_ms`.
    fn next_run(settings: &TimerSettings, run: &TimerRun, start_ms: u64) -> TimerRun {
        let (phase, round) = match run.phase {
            Phase::Focus if run.round >= settings.rounds => (Phase::LongBreak, settings.rounds),
            Phase::Focus => (Phase::ShortBreak, run.round),
            Phase::ShortBreak => (Phase::Focus, (run.round + 1).min(settings.rounds)),
            Phase::LongBreak => (Phase::Focus, 1),
        };
        Self::begin(settings, phase, round, start_ms)
    }

    fn begin(settings: &TimerSettings, phase: Phase, round: u32, start_ms: u64) -> TimerRun {
        let phase_ms = settings.phase_ms(phase);
        TimerRun {
            phase,
            round,
            phase_ms,
            ends_at: Some(start_ms.saturating_add(phase_ms)),
            remaining_ms: phase_ms,
            paused: false,
        }
    }

    /// Start at round 1's focus, now.
    pub fn start(&mut self, settings: Option<TimerSettings>, now: u64) -> Result<(), Refused> {
        if let Some(settings) = settings {
            check(&settings)?;
            self.state.settings = settings;
        }
        self.state.run = Some(Self::begin(&self.state.settings, Phase::Focus, 1, now));
        self.state.focus_completed = 0;
        Ok(())
    }

    fn running(&mut self) -> Result<&mut TimerRun, Refused> {
        self.state.run.as_mut().ok_or_else(|| {
            Refused::new(
                ErrorCode::InvalidState,
                "the timer is stopped: start it first",
            )
        })
    }

    /// Pause; false when it was paused already.
    pub fn pause(&mut self, now: u64) -> Result<bool, Refused> {
        let run = self.running()?;
        if run.paused {
            return Ok(false);
        }
        run.remaining_ms = run.remaining_at(now);
        run.ends_at = None;
        run.paused = true;
        Ok(true)
    }

    /// Resume; false when it was running already.
    pub fn resume(&mut self, now: u64) -> Result<bool, Refused> {
        let run = self.running()?;
        if !run.paused {
            return Ok(false);
        }
        run.ends_at = Some(now.saturating_add(run.remaining_ms));
        run.paused = false;
        Ok(true)
    }

    /// End the current phase now (it does not count as completed) and begin the next;
    /// a paused timer stays paused, at the start of the next phase.
    pub fn skip(&mut self, now: u64) -> Result<(), Refused> {
        let settings = self.state.settings;
        let run = self.running()?;
        let mut next = Self::next_run(&settings, run, now);
        if run.paused {
            next.ends_at = None;
            next.paused = true;
        }
        *run = next;
        Ok(())
    }

    pub fn stop(&mut self) -> bool {
        self.state.run.take().is_some()
    }

    /// Change settings (from the next phase on) and options.
    pub fn options(
        &mut self,
        settings: Option<TimerSettings>,
        anyone_controls: Option<bool>,
        quiet_during_focus: Option<bool>,
    ) -> Result<(), Refused> {
        if let Some(settings) = settings {
            check(&settings)?;
            self.state.settings = settings;
        }
        if let Some(v) = anyone_controls {
            self.state.anyone_controls = v;
        }
        if let Some(v) = quiet_during_focus {
            self.state.quiet_during_focus = v;
        }
        Ok(())
    }

    /// Move through every phase that has run out by `now`, each starting when the one
    /// before ended. Returns how many ended.
    pub fn catch_up(&mut self, now: u64) -> u32 {
        let settings = self.state.settings;
        let mut ended = 0;
        while let Some(run) = self.state.run.as_mut() {
            let Some(end) = run.ends_at.filter(|_| !run.paused) else {
                break;
            };
            if now < end {
                break;
            }
            if ended >= MAX_CATCH_UP {
                self.state.run = None;
                break;
            }
            if run.phase == Phase::Focus {
                self.state.focus_completed = self.state.focus_completed.saturating_add(1);
            }
            *run = Self::next_run(&settings, run, end);
            ended += 1;
        }
        ended
    }

    /// When the current phase runs out, if it is running.
    pub fn deadline(&self) -> Option<u64> {
        self.state
            .run
            .as_ref()
            .filter(|r| !r.paused)
            .and_then(|r| r.ends_at)
    }

    /// The state as sent at `now`: `now` and the running phase's `remaining_ms` filled in.
    pub fn view(&self, now: u64) -> TimerState {
        let mut state = self.state.clone();
        state.now = now;
        if let Some(run) = state.run.as_mut() {
            run.remaining_ms = run.remaining_at(now);
        }
        state
    }
}

fn check(settings: &TimerSettings) -> Result<(), Refused> {
    settings
        .validate()
        .map_err(|m| Refused::new(ErrorCode::OutOfRange, m))
}

/// A room's timer.
#[derive(Default)]
pub struct RoomTimer {
    held: Mutex<Option<Held>>,
}

struct Held {
    machine: Machine,
    /// Bumped on every change, so a scheduled phase end that is no longer due knows.
    generation: u64,
    store: Arc<dyn RoomStateStore>,
    clock: Clock,
    /// When the stored copy was last written (relay ms), for renewing its time to live.
    saved_at: u64,
}

/// A kept timer is written again after this long without a change while its room is in
/// use, so its stored copy never runs out of time to live (a paused timer above all).
const RENEW_AFTER_MS: u64 = 3_600_000;

/// The longest a scheduled wake-up sleeps before it looks at the clock again: the
/// monotonic clock stops while the machine sleeps, the relay's clock does not.
const MAX_SLEEP: Duration = Duration::from_secs(5);

impl Held {
    async fn save(&mut self, room: &str) -> Result<(), Refused> {
        let json = serde_json::to_string(&self.machine.state)
            .map_err(|e| Refused::new(ErrorCode::Internal, e.to_string()))?;
        self.store
            .put(room, STORE_KEY, &json, ROOM_STATE_TTL)
            .await
            .map_err(|e| {
                Refused::new(
                    ErrorCode::StorageUnavailable,
                    format!("the timer could not be saved: {e}"),
                )
            })?;
        self.saved_at = self.clock.now_ms();
        Ok(())
    }

    /// Write the kept timer again when its stored copy has gone long unwritten.
    async fn renew(&mut self, room: &str) {
        let due = self.clock.now_ms().saturating_sub(self.saved_at) >= RENEW_AFTER_MS;
        if due && self.machine.state.run.is_some() {
            if let Err(e) = self.save(room).await {
                tracing::warn!(room, "timer not renewed: {e:?}");
            }
        }
    }
}

/// A stored state made sane before use: settings in range (else the defaults), a phase
/// no longer than its settings allow, and no end further away than one whole phase (the
/// state was written by a relay whose clock was ahead of this one's).
fn checked(mut state: TimerState, now: u64) -> TimerState {
    if state.settings.validate().is_err() {
        return TimerState::default();
    }
    if let Some(run) = state.run.as_mut() {
        run.round = run.round.clamp(1, state.settings.rounds);
        run.phase_ms = state.settings.phase_ms(run.phase);
        run.remaining_ms = run.remaining_ms.min(run.phase_ms);
        match run.ends_at {
            Some(end) if !run.paused => {
                run.ends_at = Some(end.min(now.saturating_add(run.phase_ms)));
            }
            _ => {
                run.ends_at = None;
                run.paused = true;
            }
        }
    }
    state
}

/// Send a timer change to everyone in `room`, and note the phase for the members'
/// presence in their groups ([`focus_of`]).
fn tell(room: &Room, state: TimerState, change: TimerChange, by: Option<&str>) {
    note_focus(room, &state);
    room.broadcast(&event(state, change, by), None);
    room.changed();
}

fn note_focus(room: &Room, state: &TimerState) {
    let focus = state.run.map(|run| FocusPresence {
        phase: run.phase,
        ends_at: if run.paused { None } else { run.ends_at },
    });
    *crate::room::lock(&room.feature::<FocusSlot>().0) = focus;
}

/// The phase of a room's timer as its members' presence shows it.
#[derive(Default)]
struct FocusSlot(std::sync::Mutex<Option<FocusPresence>>);

/// The focus phase (or break) `room`'s timer is in, as last told to the room.
pub fn focus_of(room: &Room) -> Option<FocusPresence> {
    crate::room::lock(&room.feature::<FocusSlot>().0).clone()
}

fn event(state: TimerState, change: TimerChange, by: Option<&str>) -> ServerMessage {
    ServerMessage::Feature(FeatureEvent::Timer(TimerEvent::Timer {
        timer: state,
        change,
        by: by.map(str::to_string),
    }))
}

impl RoomTimer {
    /// The held state, loaded from the store (and caught up) on first use.
    async fn load<'a>(
        &'a self,
        services: &Services,
        room: &Arc<Room>,
    ) -> Result<tokio::sync::MutexGuard<'a, Option<Held>>, Refused> {
        let mut held = self.held.lock().await;
        if held.is_none() {
            let stored = services
                .room_state
                .get(&room.name, STORE_KEY)
                .await
                .map_err(|e| {
                    Refused::new(
                        ErrorCode::StorageUnavailable,
                        format!("the timer could not be loaded: {e}"),
                    )
                })?;
            let now = services.clock.now_ms();
            let state = match stored.map(|s| serde_json::from_str::<TimerState>(&s)) {
                Some(Ok(state)) => checked(state, now),
                Some(Err(e)) => {
                    tracing::warn!(room = %room.name, "unreadable stored timer, starting afresh: {e}");
                    TimerState::default()
                }
                None => TimerState::default(),
            };
            let mut machine = Machine { state };
            machine.catch_up(now);
            let mut h = Held {
                machine,
                generation: 0,
                store: services.room_state.clone(),
                clock: services.clock.clone(),
                // The room is in use again: a kept timer renews its time to live.
                saved_at: 0,
            };
            h.renew(&room.name).await;
            schedule(room, &h);
            let state = h.machine.view(now);
            if state.run.is_some() {
                note_focus(room, &state);
                room.changed();
            }
            *held = Some(h);
        } else if let Some(h) = held.as_mut() {
            h.renew(&room.name).await;
        }
        Ok(held)
    }
}

/// Wake when the held phase runs out, move the timer on and tell the room; again for
/// every following phase, until the timer changes, stops or the room ends.
fn schedule(room: &Arc<Room>, held: &Held) {
    let Some(deadline) = held.machine.deadline() else {
        return;
    };
    let (generation, clock) = (held.generation, held.clock.clone());
    let weak: Weak<Room> = Arc::downgrade(room);
    tokio::spawn(async move {
        let mut deadline = deadline;
        loop {
            let wake = clock.instant_at(deadline);
            tokio::time::sleep_until(wake.min(tokio::time::Instant::now() + MAX_SLEEP)).await;
            let Some(room) = weak.upgrade() else { return };
            let timer = room.feature::<RoomTimer>();
            let mut guard = timer.held.lock().await;
            let Some(held) = guard.as_mut().filter(|h| h.generation == generation) else {
                return;
            };
            let now = clock.now_ms();
            if now < deadline {
                continue;
            }
            if held.machine.catch_up(now) > 0 {
                // The state follows from the stored one and the clock, so a failed write
                // loses nothing; it only renews the stored copy's time to live.
                if let Err(e) = held.save(&room.name).await {
                    tracing::warn!(room = %room.name, "timer phase change not saved: {e:?}");
                }
                tell(&room, held.machine.view(now), TimerChange::PhaseEnded, None);
            }
            match held.machine.deadline() {
                Some(next) => deadline = next,
                None => return,
            }
        }
    });
}

#[async_trait::async_trait]
impl RoomFeature for Timer {
    fn name(&self) -> &'static str {
        "timer"
    }

    fn kinds(&self) -> &'static [&'static str] {
        TimerRequest::TYPES
    }

    async fn handle(&self, cx: &mut Cx<'_>, message: ClientMessage) -> Outcome {
        let request = super::own_request!(cx, message, Timer);
        cx.buckets
            .timer
            .try_take(cx.now)
            .map_err(Refused::RateLimited)?;
        let timer = cx.room.feature::<RoomTimer>();
        let mut guard = timer.load(cx.services, cx.room).await?;
        let Some(held) = guard.as_mut() else {
            return Err(Refused::new(ErrorCode::Internal, "timer not loaded"));
        };
        let controls = !matches!(request, TimerRequest::TimerOptions { .. });
        if controls && !cx.grants.host && !held.machine.state.anyone_controls {
            return Err(Refused::new(
                ErrorCode::Forbidden,
                "host: only a host controls the timer (a host can allow everyone)",
            ));
        }
        let now = cx.services.clock.now_ms();
        // A phase that ran out just now, before its scheduled wake-up: told first, as
        // the wake-up would have.
        if held.machine.catch_up(now) > 0 {
            held.generation += 1;
            schedule(cx.room, held);
            tell(
                cx.room,
                held.machine.view(now),
                TimerChange::PhaseEnded,
                None,
            );
        }
        let mut next = held.machine.clone();
        let change = match request {
            TimerRequest::TimerStart { settings } => {
                if settings.is_some_and(|s| s != next.state.settings) && !cx.grants.host {
                    return Err(Refused::new(
                        ErrorCode::Forbidden,
                        "host: only a host changes the timer's settings",
                    ));
                }
                next.start(settings, now)?;
                Some(TimerChange::Started)
            }
            TimerRequest::TimerPause => next.pause(now)?.then_some(TimerChange::Paused),
            TimerRequest::TimerResume => next.resume(now)?.then_some(TimerChange::Resumed),
            TimerRequest::TimerSkip => {
                next.skip(now)?;
                Some(TimerChange::Skipped)
            }
            TimerRequest::TimerStop => next.stop().then_some(TimerChange::Stopped),
            TimerRequest::TimerOptions {
                settings,
                anyone_controls,
                quiet_during_focus,
            } => {
                next.options(settings, anyone_controls, quiet_during_focus)?;
                (next != held.machine).then_some(TimerChange::Options)
            }
        };
        let Some(change) = change else {
            return Ok(Reply::Ack);
        };
        let before = std::mem::replace(&mut held.machine, next);
        if let Err(refused) = held.save(&cx.room.name).await {
            held.machine = before;
            return Err(refused);
        }
        held.generation += 1;
        schedule(cx.room, held);
        tell(cx.room, held.machine.view(now), change, Some(cx.identity));
        Ok(Reply::Ack)
    }

    async fn snapshot(
        &self,
        services: &Services,
        room: &Arc<Room>,
        conn: &ConnHandle,
        into: &mut Snapshot,
    ) {
        let timer = room.feature::<RoomTimer>();
        let loaded = match timer.load(services, room).await {
            Ok(guard) => guard
                .as_ref()
                .map(|held| held.machine.view(services.clock.now_ms())),
            Err(refused) => {
                super::warn_refused(services, conn, refused);
                None
            }
        };
        if let Some(state) = loaded {
            into.features.timer = state;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::room::features::testing::Harness;
    use proptest::prelude::*;

    const MIN: u64 = 60_000;

    /// Panics unless `outcome` is a refusal with `code`.
    fn assert_refused<T: std::fmt::Debug>(outcome: &Result<T, Refused>, code: ErrorCode) {
        assert!(
            matches!(outcome, Err(Refused::Error { code: c, .. }) if *c == code),
            "expected {code:?}, got {outcome:?}"
        );
    }

    fn short() -> TimerSettings {
        TimerSettings {
            focus_secs: 120,
            short_break_secs: 60,
            long_break_secs: 180,
            rounds: 2,
        }
    }

    fn phase(m: &Machine) -> Option<(Phase, u32)> {
        m.state.run.map(|r| (r.phase, r.round))
    }

    #[test]
    fn phases_follow_rounds_then_a_long_break_then_start_over() {
        let mut m = Machine::default();
        m.start(Some(short()), 0).unwrap();
        assert_eq!(phase(&m), Some((Phase::Focus, 1)));
        assert_eq!(m.deadline(), Some(2 * MIN));
        assert_eq!(m.catch_up(2 * MIN - 1), 0);
        assert_eq!(m.catch_up(2 * MIN), 1);
        assert_eq!(phase(&m), Some((Phase::ShortBreak, 1)));
        assert_eq!(
            m.deadline(),
            Some(3 * MIN),
            "the break starts when focus ended"
        );
        m.catch_up(3 * MIN);
        assert_eq!(phase(&m), Some((Phase::Focus, 2)));
        m.catch_up(5 * MIN);
        assert_eq!(phase(&m), Some((Phase::LongBreak, 2)));
        m.catch_up(8 * MIN);
        assert_eq!(phase(&m), Some((Phase::Focus, 1)));
        assert_eq!(m.state.focus_completed, 2);
    }

    #[test]
    fn pause_holds_the_time_left_and_resume_moves_the_end() {
        let mut m = Machine::default();
        m.start(Some(short()), 0).unwrap();
        assert!(m.pause(30_000).unwrap());
        assert!(!m.pause(40_000).unwrap(), "pausing twice changes nothing");
        assert_eq!(m.catch_up(10 * MIN), 0, "a paused phase never runs out");
        let run = m.state.run.unwrap();
        assert_eq!(
            (run.remaining_ms, run.ends_at, run.paused),
            (90_000, None, true)
        );
        assert_eq!(m.view(99 * MIN).run.unwrap().remaining_ms, 90_000);
        assert!(m.resume(10 * MIN).unwrap());
        assert!(!m.resume(10 * MIN).unwrap());
        assert_eq!(m.deadline(), Some(10 * MIN + 90_000));
        assert_eq!(m.view(10 * MIN + 30_000).run.unwrap().remaining_ms, 60_000);
    }

    #[test]
    fn skip_begins_the_next_phase_now_without_counting_it() {
        let mut m = Machine::default();
        m.start(Some(short()), 0).unwrap();
        m.skip(10_000).unwrap();
        assert_eq!(phase(&m), Some((Phase::ShortBreak, 1)));
        assert_eq!(m.deadline(), Some(70_000));
        assert_eq!(m.state.focus_completed, 0);
        m.pause(20_000).unwrap();
        m.skip(30_000).unwrap();
        let run = m.state.run.unwrap();
        assert_eq!((run.phase, run.round, run.paused), (Phase::Focus, 2, true));
        assert_eq!(run.remaining_ms, 120_000);
    }

    #[test]
    fn stopped_timers_refuse_pause_resume_and_skip() {
        let mut m = Machine::default();
        for r in [
            m.clone().pause(0).err(),
            m.clone().resume(0).err(),
            m.skip(0).err(),
        ] {
            let Some(Refused::Error { code, .. }) = r else {
                panic!("expected a refusal")
            };
            assert_eq!(code, ErrorCode::InvalidState);
        }
        assert!(!m.stop());
    }

    #[test]
    fn settings_out_of_range_change_nothing() {
        let mut m = Machine::default();
        let bad = TimerSettings {
            rounds: 1000,
            ..Default::default()
        };
        let Err(Refused::Error { code, message }) = m.start(Some(bad), 0) else {
            panic!("accepted 1000 rounds")
        };
        assert_eq!(code, ErrorCode::OutOfRange);
        assert!(message.contains("between 1 and 12"), "{message}");
        assert_eq!(m, Machine::default());
    }

    #[test]
    fn a_long_abandoned_timer_stops_instead_of_looping() {
        let mut m = Machine::default();
        m.start(
            Some(TimerSettings::RANGES.map(|r| r.min).into_settings()),
            0,
        )
        .unwrap();
        m.catch_up(u64::MAX / 2);
        assert_eq!(m.state.run, None);
    }

    #[test]
    fn a_stored_state_is_made_sane_before_use() {
        let mut m = Machine::default();
        m.start(Some(short()), 1_000_000).unwrap();
        // Written by a relay whose clock was an hour ahead: the end is capped to one phase.
        let mut ahead = m.state.clone();
        ahead.run.as_mut().unwrap().ends_at = Some(1_000_000 + 3_600_000);
        let fixed = checked(ahead, 1_000_000);
        assert_eq!(fixed.run.unwrap().ends_at, Some(1_000_000 + 120_000));
        // Nonsense: settings out of range, a round past the last, time left past the phase.
        let mut bad = m.state.clone();
        bad.settings.rounds = 0;
        assert_eq!(checked(bad, 0), TimerState::default());
        let mut odd = m.state.clone();
        let run = odd.run.as_mut().unwrap();
        (run.round, run.remaining_ms, run.ends_at, run.paused) = (9, u64::MAX, None, false);
        let run = checked(odd, 5).run.unwrap();
        assert_eq!(
            (run.round, run.remaining_ms, run.paused),
            (2, 120_000, true)
        );
        // Huge numbers never overflow.
        let mut m = Machine::default();
        m.start(None, u64::MAX - 10).unwrap();
        m.pause(u64::MAX - 5).unwrap();
        m.resume(u64::MAX).unwrap();
        assert_eq!(m.deadline(), Some(u64::MAX));
    }

    trait IntoSettings {
        fn into_settings(self) -> TimerSettings;
    }

    impl IntoSettings for [u32; 4] {
        fn into_settings(self) -> TimerSettings {
            TimerSettings {
                focus_secs: self[0],
                short_break_secs: self[1],
                long_break_secs: self[2],
                rounds: self[3],
            }
        }
    }

    proptest! {
        /// Loading a stored state later and catching up gives what watching it live gave.
        #[test]
        fn catching_up_at_once_equals_watching(
            steps in proptest::collection::vec((0u8..6, 0u64..400_000), 1..30),
            late in 0u64..3_000_000,
        ) {
            let mut live = Machine::default();
            live.start(Some(short()), 0).unwrap();
            let mut now = 0;
            for (op, dt) in steps {
                now += dt;
                live.catch_up(now);
                let _ = match op {
                    0 => live.pause(now).map(|_| ()),
                    1 => live.resume(now).map(|_| ()),
                    2 => live.skip(now),
                    3 => { live.catch_up(now); Ok(()) }
                    4 => live.start(None, now),
                    _ => live.options(None, Some(true), None),
                };
            }
            let stored = live.clone();
            let mut watched = live;
            let mut t = now;
            while t < now + late {
                t = (t + 7_000).min(now + late);
                watched.catch_up(t);
            }
            let mut loaded = stored;
            loaded.catch_up(now + late);
            prop_assert_eq!(loaded, watched);
        }
    }

    fn timer_events(values: &[serde_json::Value]) -> Vec<serde_json::Value> {
        values
            .iter()
            .filter(|v| v["type"] == "timer")
            .cloned()
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn the_room_moves_on_when_a_phase_runs_out_and_a_reload_catches_up() {
        let (h, mut host) = Harness::new();
        let mut ada = h.join("ada");
        let start = TimerRequest::TimerStart {
            settings: Some(short()),
        };
        assert_eq!(h.send(&mut host, start.into()).await, Ok(Reply::Ack));
        let started = timer_events(&ada.drain());
        assert_eq!(started.len(), 1);
        assert_eq!(started[0]["change"], "started");
        assert_eq!(started[0]["by"], "host");
        assert_eq!(started[0]["timer"]["run"]["phase"], "focus");

        // Students may not drive it until the host allows everyone.
        let refused = h.send(&mut ada, TimerRequest::TimerPause.into()).await;
        assert_refused(&refused, ErrorCode::Forbidden);
        let allow = TimerRequest::TimerOptions {
            settings: None,
            anyone_controls: Some(true),
            quiet_during_focus: None,
        };
        let refused = h.send(&mut ada, allow.clone().into()).await;
        assert_refused(&refused, ErrorCode::Forbidden);
        h.send(&mut host, allow.into()).await.unwrap();
        ada.drain();

        // Two minutes of virtual time: focus ran out, the short break began.
        tokio::time::sleep(std::time::Duration::from_millis(120_050)).await;
        let ended = timer_events(&ada.drain());
        assert_eq!(ended.len(), 1, "{ended:?}");
        assert_eq!(ended[0]["change"], "phase_ended");
        assert!(ended[0].get("by").is_none());
        assert_eq!(ended[0]["timer"]["run"]["phase"], "short_break");
        assert_eq!(ended[0]["timer"]["focus_completed"], 1);

        // Now a student may pause it.
        assert_eq!(
            h.send(&mut ada, TimerRequest::TimerPause.into()).await,
            Ok(Reply::Ack)
        );
        let saved: TimerState = serde_json::from_str(
            &h.services
                .room_state
                .get("r", STORE_KEY)
                .await
                .unwrap()
                .expect("stored"),
        )
        .unwrap();
        assert!(saved.run.unwrap().paused, "every change is stored");

        // A new room object (the relay restarted, another node took the room) loads
        // it as it stands.
        let fresh = RoomTimer::default();
        let room = h.room.clone();
        let guard = fresh.load(&h.services, &room).await.unwrap();
        let loaded = guard.as_ref().unwrap().machine.state.run.unwrap();
        assert!(loaded.paused);
        assert_eq!(loaded.phase, Phase::ShortBreak);
    }

    #[tokio::test]
    async fn a_flood_of_timer_requests_is_rate_limited_per_connection() {
        let (h, mut host) = Harness::new();
        let mut ada = h.join("ada");
        let start = TimerRequest::TimerStart {
            settings: Some(short()),
        };
        h.send(&mut host, start.into()).await.unwrap();
        let mut limited = 0;
        for _ in 0..30 {
            let r = h.send(&mut host, TimerRequest::TimerPause.into()).await;
            if matches!(r, Err(Refused::RateLimited(_))) {
                limited += 1;
            }
        }
        assert!(limited >= 15, "only {limited} of 30 limited");
        // Someone else is not slowed by it.
        let options = TimerRequest::TimerOptions {
            settings: None,
            anyone_controls: Some(true),
            quiet_during_focus: None,
        };
        let mut other = h.join("host2");
        other.grants = studyhall_protocol::Grants::host();
        assert_eq!(h.send(&mut other, options.into()).await, Ok(Reply::Ack));
        assert_eq!(
            h.send(&mut ada, TimerRequest::TimerResume.into()).await,
            Ok(Reply::Ack)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn students_allowed_to_control_still_cannot_change_settings() {
        let (h, mut host) = Harness::new();
        let mut ada = h.join("ada");
        let allow = TimerRequest::TimerOptions {
            settings: Some(short()),
            anyone_controls: Some(true),
            quiet_during_focus: None,
        };
        h.send(&mut host, allow.into()).await.unwrap();
        let other = TimerSettings {
            focus_secs: 3600,
            ..short()
        };
        let start = |settings| TimerRequest::TimerStart { settings }.into();
        let refused = h.send(&mut ada, start(Some(other))).await;
        assert_refused(&refused, ErrorCode::Forbidden);
        assert_eq!(h.send(&mut ada, start(Some(short()))).await, Ok(Reply::Ack));
        assert_eq!(h.send(&mut ada, start(None)).await, Ok(Reply::Ack));
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_as_a_phase_runs_out_tells_the_phase_end_first_and_keeps_time() {
        let (h, mut host) = Harness::new();
        let mut ada = h.join("ada");
        let start = TimerRequest::TimerStart {
            settings: Some(short()),
        };
        h.send(&mut host, start.into()).await.unwrap();
        ada.drain();
        // Exactly at the end of focus, before the scheduled wake-up has run.
        tokio::time::advance(std::time::Duration::from_secs(120)).await;
        h.send(&mut host, TimerRequest::TimerStop.into())
            .await
            .unwrap();
        let changes: Vec<_> = timer_events(&ada.drain())
            .iter()
            .map(|e| e["change"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(changes, ["phase_ended", "stopped"]);
        // A refused request at a phase end still leaves the timer moving.
        let (h, mut host) = Harness::new();
        let mut ada = h.join("ada");
        let start = TimerRequest::TimerStart {
            settings: Some(short()),
        };
        h.send(&mut host, start.into()).await.unwrap();
        tokio::time::advance(std::time::Duration::from_secs(120)).await;
        let _ = h.send(&mut ada, TimerRequest::TimerPause.into()).await;
        ada.drain();
        tokio::time::sleep(std::time::Duration::from_secs(61)).await;
        let later: Vec<_> = timer_events(&ada.drain())
            .iter()
            .map(|e| {
                let run = &e["timer"]["run"];
                (
                    run["phase"].as_str().unwrap().to_string(),
                    run["round"].as_u64(),
                )
            })
            .collect();
        assert_eq!(
            later,
            [
                ("short_break".to_string(), Some(1)),
                ("focus".to_string(), Some(2))
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_reconnect_in_the_middle_of_a_phase_finds_it_running_on() {
        let (h, mut host) = Harness::new();
        let start = TimerRequest::TimerStart {
            settings: Some(short()),
        };
        h.send(&mut host, start.into()).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_secs(50)).await;
        let ada = h.join("ada");
        h.rooms.leave(
            &h.room,
            "ada",
            ada.conn.id,
            studyhall_protocol::LeaveReason::Timeout,
        );
        tokio::time::sleep(std::time::Duration::from_secs(20)).await;
        let back = h.join("ada");
        let snapshot = super::super::snapshot(
            &h.services,
            &h.room,
            &back.conn,
            &crate::room::features::testing::person("ada", studyhall_protocol::Grants::member()),
        )
        .await;
        let run = snapshot.features.timer.run.unwrap();
        assert_eq!((run.phase, run.round, run.paused), (Phase::Focus, 1, false));
        assert_eq!(run.remaining_ms, 50_000, "two minutes less the 70 s gone");
        tokio::time::sleep(std::time::Duration::from_secs(51)).await;
        let snapshot = super::super::snapshot(
            &h.services,
            &h.room,
            &back.conn,
            &crate::room::features::testing::person("ada", studyhall_protocol::Grants::member()),
        )
        .await;
        assert_eq!(
            snapshot.features.timer.run.map(|r| r.phase),
            Some(Phase::ShortBreak)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_running_timer_loaded_later_is_where_the_clock_says() {
        let (h, mut host) = Harness::new();
        let start = TimerRequest::TimerStart {
            settings: Some(short()),
        };
        h.send(&mut host, start.into()).await.unwrap();
        let t0 = h.services.clock.now_ms();
        // Nobody watches this room object: drop its held timer by loading a fresh one
        // after 2 min 30 s, as a node taking over the room would.
        let later = h.services.clock.now_ms() + 150_000;
        let stored: TimerState = serde_json::from_str(
            &h.services
                .room_state
                .get("r", STORE_KEY)
                .await
                .unwrap()
                .unwrap(),
        )
        .unwrap();
        let mut m = Machine { state: stored };
        m.catch_up(later);
        let run = m.state.run.unwrap();
        assert_eq!((run.phase, run.round), (Phase::ShortBreak, 1));
        assert_eq!(run.ends_at, Some(t0 + 180_000));
        assert_eq!(m.view(later).run.unwrap().remaining_ms, 30_000);
    }
}
