//! One running app per user (per data directory, when `STUDYHALL_APP_DATA` sets one).
//!
//! Clicking a `studyhall://` link while the app runs makes the system start it again. That
//! start hands the link to the running app over a Unix socket and exits. The running app
//! then shows its window and offers the link on its start screen.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A line longer than this is not an invite link.
const MAX_LINE: u64 = 4096;
const ANSWER_TIMEOUT: Duration = Duration::from_secs(3);

/// What this start of the app should do.
#[derive(Debug)]
pub enum Start {
    /// Another app runs and took the link: exit.
    HandedOff,
    /// The first app: serve later starts on this listener.
    First(UnixListener),
    /// Neither (the socket cannot be made, or the running app does not answer): run
    /// without taking links from later starts.
    Alone(String),
}

/// Where the running app listens: beside `STUDYHALL_APP_DATA` when set (so tests and
/// separate profiles do not meet), else in the user's runtime directory, else in their
/// data directory. Never in a shared directory such as /tmp, where another user could
/// put a socket first and collect the links.
pub fn socket_path() -> Option<PathBuf> {
    let var = |name: &str| {
        std::env::var_os(name)
            .map(PathBuf::from)
            .filter(|d| d.is_absolute())
    };
    if let Some(dir) = var("STUDYHALL_APP_DATA") {
        return Some(dir.join("app.sock"));
    }
    if let Some(dir) = var("XDG_RUNTIME_DIR") {
        return Some(dir.join("studyhall-app.sock"));
    }
    let data = var("XDG_DATA_HOME").or_else(|| var("HOME").map(|h| h.join(".local/share")))?;
    Some(data.join("app.studyhall.desktop").join("app.sock"))
}

/// Hand `link` (or nothing, which just brings the app forward) to an app listening at
/// `path`, or become the app that listens there.
pub fn start(path: &Path, link: Option<&str>) -> Start {
    for _ in 0..2 {
        if let Ok(stream) = UnixStream::connect(path) {
            return match hand_off(stream, link) {
                Ok(()) => Start::HandedOff,
                Err(e) => Start::Alone(format!("the running app did not answer: {e}")),
            };
        }
        // Nobody listens: a socket file left by a crash goes.
        let _ = std::fs::remove_file(path);
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        match UnixListener::bind(path) {
            Ok(listener) => return Start::First(listener),
            // Another start bound it in between: hand off to that one.
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => continue,
            Err(e) => return Start::Alone(format!("cannot listen at {}: {e}", path.display())),
        }
    }
    Start::Alone(format!("cannot listen at {}", path.display()))
}

fn hand_off(mut stream: UnixStream, link: Option<&str>) -> io::Result<()> {
    stream.set_read_timeout(Some(ANSWER_TIMEOUT))?;
    stream.set_write_timeout(Some(ANSWER_TIMEOUT))?;
    writeln!(stream, "{}", link.unwrap_or(""))?;
    let mut answer = String::new();
    BufReader::new(stream.take(16)).read_line(&mut answer)?;
    if answer.trim() == "ok" {
        Ok(())
    } else {
        Err(io::Error::other(format!("unexpected answer {answer:?}")))
    }
}

/// Serve later starts on a thread: each sends one line (a link, or nothing), and
/// `on_start` gets the link when it is one (anything else is dropped).
pub fn serve(
    listener: UnixListener,
    on_start: impl Fn(Option<String>) + Send + 'static,
) -> io::Result<()> {
    std::thread::Builder::new()
        .name("single-instance".into())
        .spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let _ = conn.set_read_timeout(Some(ANSWER_TIMEOUT));
                let _ = conn.set_write_timeout(Some(ANSWER_TIMEOUT));
                let mut line = String::new();
                if let Err(e) = BufReader::new((&conn).take(MAX_LINE)).read_line(&mut line) {
                    tracing::debug!(error = %e, "a later start sent nothing readable");
                    continue;
                }
                on_start(invite_link_in([line]));
                let _ = conn.write_all(b"ok\n");
            }
        })
        .map(|_| ())
}

/// The first `studyhall://` link among the command-line arguments (the desktop entry runs
/// `studyhall %u` when a link is opened).
pub fn invite_link_in<I: IntoIterator<Item = String>>(args: I) -> Option<String> {
    args.into_iter()
        .map(|a| a.trim().to_string())
        .find(|a| a.len() <= 2048 && a.to_ascii_lowercase().starts_with("studyhall://"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn a_later_start_hands_its_link_to_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.sock");
        let Start::First(listener) = start(&path, None) else {
            panic!("the first start listens")
        };
        let (tx, rx) = mpsc::channel();
        serve(listener, move |link| tx.send(link).unwrap()).unwrap();

        let link = "studyhall://join?relay=192.168.1.20%3A7450&code=K7QX-29FD";
        assert!(matches!(start(&path, Some(link)), Start::HandedOff));
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(5)).unwrap().as_deref(),
            Some(link)
        );
        // No link: the app is just brought forward.
        assert!(matches!(start(&path, None), Start::HandedOff));
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), None);
        // Something that is not a link is not passed on as one.
        assert!(matches!(start(&path, Some("rm -rf /")), Start::HandedOff));
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), None);
    }

    #[test]
    fn a_socket_left_by_a_crash_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.sock");
        drop(UnixListener::bind(&path).unwrap());
        assert!(path.exists(), "the dead app's socket file stays behind");
        assert!(matches!(start(&path, None), Start::First(_)));
    }

    #[test]
    fn a_running_app_that_does_not_answer_leaves_this_one_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.sock");
        let _mute = UnixListener::bind(&path).unwrap(); // accepts (backlog) but never answers
        match start(&path, None) {
            Start::Alone(why) => assert!(why.contains("did not answer"), "{why}"),
            other => panic!("{other:?}"),
        }
    }
}
