use super::*;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// Clocks a test moves by hand.
#[derive(Default)]
struct TestClocks {
    mono_ms: AtomicU64,
    wall_ms: AtomicI64,
    day: Mutex<String>,
}

impl TestClocks {
    fn new(day: &str) -> Arc<TestClocks> {
        let c = TestClocks::default();
        *c.day.lock().unwrap() = day.into();
        c.wall_ms.store(1_800_000_000_000, Ordering::SeqCst);
        Arc::new(c)
    }
    fn pass(&self, secs: u64) {
        self.mono_ms.fetch_add(secs * 1000, Ordering::SeqCst);
        self.wall_ms.fetch_add(secs as i64 * 1000, Ordering::SeqCst);
    }
    fn set_day(&self, day: &str) {
        *self.day.lock().unwrap() = day.into();
    }
}

impl Clocks for TestClocks {
    fn mono(&self) -> Duration {
        Duration::from_millis(self.mono_ms.load(Ordering::SeqCst))
    }
    fn today(&self) -> String {
        self.day.lock().unwrap().clone()
    }
    fn wall_ms(&self) -> i64 {
        self.wall_ms.load(Ordering::SeqCst)
    }
}

fn open(dir: &Path, clocks: &Arc<TestClocks>) -> Arc<Study> {
    Arc::new(Study::open(&dir.join(STUDY_DB_FILE), clocks.clone()).unwrap())
}

fn day_seconds(summary: &StudySummary, day: &str) -> f64 {
    summary
        .days
        .iter()
        .find(|d| d.day == day)
        .map_or(0.0, |d| d.seconds)
}

#[test]
fn time_in_rooms_and_focus_phases_add_up_per_day_and_room() {
    let dir = tempfile::tempdir().unwrap();
    let clocks = TestClocks::new("2026-12-01");
    let study = open(dir.path(), &clocks);
    let maths = study.track("maths", "Maths");
    for _ in 0..6 {
        clocks.pass(20);
        maths.flush().unwrap();
    }
    maths.focus_completed(1500).unwrap();
    drop(maths);
    let physics = study.track("physics", "Physics");
    clocks.pass(30);
    drop(physics);
    let s = study.summary().unwrap();
    assert_eq!(day_seconds(&s, "2026-12-01"), 150.0);
    assert_eq!(s.days[0].focus_phases, 1);
    assert_eq!(s.days[0].focus_seconds, 1500.0);
    assert_eq!(s.rooms[0].room, "maths");
    assert_eq!((s.rooms[0].seconds, s.rooms[0].focus_phases), (120.0, 1));
    assert_eq!(s.rooms[1].seconds, 30.0);
    assert_eq!(s.today_rooms, s.rooms, "all of it was today");
    clocks.set_day("2026-12-02");
    assert!(study.summary().unwrap().today_rooms.is_empty());
    let csv = study.csv().unwrap();
    assert!(
        csv.starts_with("kind,day,room,title,started,seconds\n"),
        "{csv}"
    );
    assert!(csv.contains("focus,2026-12-01,maths,Maths,"), "{csv}");
    assert_eq!(csv.lines().count(), 4, "{csv}");
}

#[test]
fn clock_jumps_never_make_negative_or_absurd_entries() {
    let dir = tempfile::tempdir().unwrap();
    let clocks = TestClocks::new("2026-12-02");
    let study = open(dir.path(), &clocks);
    let t = study.track("r", "R");
    clocks.pass(20);
    t.flush().unwrap();
    // The wall clock jumps back a day and then forward a year: only labels change.
    clocks.wall_ms.fetch_sub(86_400_000, Ordering::SeqCst);
    clocks.set_day("2026-12-01");
    clocks.pass(20);
    t.flush().unwrap();
    clocks.wall_ms.fetch_add(365 * 86_400_000, Ordering::SeqCst);
    clocks.set_day("2027-12-02");
    clocks.pass(20);
    t.flush().unwrap();
    // The machine slept for 10 hours: one capped step, not ten hours.
    clocks.pass(36_000);
    t.flush().unwrap();
    clocks.pass(5);
    t.flush().unwrap();
    drop(t);
    let s = study.summary().unwrap();
    let total: f64 = s.days.iter().map(|d| d.seconds).sum();
    assert_eq!(total, 20.0 + 20.0 + 20.0 + 60.0 + 5.0);
    assert!(s
        .days
        .iter()
        .all(|d| d.seconds >= 0.0 && d.seconds <= 86_400.0));
    assert_eq!(day_seconds(&s, "2026-12-01"), 20.0);
}

#[test]
fn a_day_filed_in_the_future_does_not_break_the_streak() {
    let dir = tempfile::tempdir().unwrap();
    let clocks = TestClocks::new("2026-12-01");
    let study = open(dir.path(), &clocks);
    let t = study.track("r", "R");
    for day in ["2026-12-01", "2026-12-02"] {
        clocks.set_day(day);
        for _ in 0..15 {
            clocks.pass(60);
            t.flush().unwrap();
        }
    }
    // The clock runs a year ahead for a while, then is put right.
    clocks.set_day("2027-12-02");
    clocks.pass(60);
    t.flush().unwrap();
    clocks.set_day("2026-12-02");
    drop(t);
    let s = study.summary().unwrap();
    assert_eq!(s.streak_days, 2);
    assert!(s.days.iter().all(|d| d.day.as_str() <= "2026-12-02"));
}

#[test]
fn a_record_that_cannot_be_replaced_still_lets_the_app_start() {
    let dir = tempfile::tempdir().unwrap();
    // A file where its folder should be: the record can be neither read nor moved
    // aside, nor made anew.
    std::fs::write(dir.path().join("blocked"), b"a file").unwrap();
    let path = dir.path().join("blocked").join(STUDY_DB_FILE);
    let clocks = TestClocks::new("2026-12-03");
    let study = Arc::new(Study::open(&path, clocks.clone()).unwrap());
    let notice = study.summary().unwrap().notice.expect("a notice");
    assert!(notice.contains("cannot be used"), "{notice}");
    let t = study.track("r", "R");
    clocks.pass(20);
    t.flush().unwrap();
    assert_eq!(study.summary().unwrap().rooms[0].seconds, 20.0);
}

#[test]
fn a_killed_app_loses_at_most_one_step() {
    let dir = tempfile::tempdir().unwrap();
    let clocks = TestClocks::new("2026-12-03");
    let study = open(dir.path(), &clocks);
    let t = study.track("r", "R");
    for _ in 0..3 {
        clocks.pass(FLUSH_EVERY.as_secs());
        t.flush().unwrap();
    }
    clocks.pass(15);
    // Killed: nothing runs any more (no drop, no flush); what was written is all there is.
    std::mem::forget(t);
    let study = open(dir.path(), &clocks);
    let s = study.summary().unwrap();
    assert_eq!(day_seconds(&s, "2026-12-03"), 60.0);
}

#[test]
fn streaks_count_days_in_a_row_with_enough_study() {
    let day = |d: &str, secs: f64| DayTotal {
        day: d.into(),
        seconds: secs,
        focus_phases: 0,
        focus_seconds: 0.0,
    };
    let days = vec![
        day("2026-11-20", 3600.0),
        day("2026-11-21", 3600.0),
        day("2026-11-22", 3600.0),
        day("2026-11-28", 700.0),
        day("2026-11-29", 100.0), // too little: breaks the streak
        day("2026-11-30", 900.0),
        day("2026-12-01", 900.0),
    ];
    assert_eq!(streaks(&days, "2026-12-01"), (2, 3));
    assert_eq!(
        streaks(&days, "2026-12-02"),
        (2, 3),
        "today has not counted yet"
    );
    assert_eq!(streaks(&days, "2026-12-03"), (0, 3));
    assert_eq!(streaks(&[], "2026-12-03"), (0, 0));
}

#[test]
fn the_goal_is_kept_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let clocks = TestClocks::new("2026-12-03");
    let study = open(dir.path(), &clocks);
    assert_eq!(study.goal_minutes().unwrap(), DEFAULT_GOAL_MINUTES);
    study.set_goal_minutes(90).unwrap();
    let err = study.set_goal_minutes(0).unwrap_err();
    assert_eq!(err.kind, AppErrorKind::InvalidInput);
    assert!(err.message.contains("between 5 and 960"), "{}", err.message);
    let study = open(dir.path(), &clocks);
    assert_eq!(study.summary().unwrap().goal_minutes, 90);
}

#[test]
fn a_corrupt_record_is_moved_aside_and_started_afresh() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(STUDY_DB_FILE);
    std::fs::write(
        &path,
        b"this is not a database, just some bytes ".repeat(200),
    )
    .unwrap();
    let clocks = TestClocks::new("2026-12-03");
    let study = open(dir.path(), &clocks);
    let s = study.summary().unwrap();
    let notice = s.notice.expect("a notice");
    assert!(notice.contains("could not be read"), "{notice}");
    assert!(s.days.is_empty());
    let aside: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("unreadable"))
        .collect();
    assert_eq!(aside.len(), 1, "the old file is kept");
    // The new record works, and the notice goes once seen.
    study.track("r", "R").flush().unwrap();
    study.dismiss_notice();
    assert_eq!(study.summary().unwrap().notice, None);
}

#[test]
fn csv_fields_are_quoted_and_formulas_defused() {
    assert_eq!(csv_field("plain"), "plain");
    assert_eq!(csv_field("a,b"), "\"a,b\"");
    assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    assert_eq!(csv_field("=SUM(A1)"), "'=SUM(A1)");
}

/// The child side of [`a_killed_app_process_keeps_what_it_wrote`]: count time in a room
/// with the real clocks, flushing every 250 ms, until killed.
fn record_until_killed(dir: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let study = Arc::new(
            Study::open(
                &Path::new(dir).join(STUDY_DB_FILE),
                Arc::new(SystemClocks::default()),
            )
            .unwrap(),
        );
        let tracking = study.track("killed", "Killed");
        let _flusher = Study::spawn_flusher_every(&tracking, Duration::from_millis(250));
        std::fs::write(Path::new(dir).join("started"), b"").unwrap();
        tokio::time::sleep(Duration::from_secs(60)).await;
        panic!("the parent should have killed this process");
    });
}

#[test]
fn a_killed_app_process_keeps_what_it_wrote() {
    const NAME: &str = "study::tests::a_killed_app_process_keeps_what_it_wrote";
    if let Ok(dir) = std::env::var("STUDYHALL_STUDY_CHILD") {
        record_until_killed(&dir);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", NAME, "--nocapture", "--test-threads=1"])
        .env("STUDYHALL_STUDY_CHILD", dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !dir.path().join("started").exists() {
        assert!(
            Instant::now() < deadline,
            "the recording process did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(3_100));
    child.kill().unwrap(); // SIGKILL: no drop, no last flush
    child.wait().unwrap();
    let clocks = TestClocks::new(&chrono::Local::now().format("%Y-%m-%d").to_string());
    let study = open(dir.path(), &clocks);
    let s = study.summary().unwrap();
    let total: f64 = s.days.iter().map(|d| d.seconds).sum();
    // 3.1 s in the room; the last step (≤ 250 ms) and the part-second carried over are
    // lost, nothing more.
    assert!((2.0..=4.0).contains(&total), "{total} s recorded of 3.1 s");
    assert_eq!(s.rooms[0].room, "killed");
}
