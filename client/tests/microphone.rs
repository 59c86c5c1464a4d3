//! Microphone capture from a real-time audio server: a user-mode PulseAudio whose only (so
//! default) source is the monitor of a null sink that a 440 Hz sine plays into
//! (module-sine), read through cpal's PulseAudio host, which the client prefers over ALSA
//! whenever a server is reachable. Its own test binary: the host finds the server through
//! PULSE_SERVER, which is process-wide.
//!
//! Not module-sine-source: under PulseAudio 16.1 here it delivers one burst of samples and
//! then nothing, to `parec` as much as to cpal (through either host).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use studyhall_client::source::device::{list_devices, DeviceList, MicrophoneSource};
use studyhall_client::source::{AudioSource, SourceError};

/// The null sink's monitor, the server's only source, as listed.
const MONITOR: &str = "studyhall_null.monitor";

struct Pulse {
    /// One server at a time: PULSE_SERVER is process-wide and the tests run in parallel.
    _serial: MutexGuard<'static, ()>,
    child: Child,
    _dir: tempfile::TempDir,
    socket: PathBuf,
}

impl Drop for Pulse {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn on_path(binary: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(binary).is_file()))
        .unwrap_or(false)
}

fn start_pulseaudio() -> Option<Pulse> {
    if !on_path("pulseaudio") {
        eprintln!("SKIPPED: the pulseaudio binary is missing (Debian package pulseaudio)");
        return None;
    }
    static SERIAL: Mutex<()> = Mutex::new(());
    let serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().expect("temp dir");
    let (home, run) = (dir.path().join("home"), dir.path().join("run"));
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&run).unwrap();
    let socket = run.join("native");
    let child = Command::new("pulseaudio")
        .args([
            "-n",
            "--daemonize=no",
            "--exit-idle-time=-1",
            "--use-pid-file=no",
            "--log-target=stderr",
            "-L",
            "module-null-sink sink_name=studyhall_null",
            "-L",
            "module-sine sink=studyhall_null frequency=440",
            // Last: modules load in order, so once the socket exists the sink and its
            // monitor do too (loaded first, the socket raced the sink on a cold start).
            "-L",
            &format!(
                "module-native-protocol-unix auth-anonymous=1 socket={}",
                socket.display()
            ),
        ])
        .env("HOME", &home)
        .env("PULSE_RUNTIME_PATH", &run)
        .env("XDG_RUNTIME_DIR", &run)
        .env_remove("DISPLAY")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start pulseaudio");
    let mut pulse = Pulse {
        _serial: serial,
        child,
        _dir: dir,
        socket,
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while !pulse.socket.exists() {
        if let Ok(Some(status)) = pulse.child.try_wait() {
            panic!("pulseaudio exited: {status}");
        }
        assert!(Instant::now() < deadline, "pulseaudio did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    // The socket file exists from bind(), before the server listens and answers: wait
    // for a real handshake, or cpal's PulseAudio host (2 s to connect) falls back to ALSA.
    // That race failed the capture test on a fresh machine.
    while on_path("pactl")
        && !Command::new("pactl")
            .arg("-s")
            .arg(&pulse.socket)
            .arg("info")
            .env_remove("DISPLAY")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    {
        if let Ok(Some(status)) = pulse.child.try_wait() {
            panic!("pulseaudio exited: {status}");
        }
        assert!(Instant::now() < deadline, "pulseaudio does not answer");
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(pulse)
}

/// Reads `frames` 20 ms frames on a 20 ms clock, like the publisher does.
fn read(mic: &mut MicrophoneSource, frames: usize) -> Vec<i16> {
    let mut all = Vec::new();
    let mut next = Instant::now();
    for _ in 0..frames {
        next += Duration::from_millis(20);
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
        let frame = mic.next_frame().expect("a frame");
        assert_eq!(frame.len(), 960);
        all.extend(frame);
    }
    all
}

fn use_pulse(pulse: &Pulse) {
    std::env::set_var("PULSE_SERVER", format!("unix:{}", pulse.socket.display()));
    std::env::remove_var("DISPLAY");
}

/// PulseAudio's sources by their names: listed, named in errors, openable.
#[test]
fn opens_the_pulse_device_and_names_it_in_errors() {
    let Some(pulse) = start_pulseaudio() else {
        return;
    };
    use_pulse(&pulse);
    let listed = list_devices().microphones;
    // Listed by PulseAudio's description ("Monitor of Null Output"), opened by name.
    assert!(
        listed
            .iter()
            .all(|d| d.label.starts_with("Monitor of") && d.label != d.name),
        "{listed:?}"
    );
    let mics = DeviceList::names(&listed);
    assert_eq!(mics, [MONITOR]);
    let err = MicrophoneSource::open(Some("no-such-microphone"))
        .err()
        .expect("unknown name");
    assert!(
        matches!(&err, SourceError::NoDevice { kind: "microphone", available, .. } if available == &mics),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("; available: "), "{msg}");
    for m in &mics {
        assert!(msg.contains(m.as_str()), "{msg} should name {m}");
    }
    let mut mic = MicrophoneSource::open(Some(MONITOR)).expect("open the null sink's monitor");
    assert_eq!(mic.name(), MONITOR);
    // Never blocks, always 20 ms (padded with silence when the device is behind).
    let started = Instant::now();
    for _ in 0..5 {
        assert_eq!(mic.next_frame().unwrap().len(), 960);
    }
    assert!(started.elapsed() < Duration::from_millis(50));
    drop(mic);
    drop(pulse);
}

/// The tone must come through in real time, from the default source and by name.
#[test]
fn captures_a_pulseaudio_source() {
    let Some(pulse) = start_pulseaudio() else {
        return;
    };
    use_pulse(&pulse);

    let mics = DeviceList::names(&list_devices().microphones);
    assert!(mics.iter().any(|m| m == MONITOR), "{mics:?}");

    let err = MicrophoneSource::open(Some("no-such-microphone"))
        .err()
        .expect("unknown name");
    assert!(
        matches!(&err, SourceError::NoDevice { kind: "microphone", available, .. } if available == &mics),
        "{err:?}"
    );
    assert!(err.to_string().contains(MONITOR), "{err}");

    for name in [None, Some(MONITOR)] {
        let mut mic = MicrophoneSource::open(name).expect("open the monitor");
        assert_eq!(mic.name(), MONITOR);
        eprintln!(
            "microphone {:?} opened as {} at {:?} (rate, channels)",
            name,
            mic.name(),
            mic.device_format()
        );
        // Let the stream start, then throw away what came before.
        std::thread::sleep(Duration::from_millis(300));
        while mic.buffered() > 0 {
            mic.next_frame().unwrap();
        }
        let samples = read(&mut mic, 50); // 1 s
        let loud = samples.iter().filter(|s| s.unsigned_abs() > 1000).count();
        // The sine fills the second once the stream is flowing (allow start-up padding).
        assert!(
            loud > samples.len() / 2,
            "{name:?}: only {loud} of {} samples carry the tone; last error {:?}",
            samples.len(),
            mic.last_error()
        );
        // 440 Hz: ~880 zero crossings a second at 48 kHz (resampled or not).
        let crossings = samples
            .windows(2)
            .filter(|w| (w[0] < 0) != (w[1] < 0))
            .count();
        eprintln!("{name:?}: {loud} loud samples, {crossings} zero crossings in 1 s");
        assert!(
            (700..=1000).contains(&crossings),
            "{name:?}: {crossings} zero crossings, expected ~880 for 440 Hz"
        );
    }
    drop(pulse);
}
