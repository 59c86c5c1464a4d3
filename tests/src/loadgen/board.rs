//! Whiteboard load: how fast a stroke being drawn reaches a room of viewers, and what it
//! costs to join a large board.
//!
//! Live strokes: one drawer sends `board_live` 30 times a second; the stroke id carries
//! its send time, so each viewer measures send → its socket. The drawer also stores a
//! stroke 5 times a second (`board_add`, its object id carrying the send time), measured
//! the same way to each viewer's `board_op`. With a flooder, a second person sends
//! stored strokes as fast as the socket takes them meanwhile (most are refused over the
//! per-person rate): the drawer's latencies show whether the flood slows anyone else. Joining: a board of many
//! objects is written to the store first (as the relay would have stored it), then a
//! client joins and syncs; the time from connecting to the last snapshot part and the
//! bytes of the snapshot's frames are measured.

use std::time::{Duration, Instant};

use studyhall_client::features::board::{wave, RoomBoard};
use studyhall_client::SignalClient;
use studyhall_protocol::board::FIRST_PAGE;
use studyhall_protocol::{
    Board, BoardChange, BoardEvent, BoardRequest, FeatureEvent, Grants, MediaState, ServerMessage,
};
use studyhall_relay::auth::TokenKeys;
use studyhall_relay::store::BoardStore;

use super::relay::cpu_time;
use super::{now_us, percentile};

#[derive(Debug, Clone, Default)]
pub struct LiveReport {
    pub viewers: usize,
    pub sent: u64,
    /// Live strokes received by viewers ÷ (sent × viewers).
    pub delivery: f64,
    pub latency_p50_us: Option<u32>,
    pub latency_p99_us: Option<u32>,
    /// The drawer's stored strokes: sent, and send → a viewer's `board_op`.
    pub stored_sent: u64,
    pub stored_p50_us: Option<u32>,
    pub stored_p99_us: Option<u32>,
    /// Stored strokes the flooder sent (0: no flooder).
    pub flood_sent: u64,
    /// Seconds after which the relay cut the flooder off (for breaking the message rate
    /// again and again), if it did.
    pub flood_cut_after_s: Option<f64>,
    pub cpu_us_per_delivery: Option<f64>,
    pub errors: Vec<String>,
}

impl LiveReport {
    pub const MARKDOWN_HEADER: &'static str = "| live strokes | viewers | sent | delivery | latency p50 / p99 (µs) | stored strokes sent | stored latency p50 / p99 (µs) | flooder's stored strokes sent | relay CPU µs per delivered stroke |\n|---|---|---|---|---|---|---|---|---|";

    pub fn markdown_row(&self) -> String {
        let o = |v: Option<u32>| v.map_or("–".to_string(), |v| v.to_string());
        format!(
            "| 1 drawer at 30/s{} | {} | {} | {:.4} | {} / {} | {} | {} / {} | {} | {} |",
            if self.flood_sent > 0 {
                ", 1 flooder"
            } else {
                ""
            },
            self.viewers,
            self.sent,
            self.delivery,
            o(self.latency_p50_us),
            o(self.latency_p99_us),
            self.stored_sent,
            o(self.stored_p50_us),
            o(self.stored_p99_us),
            match self.flood_cut_after_s {
                Some(s) if self.flood_sent > 0 =>
                    format!("{} (cut off after {s:.1} s)", self.flood_sent),
                _ => self.flood_sent.to_string(),
            },
            self.cpu_us_per_delivery
                .map_or("–".to_string(), |v| format!("{v:.1}"))
        )
    }
}

fn token(keys: &TokenKeys, room: &str, id: &str, grants: Grants) -> String {
    keys.issue(room, id, id, grants, Duration::from_secs(3600))
        .expect("token")
}

/// One drawer and `viewers` viewers (and a flooder when `flood`); the drawer sends 30
/// live strokes and 5 stored strokes a second for `measure`.
pub async fn live(
    url: &str,
    secret: &str,
    pid: u32,
    room: &str,
    viewers: usize,
    measure: Duration,
    flood: bool,
) -> LiveReport {
    let keys = TokenKeys::new(secret.as_bytes(), Duration::from_secs(30));
    let mut errors = vec![];
    let (mut drawer, _) = match SignalClient::join(
        url,
        room,
        &token(&keys, room, "drawer", Grants::host()),
        MediaState::default(),
    )
    .await
    {
        Ok(j) => j,
        Err(e) => {
            return LiveReport {
                errors: vec![format!("the drawer cannot join: {e}")],
                ..Default::default()
            }
        }
    };
    let mut tasks = vec![];
    for i in 0..viewers {
        let id = format!("v{i}");
        let t = token(&keys, room, &id, Grants::member());
        let (mut client, _) = match SignalClient::join(url, room, &t, MediaState::default()).await {
            Ok(j) => j,
            Err(e) => {
                errors.push(format!("{id} cannot join: {e}"));
                continue;
            }
        };
        tasks.push(tokio::spawn(async move {
            let (mut latencies, mut stored) = (vec![], vec![]);
            let end = tokio::time::Instant::now() + measure + Duration::from_secs(2);
            while let Ok(Ok(msg)) = tokio::time::timeout_at(end, client.recv()).await {
                let sent_at = |id: &str, prefix: &str| {
                    id.strip_prefix(prefix).and_then(|s| s.parse::<u64>().ok())
                };
                match msg {
                    ServerMessage::Feature(FeatureEvent::Board(BoardEvent::BoardLive {
                        id,
                        ..
                    })) => {
                        if let Some(sent) = sent_at(&id, "live-") {
                            latencies.push(now_us().saturating_sub(sent) as u32);
                        }
                    }
                    ServerMessage::Feature(FeatureEvent::Board(BoardEvent::BoardOp(op))) => {
                        if let BoardChange::Add { object, .. } = &op.change {
                            if let Some(sent) = sent_at(&object.id, "s-") {
                                stored.push(now_us().saturating_sub(sent) as u32);
                            }
                        }
                    }
                    _ => {}
                }
            }
            (latencies, stored)
        }));
    }
    // The flooder: stored strokes as fast as its socket takes them, answers unread
    // except to keep its socket drained.
    let flooder = if flood {
        match SignalClient::join(
            url,
            room,
            &token(&keys, room, "flooder", Grants::host()),
            MediaState::default(),
        )
        .await
        {
            Ok((client, _)) => Some(client),
            Err(e) => {
                errors.push(format!("the flooder cannot join: {e}"));
                None
            }
        }
    } else {
        None
    };
    // Let the joins settle before measuring.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let flood_task = flooder.map(|mut client| {
        let stroke = wave("f", 0);
        tokio::spawn(async move {
            let mut n = 0u64;
            let started = Instant::now();
            let end = started + measure;
            let mut cut = None;
            while Instant::now() < end {
                let mut object = stroke.clone();
                object.id = format!("f-{n}");
                let request = BoardRequest::BoardAdd {
                    page: FIRST_PAGE.into(),
                    object,
                };
                if client.send(request.into()).await.is_err() {
                    cut = Some(started.elapsed().as_secs_f64());
                    break;
                }
                n += 1;
                // Read what came back so the relay never sees a slow consumer here.
                loop {
                    match tokio::time::timeout(Duration::from_micros(1), client.recv()).await {
                        Ok(Ok(_)) => continue,
                        Ok(Err(_)) => {
                            cut.get_or_insert(started.elapsed().as_secs_f64());
                            break;
                        }
                        Err(_) => break,
                    }
                }
                if cut.is_some() {
                    break;
                }
                if n % 50 == 0 {
                    tokio::task::yield_now().await;
                }
            }
            (n, cut)
        })
    });
    let cpu_from = cpu_time(pid);
    let start = Instant::now();
    let mut stored_sent = 0u64;
    let mut tick = tokio::time::interval(Duration::from_millis(33));
    let mut sent = 0u64;
    let stroke = wave("w", 0);
    while start.elapsed() < measure {
        tick.tick().await;
        let studyhall_protocol::Shape::Pen { points } = &stroke.shape else {
            unreachable!()
        };
        let k = (sent as usize) % points.len();
        let request = BoardRequest::BoardLive {
            page: FIRST_PAGE.into(),
            id: format!("live-{}", now_us()),
            shape: studyhall_protocol::Shape::Pen {
                points: points[k..(k + 2).min(points.len())].to_vec(),
            },
            style: stroke.style.clone(),
            from: k as u32,
        };
        if let Err(e) = drawer.send(request.into()).await {
            errors.push(format!("the drawer's send failed: {e}"));
            break;
        }
        sent += 1;
        if sent % 6 == 0 {
            let mut object = stroke.clone();
            object.id = format!("s-{}", now_us());
            let request = BoardRequest::BoardAdd {
                page: FIRST_PAGE.into(),
                object,
            };
            if let Err(e) = drawer.send(request.into()).await {
                errors.push(format!("the drawer's stored stroke failed: {e}"));
                break;
            }
            stored_sent += 1;
        }
        // The drawer's own answers are read so that its socket never backs up.
        while let Ok(Ok(_)) = tokio::time::timeout(Duration::from_micros(1), drawer.recv()).await {}
    }
    let (flood_sent, flood_cut_after_s) = match flood_task {
        Some(t) => t.await.unwrap_or((0, None)),
        None => (0, None),
    };
    let mut all = vec![];
    let mut stored = vec![];
    for t in tasks {
        if let Ok((l, s)) = t.await {
            all.extend(l);
            stored.extend(s);
        }
    }
    stored.sort_unstable();
    let cpu = match (cpu_from, cpu_time(pid)) {
        (Some(a), Some(b)) if !all.is_empty() => {
            Some((b - a).as_micros() as f64 / all.len() as f64)
        }
        _ => None,
    };
    let received = all.len() as u64;
    all.sort_unstable();
    LiveReport {
        viewers,
        sent,
        delivery: if sent == 0 || viewers == 0 {
            0.0
        } else {
            received as f64 / (sent * viewers as u64) as f64
        },
        latency_p50_us: percentile(&all, 0.50),
        latency_p99_us: percentile(&all, 0.99),
        stored_sent,
        stored_p50_us: percentile(&stored, 0.50),
        stored_p99_us: percentile(&stored, 0.99),
        flood_sent,
        flood_cut_after_s,
        cpu_us_per_delivery: cpu,
        errors,
    }
}

#[derive(Debug, Clone, Default)]
pub struct JoinReport {
    pub objects: usize,
    pub stored_bytes: usize,
    /// Connect → `joined`.
    pub join_ms: f64,
    /// Connect → the board's last snapshot part.
    pub synced_ms: f64,
    /// Bytes of the snapshot's frames.
    pub snapshot_bytes: usize,
    pub parts: u32,
    pub errors: Vec<String>,
}

impl JoinReport {
    pub const MARKDOWN_HEADER: &'static str = "| joining a board | store | objects | board JSON (bytes) | joined (ms) | board complete (ms) | bytes received | parts |\n|---|---|---|---|---|---|---|---|";

    pub fn markdown_row(&self, store: &str) -> String {
        format!(
            "| a late joiner | {store} | {} | {} | {:.1} | {:.1} | {} | {} |",
            self.objects,
            self.stored_bytes,
            self.join_ms,
            self.synced_ms,
            self.snapshot_bytes,
            self.parts
        )
    }
}

/// A board of `objects` wavy strokes over as many pages as the page limit needs.
pub fn big_board(objects: usize) -> Board {
    let mut board = Board::new("bench-board");
    let per_page = studyhall_protocol::board::MAX_OBJECTS_PER_PAGE;
    let mut page = FIRST_PAGE.to_string();
    for i in 0..objects {
        if i > 0 && i % per_page == 0 {
            page = format!("page-{}", i / per_page + 1);
            board
                .apply(&BoardChange::AddPage {
                    page: page.clone(),
                    index: u32::MAX,
                    annotates: None,
                })
                .expect("a page");
        }
        let mut object = wave(&format!("o{i}"), i as u32);
        object.author = "lecturer".into();
        board
            .apply(&BoardChange::Add {
                page: page.clone(),
                object,
            })
            .expect("an object");
    }
    board.seq = objects as u64;
    board
}

/// Store `board` as `room`'s, then time a client joining and syncing it.
pub async fn join(
    url: &str,
    secret: &str,
    store: &dyn BoardStore,
    room: &str,
    board: &Board,
) -> JoinReport {
    let json = serde_json::to_string(board).expect("a board serializes");
    let mut report = JoinReport {
        objects: board.objects(),
        stored_bytes: json.len(),
        ..Default::default()
    };
    if let Err(e) = store
        .compact(room, board.seq, &json, Duration::from_secs(3600))
        .await
    {
        report
            .errors
            .push(format!("the board could not be stored: {e}"));
        return report;
    }
    let keys = TokenKeys::new(secret.as_bytes(), Duration::from_secs(30));
    let started = Instant::now();
    let (mut client, info) = match SignalClient::join(
        url,
        room,
        &token(&keys, room, "late", Grants::member()),
        MediaState::default(),
    )
    .await
    {
        Ok(j) => j,
        Err(e) => {
            report.errors.push(format!("cannot join: {e}"));
            return report;
        }
    };
    report.join_ms = started.elapsed().as_secs_f64() * 1000.0;
    let mut view = RoomBoard::new(&info.features.board);
    if let Err(e) = client.send(view.sync_request()).await {
        report.errors.push(format!("cannot sync: {e}"));
        return report;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while view.board.is_none() {
        match tokio::time::timeout_at(deadline, client.recv()).await {
            Ok(Ok(ServerMessage::Feature(FeatureEvent::Board(event)))) => {
                if matches!(event, BoardEvent::BoardSnapshot { .. }) {
                    report.parts += 1;
                    report.snapshot_bytes += serde_json::to_string(&ServerMessage::Feature(
                        FeatureEvent::Board(event.clone()),
                    ))
                    .map_or(0, |s| s.len());
                }
                view.apply(&event);
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                report.errors.push(format!("connection ended: {e}"));
                return report;
            }
            Err(_) => {
                report
                    .errors
                    .push("the board did not arrive within 60 s".into());
                return report;
            }
        }
    }
    report.synced_ms = started.elapsed().as_secs_f64() * 1000.0;
    if view.board.as_ref() != Some(board) {
        report
            .errors
            .push("the board that arrived differs from the stored one".into());
    }
    report
}
