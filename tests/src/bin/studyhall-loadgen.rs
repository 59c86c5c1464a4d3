//! `studyhall-loadgen`: put a room's worth of emulated participants on a relay and report
//! fidelity, forwarding latency, join time and the relay's CPU and memory.
//!
//! ```sh
//! studyhall-loadgen run --participants 10 --measure 10s     # one room against a fresh relay
//! studyhall-loadgen suite                                    # every scenario, as markdown
//! ```

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use studyhall_tests::loadgen::relay::{pin_self, RelayProcess};
use studyhall_tests::loadgen::report::{self, Report, Scenario};

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
    },
}

const SECRET: &str = "loadgen-secret-loadgen-secret-0123456789";

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
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
        Command::Suite { measure } => suite(measure),
    };
    println!("{}", Report::MARKDOWN_HEADER);
    let mut failed = false;
    for (i, scenario) in scenarios.iter().enumerate() {
        let relay = RelayProcess::start(
            &binary,
            SECRET,
            cli.pin.then_some(0),
            &[("STUDYHALL_MAX_ROOM_SIZE".into(), "50".into())],
        )?;
        let report = runtime.block_on(report::run(
            &relay.url,
            SECRET,
            relay.pid(),
            &format!("bench-{i}"),
            scenario,
        ));
        println!("{}", report.markdown_row("Studyhall"));
        for e in report.errors.iter().take(5) {
            eprintln!("  {}: {e}", scenario.name);
        }
        failed |= report.delivered == 0;
    }
    if failed {
        anyhow::bail!("a scenario delivered no media");
    }
    Ok(())
}

fn suite(measure: Duration) -> Vec<Scenario> {
    let mut all = Vec::new();
    let mut audio = Scenario::room(10);
    audio.publish = report::one_speaker;
    audio.name = "room of 10, audio only, one speaker".into();
    all.push(audio);
    for n in [2, 5, 10, 15, 20, 25] {
        all.push(Scenario::room(n));
    }
    let mut screen = Scenario::room(25);
    screen.publish = report::with_screen_share;
    screen.name = "room of 25, camera + audio + screen share".into();
    all.push(screen);
    let mut storm = Scenario::room(25);
    storm.join_window = Duration::from_secs(5);
    storm.name = "join storm: 25 in 5 s".into();
    all.push(storm);
    for s in &mut all {
        s.measure = measure;
    }
    all
}
