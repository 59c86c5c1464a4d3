//! `studyhall-loadgen`: put a room's worth of emulated participants on a relay and report
//! fidelity, forwarding latency, join time and the relay's CPU and memory.
//!
//! ```sh
//! studyhall-loadgen run --participants 10 --measure 10s     # one room against a fresh relay
//! studyhall-loadgen suite                                    # every scenario, as markdown
//! studyhall-loadgen soak --duration 30m                      # the long run: memory, fds
//! studyhall-loadgen denoise                                  # noise suppression CPU per mic
//! studyhall-loadgen constrained                              # a receiver on a poor link
//! studyhall-loadgen encoders                                 # the small layer's encoding CPU
//! ```

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use studyhall_tests::cluster::RedisServer;
use studyhall_tests::loadgen::relay::{pin_self, NullRelayProcess, RelayProcess};
use studyhall_tests::loadgen::report::{self, Report, Scenario, Target};
use studyhall_tests::loadgen::{
    chat, constrained, denoise, encoders, janus, null, participant, soak,
};

#[derive(Parser)]
#[command(version, about = "Load generator for studyhall-relay")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// The relay binary (default: beside this program, then PATH).
    #[arg(long, global = true)]
    relay_binary: Option<PathBuf>,
    /// Pin the relay to core 0 and the generator to core 1 (needs 2 cores).
    #[arg(long, global = true)]
    pin: bool,
    /// Systems to load: studyhall, janus, null (comma-separated).
    #[arg(
        long,
        global = true,
        value_delimiter = ',',
        default_value = "studyhall,janus,null"
    )]
    systems: Vec<String>,
}

#[derive(Subcommand)]
enum Command {
    /// One room.
    Run {
        #[arg(long, default_value_t = 2)]
        participants: usize,
        /// Length of the measuring window.
        #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
        measure: Duration,
        /// Joins are spread over this long (default: 200 ms per participant).
        #[arg(long, value_parser = humantime::parse_duration)]
        join_window: Option<Duration>,
        /// Participant 0 also shares a screen.
        #[arg(long)]
        screen: bool,
        /// Only participant 0 publishes, and only audio.
        #[arg(long)]
        audio_only: bool,
    },
    /// Every scenario, one fresh relay each; prints a markdown table.
    Suite {
        #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
        measure: Duration,
        /// Also write `participants<TAB>system<TAB>cpu µs per egress packet` lines here.
        #[arg(long)]
        plot_data: Option<PathBuf>,
    },
    /// Chat only: USERS each send RATE messages per second, with the embedded store and
    /// with Redis (a redis-server started on a free port, append-only, fsync always).
    Chat {
        #[arg(long, default_value_t = 25)]
        users: usize,
        #[arg(long, default_value_t = 10)]
        rate: u32,
        #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
        measure: Duration,
    },
    /// Whiteboard: live-stroke latency to VIEWERS, and a late joiner fetching a board
    /// of OBJECTS objects, with the embedded store and with Redis.
    Board {
        #[arg(long, default_value_t = 24)]
        viewers: usize,
        #[arg(long, default_value_t = 5000)]
        objects: usize,
        #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
        measure: Duration,
    },
    /// The relay's egress (a hosting member's upload) in rooms of each size, cameras on:
    /// everyone receiving everything, a page of 8 cameras in large tiles, in small tiles
    /// with two-layer cameras, the same with only 2 people speaking (the relay forwards
    /// speech and the loudest microphones), and a lecture with a screen share. One fresh
    /// relay per run; prints markdown.
    Egress {
        #[arg(long, value_delimiter = ',', default_values_t = [5, 10, 25])]
        participants: Vec<usize>,
        #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
        measure: Duration,
    },
    /// What the camera's small layer costs its publisher: VP8 encoding of the app's
    /// camera alone and with the small layer, on one thread, for VIDEO of video.
    Encoders {
        #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
        video: Duration,
    },
    /// A receiver behind a constrained link (the shaping proxy: DOWN_MBIT Mbit/s down,
    /// LOSS_PERCENT loss and RTT_MS round trip), showing a speaker's 640×360 camera at
    /// 30 fps large and two others small: the speaker's frames a second and time frozen,
    /// and the same over a clear link for comparison. Real clients; prints markdown.
    Constrained {
        #[arg(long, default_value_t = 5.0)]
        down_mbit: f64,
        #[arg(long, default_value_t = 5.0)]
        loss_percent: f64,
        #[arg(long, default_value_t = 100)]
        rtt_ms: u64,
        #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
        measure: Duration,
    },
    /// The long run: ROOMS rooms with MEDIA participants each (joining and leaving
    /// throughout), chat, whiteboard and timer traffic, for DURATION; the relay's memory
    /// and open descriptors are sampled, and again after everyone left. Prints markdown.
    Soak {
        #[arg(long, default_value = "30m", value_parser = humantime::parse_duration)]
        duration: Duration,
        #[arg(long, default_value_t = 3)]
        rooms: usize,
        #[arg(long, default_value_t = 4)]
        media: usize,
        #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
        sample_every: Duration,
        /// How long after everyone left the relay is sampled again (its idle memory trim
        /// runs once a minute).
        #[arg(long, default_value = "90s", value_parser = humantime::parse_duration)]
        settle: Duration,
        /// Run the whole soak this many times on the same relay (new rooms each time):
        /// memory that only grows from round to round is a leak; memory reused is not.
        #[arg(long, default_value_t = 1)]
        rounds: usize,
    },
    /// What noise suppression (RNNoise) costs per microphone: AUDIO worth of synthetic
    /// input through it, on one thread.
    Denoise {
        #[arg(long, default_value = "120s", value_parser = humantime::parse_duration)]
        audio: Duration,
    },
    /// Serve as the null relay on 127.0.0.1:PORT (started by `run` and `suite`).
    NullRelay {
        #[arg(long)]
        port: u16,
    },
}

const SECRET: &str = "loadgen-secret-loadgen-secret-0123456789";

/// What participant `i` of a scenario publishes (and shows).
type PublishFn = fn(usize) -> participant::Publish;

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut plot: Option<PathBuf> = None;
    if let Command::Denoise { audio } = cli.command {
        if cli.pin {
            pin_self(1)?;
        }
        println!("| what | input | CPU | per microphone |\n|---|---|---|---|");
        println!("{}", denoise::measure(audio).markdown());
        return Ok(());
    }
    if let Command::NullRelay { port } = cli.command {
        let socket = std::net::UdpSocket::bind(("127.0.0.1", port))?;
        null::serve(socket)?;
        return Ok(());
    }
    let binary = match cli.relay_binary.clone() {
        Some(b) => b,
        None => studyhall_client::host::find_relay_binary()?,
    };
    if cli.pin {
        pin_self(1)?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(if cli.pin { 1 } else { 2 })
        .enable_all()
        .build()?;
    let scenarios = match cli.command {
        Command::Run {
            participants,
            measure,
            join_window,
            screen,
            audio_only,
        } => {
            let mut s = Scenario::room(participants);
            s.measure = measure;
            if let Some(w) = join_window {
                s.join_window = w;
            }
            if screen {
                s.publish = report::with_screen_share;
                s.name = format!("room of {participants}, camera + audio + screen share");
            }
            if audio_only {
                s.publish = report::one_speaker;
                s.name = format!("room of {participants}, audio only, one speaker");
            }
            vec![s]
        }
        Command::Suite {
            measure,
            ref plot_data,
        } => {
            plot = plot_data.clone();
            suite(measure)
        }
        Command::Chat {
            users,
            rate,
            measure,
        } => {
            println!("{}", chat::ChatReport::MARKDOWN_HEADER);
            for row in chat_runs(&runtime, &binary, cli.pin, users, rate, measure)? {
                println!("{row}");
            }
            return Ok(());
        }
        Command::Board {
            viewers,
            objects,
            measure,
        } => {
            for line in board_runs(&runtime, &binary, cli.pin, viewers, objects, measure)? {
                println!("{line}");
            }
            return Ok(());
        }
        Command::Egress {
            ref participants,
            measure,
        } => {
            println!("{}", Report::EGRESS_HEADER);
            // (what each receives, what each publishes, the relay's upload budget in kbit/s)
            let views: [(&str, PublishFn, Option<u32>); 7] = [
                ("everyone (no view)", report::app_camera, None),
                ("a page of 8 large tiles", report::paged, None),
                (
                    "a page of 8 small tiles, two layers",
                    report::paged_small,
                    None,
                ),
                (
                    "a page of 8 small tiles, two layers, 2 speaking",
                    report::paged_small_two_speak,
                    None,
                ),
                (
                    "the same, 25 Mbit/s budget",
                    report::paged_small_two_speak,
                    Some(25_000),
                ),
                (
                    "a page of 8 large tiles, 2 speaking, 25 Mbit/s budget",
                    report::paged_two_speak,
                    Some(25_000),
                ),
                (
                    "lecture: a 1.2 Mbit/s screen share large, 8 small tiles, 1 speaking",
                    report::lecture,
                    None,
                ),
            ];
            for &n in participants {
                for (label, publish, budget) in views {
                    let mut env = vec![("STUDYHALL_MAX_ROOM_SIZE".into(), "50".into())];
                    if let Some(kbps) = budget {
                        env.push(("STUDYHALL_UPLOAD_BUDGET_KBPS".into(), kbps.to_string()));
                    }
                    let relay = RelayProcess::start(&binary, SECRET, cli.pin.then_some(0), &env)?;
                    let mut s = Scenario::room(n);
                    s.publish = publish;
                    s.measure = measure;
                    if budget.is_some() {
                        // The budget turns tiles back up after 5 s of room: measure it
                        // settled.
                        s.warmup = Duration::from_secs(10);
                    }
                    let target = Target::Studyhall {
                        url: relay.url.clone(),
                        secret: SECRET.into(),
                    };
                    // The relay's own count of its upload, sampled through the window.
                    let sampler = runtime.spawn(report::sample_upload(
                        relay.addr,
                        s.join_window + s.warmup,
                        measure,
                    ));
                    let mut r = runtime.block_on(report::run(&target, relay.pid(), "egress", &s));
                    r.relay_upload = runtime.block_on(sampler).ok().flatten();
                    println!("{}", r.egress_row(label));
                    for e in r.errors.iter().take(3) {
                        eprintln!("  {label}, {n}: {e}");
                    }
                }
            }
            return Ok(());
        }
        Command::Encoders { video } => {
            println!("{}", encoders::EncodeCost::MARKDOWN_HEADER);
            for cost in encoders::measure(video).map_err(anyhow::Error::msg)? {
                println!("{}", cost.markdown());
            }
            return Ok(());
        }
        Command::Constrained {
            down_mbit,
            loss_percent,
            rtt_ms,
            measure,
        } => {
            use studyhall_tests::lossy::Link;
            println!("{}", constrained::ConstrainedReport::MARKDOWN_HEADER);
            let shaped = Link {
                loss: loss_percent / 100.0,
                delay: Duration::from_millis(rtt_ms / 2),
                down_bps: Some((down_mbit * 1e6) as u64),
                queue: Duration::from_millis(200),
            };
            for link in [Link::CLEAR, shaped] {
                let r = runtime
                    .block_on(constrained::run(
                        &binary,
                        link,
                        Duration::from_secs(5),
                        measure,
                    ))
                    .map_err(anyhow::Error::msg)?;
                println!("{}", r.markdown_row());
            }
            return Ok(());
        }
        Command::Soak {
            duration,
            rooms,
            media,
            sample_every,
            settle,
            rounds,
        } => {
            let relay = RelayProcess::start(&binary, SECRET, cli.pin.then_some(0), &[])?;
            // The baseline is the relay at rest, a moment after it started.
            std::thread::sleep(Duration::from_secs(2));
            for round in 1..=rounds.max(1) {
                let soak = soak::Soak {
                    duration,
                    rooms,
                    media,
                    sample_every,
                    settle,
                    name: format!("soak{round}"),
                };
                let report = runtime.block_on(soak::run(&relay.url, SECRET, relay.pid(), &soak));
                if rounds > 1 {
                    println!("### Round {round} of {rounds}\n");
                }
                println!("{}", report.markdown(&soak));
            }
            return Ok(());
        }
        Command::NullRelay { .. } | Command::Denoise { .. } => unreachable!("handled above"),
    };
    let me = std::env::current_exe()?;
    println!("{}", Report::MARKDOWN_HEADER);
    let mut failed = false;
    for (i, scenario) in scenarios.iter().enumerate() {
        for system in &cli.systems {
            let room = format!("bench-{i}");
            let pin = cli.pin.then_some(0);
            let (report, label) = match system.as_str() {
                "studyhall" => {
                    let relay = RelayProcess::start(
                        &binary,
                        SECRET,
                        pin,
                        &[("STUDYHALL_MAX_ROOM_SIZE".into(), "50".into())],
                    )?;
                    let target = Target::Studyhall {
                        url: relay.url.clone(),
                        secret: SECRET.into(),
                    };
                    (
                        runtime.block_on(report::run(&target, relay.pid(), &room, scenario)),
                        "Studyhall",
                    )
                }
                "null" => {
                    let relay = NullRelayProcess::start(&me, pin)?;
                    let target = Target::Null { addr: relay.addr };
                    (
                        runtime.block_on(report::run(&target, relay.pid(), &room, scenario)),
                        "null relay",
                    )
                }
                "janus" => {
                    let (iface, ip) = janus::lan_address().ok_or_else(|| {
                        anyhow::anyhow!("Janus needs a non-loopback IPv4 address")
                    })?;
                    let janus = janus::JanusProcess::start(
                        &iface,
                        pin,
                        std::path::Path::new("/etc/janus"),
                    )?;
                    let room_id = 1000 + i as u64;
                    runtime
                        .block_on(janus::create_room(janus.api, room_id))
                        .map_err(|e| anyhow::anyhow!(e))?;
                    let target = Target::Janus {
                        api: janus.api,
                        ip,
                        room: room_id,
                    };
                    (
                        runtime.block_on(report::run(&target, janus.pid(), &room, scenario)),
                        "Janus 1.1",
                    )
                }
                other => anyhow::bail!("unknown system `{other}` (studyhall, janus, null)"),
            };
            println!("{}", report.markdown_row(label));
            if let (Some(path), true, Some(cpu)) =
                (&plot, scenario.plotted, report.cpu_us_per_egress_packet)
            {
                use std::io::Write;
                let mut f = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)?;
                writeln!(f, "{}\t{label}\t{cpu:.2}", scenario.participants)?;
            }
            for e in report.errors.iter().take(5) {
                eprintln!("  {label}, {}: {e}", scenario.name);
            }
            failed |= report.delivered == 0;
        }
    }
    if failed {
        anyhow::bail!("a scenario delivered no media");
    }
    Ok(())
}

/// The chat load with each store; markdown rows.
fn chat_runs(
    runtime: &tokio::runtime::Runtime,
    binary: &std::path::Path,
    pin: bool,
    users: usize,
    rate: u32,
    measure: Duration,
) -> anyhow::Result<Vec<String>> {
    let limits = [
        ("STUDYHALL_CHAT_PER_SECOND", (rate * 2).to_string()),
        ("STUDYHALL_CHAT_BURST", (rate * 2).to_string()),
        (
            "STUDYHALL_MESSAGES_PER_SECOND",
            (rate * 4).max(20).to_string(),
        ),
        ("STUDYHALL_MESSAGE_BURST", (rate * 4).max(50).to_string()),
    ];
    let mut rows = Vec::new();
    for store in ["SQLite (embedded)", "Redis"] {
        let redis = (store == "Redis").then(RedisServer::start);
        let mut env: Vec<(String, String)> = limits
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        if let Some(r) = &redis {
            env.push(("STUDYHALL_REDIS_URL".into(), r.url()));
            env.push(("STUDYHALL_NODE_ID".into(), "bench".into()));
        }
        let relay = RelayProcess::start(binary, SECRET, pin.then_some(0), &env)?;
        let report = runtime.block_on(chat::run(
            &relay.url,
            SECRET,
            relay.pid(),
            "chat",
            users,
            rate,
            measure,
        ));
        for e in report.errors.iter().take(5) {
            eprintln!("  chat, {store}: {e}");
        }
        rows.push(report.markdown_row(store));
    }
    Ok(rows)
}

/// The whiteboard loads; two markdown tables.
fn board_runs(
    runtime: &tokio::runtime::Runtime,
    binary: &std::path::Path,
    pin: bool,
    viewers: usize,
    objects: usize,
    measure: Duration,
) -> anyhow::Result<Vec<String>> {
    use studyhall_relay::store::{RedisBoards, SqliteBoards};
    use studyhall_tests::loadgen::board;
    let mut lines = vec![board::LiveReport::MARKDOWN_HEADER.to_string()];
    let relay = RelayProcess::start(binary, SECRET, pin.then_some(0), &[])?;
    for (room, flood) in [("board-live", false), ("board-flood", true)] {
        // The flooder takes a viewer's place: the room stays within its 25.
        let live = runtime.block_on(board::live(
            &relay.url,
            SECRET,
            relay.pid(),
            room,
            if flood {
                viewers.saturating_sub(1)
            } else {
                viewers
            },
            measure,
            flood,
        ));
        for e in live.errors.iter().take(5) {
            eprintln!("  board, live: {e}");
        }
        lines.push(live.markdown_row());
    }
    lines.push(String::new());
    lines.push(board::JoinReport::MARKDOWN_HEADER.to_string());
    let big = board::big_board(objects);
    let sqlite = SqliteBoards::open_in(relay.data_dir())?;
    let joined = runtime.block_on(board::join(&relay.url, SECRET, &sqlite, "board-join", &big));
    for e in joined.errors.iter().take(5) {
        eprintln!("  board, join (SQLite): {e}");
    }
    lines.push(joined.markdown_row("SQLite (embedded)"));
    drop(relay);
    let redis = RedisServer::start();
    let env = [
        ("STUDYHALL_REDIS_URL".to_string(), redis.url()),
        ("STUDYHALL_NODE_ID".to_string(), "bench".to_string()),
    ];
    let relay = RelayProcess::start(binary, SECRET, pin.then_some(0), &env)?;
    let store = runtime.block_on(RedisBoards::connect(&redis.url()))?;
    let joined = runtime.block_on(board::join(&relay.url, SECRET, &store, "board-join", &big));
    for e in joined.errors.iter().take(5) {
        eprintln!("  board, join (Redis): {e}");
    }
    lines.push(joined.markdown_row("Redis"));
    Ok(lines)
}

fn suite(measure: Duration) -> Vec<Scenario> {
    let mut all = Vec::new();
    let mut audio = Scenario::room(10);
    audio.plotted = false;
    audio.publish = report::one_speaker;
    audio.name = "room of 10, audio only, one speaker".into();
    all.push(audio);
    for n in [2, 5, 10, 15, 20, 25] {
        all.push(Scenario::room(n));
    }
    let mut screen = Scenario::room(25);
    screen.plotted = false;
    screen.publish = report::with_screen_share;
    screen.name = "room of 25, camera + audio + screen share".into();
    all.push(screen);
    let mut storm = Scenario::room(25);
    storm.plotted = false;
    storm.join_window = Duration::from_secs(5);
    storm.name = "join storm: 25 in 5 s".into();
    all.push(storm);
    for s in &mut all {
        s.measure = measure;
    }
    all
}
