//! Screen capture from a real X server (Xvfb). Its own test binary: the capture reads
//! DISPLAY from the environment, which is process-wide.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use studyhall_client::codec::vp8::i420_len;
use studyhall_client::source::device::{list_devices, DeviceList, ScreenSource};
use studyhall_client::source::{SourceError, VideoSource};

/// Kills Xvfb however the test ends.
struct Xvfb {
    child: Child,
    display: String,
}

impl Drop for Xvfb {
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

/// Start `Xvfb` on a free display number, 640x480x24. `-noreset`: xcap connects anew
/// for every capture, and Xvfb otherwise resets (repainting the root black, dropping
/// connections) whenever its last client leaves.
fn start_xvfb() -> Option<Xvfb> {
    if !on_path("Xvfb") {
        eprintln!("SKIPPED: the Xvfb binary is missing (Debian package xvfb)");
        return None;
    }
    for n in 90..200 {
        if Path::new(&format!("/tmp/.X{n}-lock")).exists()
            || Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
        {
            continue;
        }
        let display = format!(":{n}");
        let mut child = Command::new("Xvfb")
            .args([
                &display,
                "-screen",
                "0",
                "640x480x24",
                "-nolisten",
                "tcp",
                "-noreset",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start Xvfb");
        let socket = format!("/tmp/.X11-unix/X{n}");
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if Path::new(&socket).exists() {
                return Some(Xvfb { child, display });
            }
            if let Ok(Some(_)) = child.try_wait() {
                break; // lost a race for this display number: try the next one
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    panic!("could not start Xvfb on any display :90..:199");
}

#[test]
fn captures_an_xvfb_screen() {
    std::env::remove_var("WAYLAND_DISPLAY");
    std::env::remove_var("DISPLAY");
    // No display: no screen, and a clear error.
    assert!(list_devices().screens.is_empty());
    let err = ScreenSource::open(None, 30).err().expect("no display yet");
    assert!(
        matches!(err, SourceError::NoDevice { kind: "screen", .. }),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "no screen found on this machine");

    let Some(xvfb) = start_xvfb() else { return };
    std::env::set_var("DISPLAY", &xvfb.display);
    std::env::set_var("XDG_SESSION_TYPE", "x11");
    // Paint the root window red, so the capture has something to show.
    let painted = on_path("xsetroot")
        && Command::new("xsetroot")
            .args(["-display", &xvfb.display, "-solid", "red"])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
    if !painted {
        eprintln!("note: xsetroot (x11-xserver-utils) missing; only checking frames arrive");
    }

    let listed = list_devices().screens;
    assert_eq!(listed.len(), 1, "{listed:?}");
    // Shown as people call it, never as the bare output name ("screen" under Xvfb).
    assert_eq!(listed[0].label, "Entire screen (640×480)", "{listed:?}");
    let screens = DeviceList::names(&listed);

    let by_name = ScreenSource::open(Some("no-such-screen"), 30)
        .err()
        .expect("unknown name");
    assert!(
        by_name.to_string().contains(&screens[0]),
        "{by_name} should name {}",
        screens[0]
    );

    let mut screen = ScreenSource::open(None, 60).expect("open the Xvfb screen");
    assert_eq!(screen.name(), screens[0]);
    let mut same = ScreenSource::open(Some(&screens[0]), 5).expect("open by name");
    assert_eq!(same.size(), (640, 480));
    drop(same.next_frame(0).expect("a frame by name"));
    drop(same);

    let (w, h) = screen.size();
    assert_eq!((w, h), (640, 480));
    for _ in 0..3 {
        let frame = screen.next_frame(0).expect("a frame");
        assert_eq!(frame.len(), i420_len(w, h));
        assert!(frame.iter().any(|&b| b != 0), "an all-zero frame");
        if painted {
            // Red in BT.601 limited range: Y 82, U 90, V 240.
            let (y, chroma) = frame.split_at((w * h) as usize);
            let (u, v) = chroma.split_at(chroma.len() / 2);
            assert!(y.iter().all(|&p| p == 82), "luma not red: {:?}", &y[..8]);
            assert!(u.iter().all(|&p| p == 90) && v.iter().all(|&p| p == 240));
        }
        std::thread::sleep(Duration::from_millis(40));
    }

    // The capture thread keeps producing frames on its own (its rate is reported, not
    // asserted: speed belongs in benchmarks, and a loaded CI machine is slower).
    let (start_frames, started) = (screen.frames_captured(), Instant::now());
    std::thread::sleep(Duration::from_secs(2));
    let captured = screen.frames_captured() - start_frames;
    let fps = captured as f64 / started.elapsed().as_secs_f64();
    eprintln!("screen capture: {fps:.1} fps at {w}x{h} (cap 60)");
    assert!(
        captured >= 2,
        "the capture thread stalled: {captured} frames in 2 s"
    );
    drop(screen);
    drop(xvfb);
}
