//! A short soak (the long one is `studyhall-loadgen soak`, in docs/benchmarks.md): rooms
//! with media, chat, whiteboard and timer traffic and people coming and going, against
//! the relay binary. Once everyone has left, the relay holds as many descriptors as it
//! did at rest: no socket, file or media connection outlives its user.

use std::time::Duration;

use studyhall_tests::loadgen::relay::RelayProcess;
use studyhall_tests::loadgen::soak::{self, Soak};

const SECRET: &str = "soak-test-secret-soak-test-secret-0123456";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_busy_half_minute_the_relay_is_back_to_its_descriptors_at_rest() {
    let binary = studyhall_client::host::find_relay_binary()
        .expect("studyhall-relay is built (cargo build --bins)");
    let relay = RelayProcess::start(&binary, SECRET, None, &[]).expect("the relay starts");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let shape = Soak {
        duration: Duration::from_secs(30),
        rooms: 2,
        media: 2,
        sample_every: Duration::from_secs(10),
        settle: Duration::from_secs(3),
        name: "soak".into(),
    };
    let report = soak::run(&relay.url, SECRET, relay.pid(), &shape).await;
    let text = report.markdown(&shape);
    assert!(report.errors.is_empty(), "{text}");
    assert_eq!(report.media_sessions, 4, "{text}");
    assert_eq!(report.media_sessions_receiving, 4, "{text}");
    assert!(report.chat_acked >= 2 * 14, "{text}");
    assert!(report.board_ops >= 2 * 25, "{text}");
    assert!(report.timer_changes >= 2, "{text}");
    assert!(report.visitors >= 2, "{text}");
    let (before, busy, after) = (
        report.baseline.expect("sampled"),
        report.samples.last().expect("sampled"),
        report.after.expect("sampled"),
    );
    assert!(busy.fds > before.fds, "the load holds descriptors: {text}");
    // The relay reports its heap (glibc), which the long run sets beside RSS.
    assert!(
        before.heap_bytes.is_some_and(|b| b > 0) && busy.heap_bytes > before.heap_bytes,
        "{text}"
    );
    // Closing is asynchronous: give the last sockets a moment more.
    let mut fds = after.fds;
    for _ in 0..20 {
        if fds <= before.fds {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
        fds = soak::open_fds(relay.pid()).expect("the relay runs");
    }
    assert!(fds <= before.fds, "{fds} descriptors open after: {text}");
}
