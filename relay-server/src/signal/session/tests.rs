//! The session's rules without sockets: frames go in as strings, the participant's
//! queue is read back, and what the session asked of the SFU is read from a recording
//! handle (no media task). Chat is real (SQLite in a temp dir). Timed rules run in tokio's
//! paused time.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use studyhall_protocol::{ClientFrame, ClientMessage, Grants, LeaveReason, PROTOCOL_VERSION};
use tokio::sync::mpsc;

use super::{Flow, Session};
use crate::config::Config;
use crate::room::features::hands::KEPT_THROUGH_RECONNECT;
use crate::room::{ConnHandle, Outbound};
use crate::server::Stores;
use crate::sfu::runner::{recording, SfuRecording};
use crate::state::Relay;

const SECRET: &str = "session-test-secret-0123456789abcdef";

struct Person {
    session: Session,
    rx: mpsc::Receiver<Outbound>,
}

impl Person {
    async fn send(&mut self, frame: Value) -> Flow {
        self.session
            .on_text(&frame.to_string(), Instant::now())
            .await
    }

    async fn send_at(&mut self, frame: Value, now: Instant) -> Flow {
        self.session.on_text(&frame.to_string(), now).await
    }

    fn drain(&mut self) -> Vec<Value> {
        let mut out = vec![];
        while let Ok(o) = self.rx.try_recv() {
            match o {
                Outbound::Text(t) => out.push(serde_json::from_str(&t).unwrap()),
                Outbound::Close { code, .. } => out.push(json!({ "close": code })),
            }
        }
        out
    }

    /// The reply to `request_id`, among what was queued.
    fn reply_to(&mut self, request_id: &str) -> Value {
        self.drain()
            .into_iter()
            .find(|m| m["request_id"] == request_id)
            .unwrap_or_else(|| panic!("no reply to {request_id}"))
    }
}

fn relay(dir: &std::path::Path) -> Relay {
    relay_and_sfu(dir).0
}

fn relay_and_sfu(dir: &std::path::Path) -> (Relay, SfuRecording) {
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        media_port: 0,
        data_dir: dir.to_path_buf(),
        chat_per_second: 1,
        chat_burst: 2,
        ..Config::default()
    };
    let (sfu, recording) = recording();
    let relay = Relay::with_sfu(config, SECRET, Stores::open_in(dir).unwrap(), sfu);
    (relay, recording)
}

async fn join(relay: &Relay, identity: &str, grants: Grants) -> Person {
    join_with_welcome(relay, identity, grants).await.0
}

/// Join, and the `joined` welcome as JSON.
async fn join_with_welcome(relay: &Relay, identity: &str, grants: Grants) -> (Person, Value) {
    let token = relay
        .keys
        .issue("r", identity, identity, grants, Duration::from_secs(3600))
        .unwrap();
    let frame = ClientFrame::new(ClientMessage::Join {
        room: "r".into(),
        token,
        protocol: PROTOCOL_VERSION,
        media: Default::default(),
    });
    let (conn, rx) = ConnHandle::new(256);
    let (session, welcome) = Session::join(relay, frame, conn, Instant::now())
        .await
        .map_err(|r| r.error)
        .unwrap();
    (
        Person { session, rx },
        serde_json::to_value(&welcome).unwrap(),
    )
}

#[tokio::test]
async fn requests_with_a_request_id_get_an_ack_and_others_get_nothing_extra() {
    let dir = tempfile::tempdir().unwrap();
    let relay = relay(dir.path());
    let mut ann = join(&relay, "ann", Grants::member()).await;
    ann.drain();
    ann.send(json!({"type":"raise_hand","request_id":"h1"}))
        .await;
    let got = ann.drain();
    assert!(got.iter().any(|m| m["type"] == "hand_queue"), "{got:?}");
    assert!(
        got.iter()
            .any(|m| m == &json!({"type":"ack","request_id":"h1"})),
        "{got:?}"
    );
    ann.send(json!({"type":"set_presence","presence":"away"}))
        .await;
    let got = ann.drain();
    assert!(got.iter().all(|m| m["type"] != "ack"), "{got:?}");
    assert_eq!(got[0]["participant"]["presence"], "away");
    ann.send(json!({"type":"set_media","mic":false,"request_id":"m1"}))
        .await;
    assert_eq!(ann.reply_to("m1")["type"], "ack");
}

#[tokio::test]
async fn a_missing_grant_is_forbidden_with_the_grant_named_and_the_room_undisturbed() {
    let dir = tempfile::tempdir().unwrap();
    let relay = relay(dir.path());
    let mut host = join(&relay, "host", Grants::host()).await;
    let mut bob = join(&relay, "bob", Grants::member()).await;
    host.drain();
    bob.drain();
    for (i, frame) in [
        json!({"type":"kick","identity":"host"}),
        json!({"type":"end_room"}),
        json!({"type":"chat_delete","seq":1}),
        json!({"type":"lower_hand_of","identity":"host"}),
    ]
    .into_iter()
    .enumerate()
    {
        let id = format!("f{i}");
        let mut frame = frame;
        frame["request_id"] = json!(id);
        assert_eq!(bob.send(frame).await, Flow::Continue);
        let reply = bob.reply_to(&id);
        assert_eq!(reply["code"], "forbidden", "{reply}");
        assert!(
            reply["message"].as_str().unwrap().contains("`host` grant"),
            "{reply}"
        );
    }
    assert!(host.drain().is_empty(), "the host heard nothing of it");
    let muted = Grants {
        chat: false,
        ..Grants::member()
    };
    let mut quiet = join(&relay, "quiet", muted).await;
    quiet.drain();
    quiet
        .send(json!({"type":"chat_send","client_msg_id":"c","text":"hi","request_id":"c"}))
        .await;
    let reply = quiet.reply_to("c");
    assert_eq!(reply["code"], "forbidden");
    assert!(reply["message"].as_str().unwrap().contains("`chat` grant"));
}

#[tokio::test]
async fn a_malformed_feature_message_names_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let relay = relay(dir.path());
    let mut host = join(&relay, "host", Grants::host()).await;
    host.drain();
    host.send(json!({"type":"lower_hand_of","who":"x","request_id":"b"}))
        .await;
    let reply = host.reply_to("b");
    assert_eq!(reply["code"], "bad_message");
    assert!(reply["message"].as_str().unwrap().contains("identity"));
    host.send(json!({"type":"set_presence","presence":"asleep","request_id":"p"}))
        .await;
    assert_eq!(host.reply_to("p")["code"], "bad_message");
    host.send(json!({"type":"raise_hand","request_id":"ok"}))
        .await;
    assert_eq!(host.reply_to("ok")["type"], "ack", "the session goes on");
}

#[tokio::test]
async fn host_actions_are_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let relay = relay(dir.path());
    let mut host = join(&relay, "host", Grants::host()).await;
    let mut bob = join(&relay, "bob", Grants::member()).await;
    host.drain();
    host.send(json!({"type":"kick","identity":"zed","request_id":"k0"}))
        .await;
    assert_eq!(host.reply_to("k0")["code"], "not_found");
    host.send(json!({"type":"kick","identity":"bob","request_id":"k1"}))
        .await;
    let got = host.drain();
    let left = got
        .iter()
        .position(|m| m["type"] == "participant_left")
        .unwrap();
    let ack = got.iter().position(|m| m["request_id"] == "k1").unwrap();
    assert_eq!(got[ack]["type"], "ack");
    assert!(left < ack, "the ack follows the change: {got:?}");
    assert!(bob.drain().iter().any(|m| m["type"] == "kicked"));
    host.send(json!({"type":"end_room","request_id":"e"})).await;
    let got = host.drain();
    assert_eq!(got[0], json!({"type":"ack","request_id":"e"}));
    assert_eq!(got[1]["type"], "room_ended");
}

#[tokio::test]
async fn chat_rate_limits_warn_then_disconnect() {
    let dir = tempfile::tempdir().unwrap();
    let relay = relay(dir.path());
    let mut ann = join(&relay, "ann", Grants::member()).await;
    ann.drain();
    // Time is given to the session, so the flood spans seconds without waiting them:
    // ten messages in each of four seconds against 1/s with a burst of 2.
    let t0 = Instant::now();
    let mut flows = vec![];
    for i in 0..40u64 {
        let at = t0 + Duration::from_millis(i / 10 * 1100 + i % 10);
        flows.push(
            ann.send_at(
                json!({"type":"chat_send","client_msg_id":format!("c{i}"),"text":"x"}),
                at,
            )
            .await,
        );
    }
    let got = ann.drain();
    let acks = got.iter().filter(|m| m["type"] == "chat_ack").count();
    assert!(
        (2..=6).contains(&acks),
        "the burst and the rate pass: {got:?}"
    );
    assert!(got
        .iter()
        .any(|m| m["code"] == "rate_limited" && m["fatal"] == false));
    assert!(
        flows.iter().any(|f| matches!(
            f,
            Flow::Close {
                leave: LeaveReason::Violation,
                ..
            }
        )),
        "a flood ends in a disconnect"
    );
}

#[tokio::test]
async fn a_hand_survives_a_dropped_connection_but_not_a_leave() {
    let dir = tempfile::tempdir().unwrap();
    let relay = relay(dir.path());
    let mut host = join(&relay, "host", Grants::host()).await;
    let mut bob = join(&relay, "bob", Grants::member()).await;
    bob.send(json!({"type":"raise_hand"})).await;
    bob.session.end(LeaveReason::Timeout).await;
    host.drain();
    let (mut bob, welcome) = join_with_welcome(&relay, "bob", Grants::member()).await;
    assert_eq!(welcome["features"]["hands"][0]["identity"], "bob");
    assert!(host
        .drain()
        .iter()
        .any(|m| m["type"] == "hand_queue" && m["hands"][0]["identity"] == "bob"));
    bob.send(json!({"type":"leave"})).await;
    bob.session.end(LeaveReason::Left).await;
    let got = host.drain();
    let queue = got
        .iter()
        .rev()
        .find(|m| m["type"] == "hand_queue")
        .unwrap();
    assert!(queue["hands"].as_array().unwrap().is_empty(), "{got:?}");
}

#[tokio::test(start_paused = true)]
async fn a_hand_set_aside_is_gone_when_its_owner_comes_back_too_late() {
    let dir = tempfile::tempdir().unwrap();
    let relay = relay(dir.path());
    let _host = join(&relay, "host", Grants::host()).await;
    let mut bob = join(&relay, "bob", Grants::member()).await;
    let mut cat = join(&relay, "cat", Grants::member()).await;
    bob.send(json!({"type":"raise_hand"})).await;
    cat.send(json!({"type":"raise_hand"})).await;
    bob.session.end(LeaveReason::Timeout).await;
    cat.session.end(LeaveReason::Timeout).await;
    // Cat comes back within the grace period, Bob after it.
    tokio::time::advance(KEPT_THROUGH_RECONNECT - Duration::from_secs(1)).await;
    let (_cat, welcome) = join_with_welcome(&relay, "cat", Grants::member()).await;
    assert_eq!(welcome["features"]["hands"][0]["identity"], "cat");
    tokio::time::advance(Duration::from_secs(2)).await;
    let (_bob, welcome) = join_with_welcome(&relay, "bob", Grants::member()).await;
    let hands: Vec<&str> = welcome["features"]["hands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["identity"].as_str().unwrap())
        .collect();
    assert_eq!(
        hands,
        ["cat"],
        "bob's hand waited {KEPT_THROUGH_RECONNECT:?} and no more"
    );
}

#[tokio::test]
async fn media_rules_reach_the_sfu_and_host_actions_take_media_away() {
    let dir = tempfile::tempdir().unwrap();
    let (relay, mut sfu) = relay_and_sfu(dir.path());
    let mut host = join(&relay, "host", Grants::host()).await;
    let mut bob = join(&relay, "bob", Grants::member()).await;
    let watcher = Grants {
        publish: false,
        ..Grants::member()
    };
    let mut quiet = join(&relay, "quiet", watcher).await;
    let joined = sfu.drain();
    assert!(joined.contains(&"join r host".to_string()), "{joined:?}");
    assert!(
        joined.contains(&"set_enabled r bob camera false".to_string()),
        "joined with media off: {joined:?}"
    );

    bob.send(json!({"type":"set_media","mic":true})).await;
    assert_eq!(sfu.drain(), ["set_enabled r bob microphone true"]);
    // Without `publish`, turning on is refused and the SFU hears nothing.
    quiet
        .send(json!({"type":"set_media","camera":true,"request_id":"q"}))
        .await;
    assert_eq!(quiet.reply_to("q")["code"], "forbidden");
    assert!(sfu.drain().is_empty());

    // A connection replaced by a newer one of the same identity no longer acts for it.
    let mut bob_again = join(&relay, "bob", Grants::member()).await;
    sfu.drain();
    bob.send(json!({"type":"set_media","mic":true})).await;
    assert!(
        sfu.drain().is_empty(),
        "the old connection does not act for the new one"
    );
    bob_again.send(json!({"type":"set_media","mic":true})).await;
    assert_eq!(sfu.drain(), ["set_enabled r bob microphone true"]);

    host.send(json!({"type":"kick","identity":"quiet"})).await;
    assert_eq!(sfu.drain(), ["leave r quiet"]);
    host.send(json!({"type":"end_room"})).await;
    let mut left = sfu.drain();
    left.sort();
    assert_eq!(left, ["leave r bob", "leave r host"]);
}
