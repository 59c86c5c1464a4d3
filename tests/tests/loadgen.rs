//! The load generator works: a tiny run (2 participants, 2 s) against a real relay
//! process delivers stamped frames both ways and measures them. Speed is not asserted
//! here; `studyhall-loadgen suite` reports it (docs/benchmarks.md).

use std::time::Duration;

use studyhall_tests::loadgen::relay::RelayProcess;
use studyhall_tests::loadgen::report::{self, Scenario};

const SECRET: &str = "loadgen-test-secret-loadgen-test-secret-01";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tiny_run_delivers_and_measures() {
    let binary = studyhall_client::host::find_relay_binary().expect("relay binary is built");
    let relay = RelayProcess::start(&binary, SECRET, None, &[]).expect("relay starts");
    let mut scenario = Scenario::room(2);
    scenario.join_window = Duration::from_millis(300);
    scenario.warmup = Duration::from_secs(1);
    scenario.measure = Duration::from_secs(2);
    let target = report::Target::Studyhall {
        url: relay.url.clone(),
        secret: SECRET.into(),
    };
    let r = report::run(&target, relay.pid(), "tiny", &scenario).await;
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    // 2 s of 30 fps video and 50 pps audio, each way.
    assert!(r.expected >= 300, "{r:?}");
    assert!(r.fidelity > 0.9, "{r:?}");
    assert!(
        r.latency_p50_us.is_some() && r.join_p50_ms.is_some(),
        "{r:?}"
    );
    assert!(r.egress_packets >= r.delivered, "{r:?}");
    assert!(!r.cpu.is_zero(), "relay CPU is read from /proc: {r:?}");
    let row = r.markdown_row("Studyhall");
    assert!(row.starts_with("| room of 2"), "{row}");
}

/// The whiteboard load works: live strokes reach the viewers with their latency
/// measured, and a late joiner of a stored board gets the same board back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tiny_whiteboard_run_delivers_and_measures() {
    use studyhall_tests::loadgen::board;
    let binary = studyhall_client::host::find_relay_binary().expect("relay binary is built");
    let relay = RelayProcess::start(&binary, SECRET, None, &[]).expect("relay starts");
    let live = board::live(
        &relay.url,
        SECRET,
        relay.pid(),
        "tiny-live",
        2,
        Duration::from_secs(1),
        true,
    )
    .await;
    assert!(live.errors.is_empty(), "{:?}", live.errors);
    assert!(live.sent >= 20, "{live:?}");
    assert!(live.delivery > 0.9, "{live:?}");
    assert!(live.latency_p50_us.is_some(), "{live:?}");
    // The drawer's stored strokes reach the viewers while someone floods the board.
    assert!(live.stored_sent >= 3, "{live:?}");
    assert!(live.stored_p50_us.is_some(), "{live:?}");
    assert!(live.flood_sent > live.stored_sent, "{live:?}");
    assert!(live.markdown_row().contains("1 flooder"));

    let store = studyhall_relay::store::SqliteBoards::open_in(relay.data_dir()).unwrap();
    let big = board::big_board(2_100);
    assert_eq!(big.pages.len(), 2, "the page limit spreads it over pages");
    let joined = board::join(&relay.url, SECRET, &store, "tiny-join", &big).await;
    assert!(joined.errors.is_empty(), "{:?}", joined.errors);
    assert!(
        joined.parts > 1 && joined.snapshot_bytes >= joined.stored_bytes,
        "{joined:?}"
    );
    assert!(joined.markdown_row("SQLite").contains("| 2100 |"));
}

/// The noise-suppression benchmark runs and measures something (its numbers go to
/// docs/benchmarks.md, not into assertions).
#[test]
fn the_noise_suppression_cost_is_measured() {
    let cost = studyhall_tests::loadgen::denoise::measure(Duration::from_secs(1));
    assert!(cost.wall > Duration::ZERO, "{cost:?}");
    assert!(cost.us_per_frame() > 0.0, "{cost:?}");
    assert!(
        cost.markdown().contains("per 10 ms frame"),
        "{}",
        cost.markdown()
    );
}
