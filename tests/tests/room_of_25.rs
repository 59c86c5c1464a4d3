//! A full room: 25 participants, every one publishing camera and microphone, through a
//! real relay process. A subscriber's SDP answer then outgrows the 64 KiB message limit
//! of every other message; the relay takes it (messages carrying SDP may be four times
//! larger) and everyone receives everyone. How well it does is measured by
//! `studyhall-loadgen suite` (docs/benchmarks.md), not here.

use std::sync::atomic::Ordering;
use std::time::Duration;

use studyhall_tests::loadgen::participant::{Publish, LARGEST_SUBSCRIBE_ANSWER};
use studyhall_tests::loadgen::relay::RelayProcess;
use studyhall_tests::loadgen::report::{self, Scenario};

const SECRET: &str = "room-of-25-secret-room-of-25-secret-000001";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_five_people_with_camera_and_microphone_all_receive_each_other() {
    let binary = studyhall_client::host::find_relay_binary().expect("relay binary is built");
    // Every other message is held to 32 KiB here, so the answers (some 42 KiB in a
    // room of 25) pass only as messages carrying SDP.
    let env = [(
        "STUDYHALL_MAX_MESSAGE_BYTES".to_string(),
        "32768".to_string(),
    )];
    let relay = RelayProcess::start(&binary, SECRET, None, &env).expect("relay starts");
    let mut scenario = Scenario::room(25);
    // Camera and microphone for everyone, at a tenth of the real rates: this is a debug
    // build on two cores, and the point is who receives whom, not how fast.
    scenario.publish = |i| Publish {
        slowdown: 10,
        ..report::camera_and_audio(i)
    };
    scenario.join_window = Duration::from_secs(10);
    scenario.warmup = Duration::from_secs(15);
    scenario.measure = Duration::from_secs(3);
    let target = report::Target::Studyhall {
        url: relay.url.clone(),
        secret: SECRET.into(),
    };
    let r = report::run(&target, relay.pid(), "room-of-25", &scenario).await;
    let largest = LARGEST_SUBSCRIBE_ANSWER.load(Ordering::Relaxed);
    println!(
        "room of 25: fidelity {:.3}, largest subscribe_answer {largest} bytes",
        r.fidelity
    );
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert!(
        largest > 32 * 1024,
        "a full room's answer is larger than other messages may be ({largest} bytes)"
    );
    // Every subscriber got media from every publisher's camera and microphone (how much
    // of it is the benchmark's business).
    assert!(
        r.silent_pairs.is_empty(),
        "{} of 1200 (subscriber, publisher, track) got nothing: {:?}",
        r.silent_pairs.len(),
        &r.silent_pairs[..r.silent_pairs.len().min(20)]
    );
}
