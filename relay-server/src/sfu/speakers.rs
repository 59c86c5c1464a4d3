//! Who speaks, decided by the relay from the audio levels publishers put in their packets
//! (RFC 6464, `ssrc-audio-level`), so every client sees the same active speaker; and in
//! rooms with many microphones, only the audio worth hearing is forwarded.
//!
//! A microphone is *speaking* while its packets are louder than [`SPEAKING_DBOV`] or carry
//! the voice-activity bit, and for [`HANGOVER`] after (the pauses between words). In a
//! room with more than [`ALL_AUDIO_UP_TO`] microphones, the relay forwards a microphone
//! only while it is speaking or among the [`LOUDEST`] of the room: the others carry
//! silence or background noise, and at 25 people they are most of the host's upload
//! (every microphone goes to 24 others). Nobody who speaks is cut off: the first loud
//! packet is forwarded at once, whoever sent it. A microphone whose packets carry no
//! level is always forwarded.

use super::*;

/// Packets louder than this (dBov) count as speech. Speech is about -20 to -40 dBov;
/// a quiet room, or noise that RNNoise turned down, is below -60.
pub const SPEAKING_DBOV: i8 = -55;

/// How long a microphone counts as speaking after its last loud packet.
pub const HANGOVER: Duration = Duration::from_millis(1_500);

/// Microphones always forwarded in a room that limits audio: the loudest ones, even
/// below the speaking level.
pub const LOUDEST: usize = 3;

/// Rooms with at most this many microphones forward all of them.
pub const ALL_AUDIO_UP_TO: usize = 4;

/// How much louder (dB, over the last check interval) someone must be to take the
/// active speaker's place while the active speaker still speaks.
const TAKEOVER_DB: f32 = 6.0;

/// The quietest level (RFC 6464: -127 dBov is silence).
const SILENCE_DB: f32 = -127.0;

/// A publisher microphone's levels.
#[derive(Debug, Clone)]
pub(super) struct Voice {
    /// Whether its packets carry a level at all.
    pub measured: bool,
    /// The last loud packet.
    pub last_speech: Option<Instant>,
    /// Sum of linear power and packets since the last check.
    power: f64,
    packets: u32,
    /// The mean level (dBov) over the last check interval.
    pub level: f32,
    /// Whether its room forwards only some microphones (set at each check).
    pub limited: bool,
    /// Whether it was among the room's loudest at the last check.
    pub loudest: bool,
}

impl Default for Voice {
    fn default() -> Self {
        Voice {
            measured: false,
            last_speech: None,
            power: 0.0,
            packets: 0,
            level: SILENCE_DB,
            limited: false,
            loudest: false,
        }
    }
}

impl Voice {
    /// Take in one packet's level (dBov, -127..0) and voice-activity bit.
    pub fn packet(&mut self, now: Instant, level: Option<i8>, voice: Option<bool>) {
        let Some(level) = level else {
            return;
        };
        self.measured = true;
        if level > SPEAKING_DBOV || voice == Some(true) && level > SILENCE_DB as i8 {
            self.last_speech = Some(now);
        }
        self.power += 10f64.powf(f64::from(level) / 10.0);
        self.packets += 1;
    }

    /// Whether it spoke within [`HANGOVER`] of `now`.
    pub fn speaking(&self, now: Instant) -> bool {
        self.last_speech
            .is_some_and(|t| now.saturating_duration_since(t) < HANGOVER)
    }

    /// Whether its packets are forwarded now.
    pub fn audible(&self, now: Instant) -> bool {
        !self.limited || !self.measured || self.loudest || self.speaking(now)
    }

    /// Close a check interval: the mean level over it becomes [`Voice::level`].
    fn settle(&mut self) {
        self.level = if self.packets == 0 {
            SILENCE_DB
        } else {
            (10.0 * (self.power / f64::from(self.packets)).log10()).max(f64::from(SILENCE_DB))
                as f32
        };
        self.power = 0.0;
        self.packets = 0;
    }
}

/// What a room was last told about its speakers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Told {
    pub active: Option<String>,
    pub speaking: Vec<String>,
}

/// The active speaker among `candidates` (identity, level, speaking), given the current
/// one: the loudest of those speaking, unless the current one still speaks and nobody is
/// [`TAKEOVER_DB`] louder. Nobody speaking keeps the last one (a tile does not jump away
/// in a pause).
pub(super) fn choose_active(
    current: Option<&str>,
    candidates: &[(String, f32, bool)],
) -> Option<String> {
    let loudest = candidates
        .iter()
        .filter(|c| c.2)
        .max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| b.0.cmp(&a.0)));
    let current_now = current.and_then(|id| candidates.iter().find(|c| c.0 == id));
    match (current_now, loudest) {
        (_, None) => current_now.map(|c| c.0.clone()),
        (Some(cur), Some(top)) if cur.2 && top.1 < cur.1 + TAKEOVER_DB => Some(cur.0.clone()),
        (_, Some(top)) => Some(top.0.clone()),
    }
}

impl Sfu {
    /// Close the check interval of every microphone: which rooms limit their audio and
    /// which microphones are their loudest, and tell a room when its active speaker or
    /// the set of those speaking changed.
    pub(super) fn check_speakers(&mut self, now: Instant) {
        // Microphones per room: (peer, mid).
        let mut rooms: HashMap<String, Vec<(PeerId, Mid)>> = HashMap::new();
        for (id, p) in self
            .peers
            .iter_mut()
            .filter(|(_, p)| p.role == Role::Publish && p.alive)
        {
            for (mid, t) in p.tracks_in.iter_mut() {
                if t.kind == MediaKind::Audio {
                    t.voice.settle();
                    rooms.entry(p.group.clone()).or_default().push((*id, *mid));
                }
            }
        }
        let mut previous = std::mem::take(&mut self.speakers);
        for (group, mics) in rooms {
            let mut candidates: Vec<(String, f32, bool)> = Vec::new();
            let mut levels: Vec<(f32, PeerId, Mid)> = Vec::new();
            for (id, mid) in &mics {
                let p = &self.peers[id];
                let t = &p.tracks_in[mid];
                let on = t.enabled && t.voice.measured;
                let level = if on { t.voice.level } else { SILENCE_DB };
                candidates.push((p.identity.clone(), level, on && t.voice.speaking(now)));
                levels.push((level, *id, *mid));
            }
            levels.sort_by(|a, b| b.0.total_cmp(&a.0));
            let limited = mics.len() > ALL_AUDIO_UP_TO;
            for (rank, (_, id, mid)) in levels.iter().enumerate() {
                if let Some(t) = self
                    .peers
                    .get_mut(id)
                    .and_then(|p| p.tracks_in.get_mut(mid))
                {
                    t.voice.limited = limited;
                    // Digital silence is never among the loudest.
                    t.voice.loudest = rank < LOUDEST && t.voice.level > SILENCE_DB;
                }
            }
            let before = previous.remove(&group).unwrap_or_default();
            let mut speaking: Vec<String> = candidates
                .iter()
                .filter(|c| c.2)
                .map(|c| c.0.clone())
                .collect();
            speaking.sort();
            let told = Told {
                active: choose_active(before.active.as_deref(), &candidates),
                speaking,
            };
            if told != before {
                self.notices.push_back(Notice::Speakers {
                    group: group.clone(),
                    active: told.active.clone(),
                    speaking: told.speaking.clone(),
                });
            }
            self.speakers.insert(group, told);
        }
        // Rooms whose last microphone went: nobody speaks there now (a room that is gone
        // gets nothing: the notice finds nobody).
        for (group, before) in previous {
            if before != Told::default() {
                self.notices.push_back(Notice::Speakers {
                    group,
                    active: None,
                    speaking: Vec::new(),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speech_counts_until_the_hangover_ends_and_silence_never() {
        let t0 = Instant::now();
        let mut v = Voice::default();
        assert!(v.audible(t0), "a microphone with no level yet is forwarded");
        v.limited = true;
        v.packet(t0, Some(-127), Some(false));
        assert!(!v.speaking(t0) && !v.audible(t0));
        v.packet(t0, Some(-70), Some(false));
        assert!(!v.speaking(t0), "background noise is not speech");
        v.packet(t0, Some(-90), Some(true));
        assert!(v.speaking(t0), "the voice bit counts");
        let t1 = t0 + Duration::from_millis(100);
        v.packet(t1, Some(-30), None);
        assert!(v.speaking(t1 + HANGOVER - Duration::from_millis(1)));
        assert!(!v.audible(t1 + HANGOVER), "silent past the hangover");
        v.loudest = true;
        assert!(v.audible(t1 + HANGOVER), "the loudest are forwarded");
        v.limited = false;
        v.loudest = false;
        assert!(
            v.audible(t1 + HANGOVER),
            "a room that does not limit forwards all"
        );
    }

    #[test]
    fn the_level_is_the_mean_power_over_the_interval() {
        let mut v = Voice::default();
        let now = Instant::now();
        v.packet(now, Some(-20), None);
        v.packet(now, Some(-127), None);
        v.settle();
        // Half the power of -20 dBov is about -23 dBov.
        assert!((v.level - -23.0).abs() < 0.1, "{}", v.level);
        v.settle();
        assert_eq!(v.level, SILENCE_DB, "no packets: silence");
    }

    #[test]
    fn the_active_speaker_changes_only_for_someone_clearly_louder_or_when_it_stops() {
        let c = |id: &str, level: f32, speaking: bool| (id.to_string(), level, speaking);
        assert_eq!(choose_active(None, &[c("a", -127.0, false)]), None);
        assert_eq!(
            choose_active(None, &[c("a", -30.0, true), c("b", -25.0, true)]),
            Some("b".into())
        );
        // 5 dB louder is not enough while the current speaker speaks; 7 dB is.
        let now = [c("a", -30.0, true), c("b", -25.0, true)];
        assert_eq!(choose_active(Some("a"), &now), Some("a".into()));
        let now = [c("a", -30.0, true), c("b", -23.0, true)];
        assert_eq!(choose_active(Some("a"), &now), Some("b".into()));
        // The current speaker stopped: the loudest of those speaking takes over...
        let now = [c("a", -127.0, false), c("b", -45.0, true)];
        assert_eq!(choose_active(Some("a"), &now), Some("b".into()));
        // ...and with nobody speaking, the last one stays; one who left does not.
        let now = [c("a", -127.0, false), c("b", -127.0, false)];
        assert_eq!(choose_active(Some("a"), &now), Some("a".into()));
        assert_eq!(choose_active(Some("gone"), &now), None);
    }
}
