//! `studyhall-client`: join a room from the command line with media, print what happens
//! once a second, chat, and write what was measured.

mod groups_cli;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use studyhall_client::features::timer;
use studyhall_client::media::{ClientStats, MediaClient, MediaOptions};
use studyhall_client::room_of_token;
use studyhall_client::source::denoise::NoiseSuppression;
use studyhall_client::source::device::list_devices;
use studyhall_client::source::{AudioInput, VideoInput};
use studyhall_protocol::{ClientMessage, ServerMessage};

#[derive(Parser, Debug)]
#[command(
    name = "studyhall-client",
    version,
    about = "Studyhall headless participant: joins a room, publishes synthetic or captured media, receives and verifies everyone else's"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Video {
    /// A moving picture stamped with who sent it, a frame counter and the capture time.
    TestPattern,
    /// A camera (`--camera` picks one; default: the first).
    Camera,
    /// A screen (`--screen-source` picks one; default: the primary monitor).
    Screen,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Audio {
    /// A sine tone whose pitch is derived from the identity.
    Tone,
    /// A microphone (`--microphone` picks one; default: the default input device).
    Mic,
    None,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Join a room, publish, receive, print a progress line per second, then leave.
    Join(Box<JoinArgs>),
    /// Study groups: create, join by invite, schedule, watch who is online.
    Group(groups_cli::GroupArgs),
    /// List the cameras, microphones and screens this machine has (the names
    /// `--camera`, `--microphone` and `--screen-source` accept).
    Devices,
}

#[derive(Args, Debug)]
struct JoinArgs {
    /// The relay's base address, e.g. ws://127.0.0.1:7450 (with `--token`).
    #[arg(long, required_unless_present = "invite", requires = "token")]
    url: Option<String>,
    /// Access token (from `studyhall-relay token` or the room's host).
    #[arg(long, requires = "url", conflicts_with = "invite")]
    token: Option<String>,
    /// Join with an invite link or code from the room's host instead of a token
    /// (`studyhall://join?...` or `K7QX-29FD@192.168.1.20:7450`).
    #[arg(long, value_name = "LINK_OR_CODE")]
    invite: Option<String>,
    /// With `--invite`: the display name to join as.
    #[arg(long, default_value = "Headless client")]
    name: String,
    /// With `--invite`: this device's id (1–64 characters), so a host's kick holds
    /// against it as it does against the app that sent it.
    #[arg(long, value_name = "ID", requires = "invite")]
    device: Option<String>,
    /// Turn the microphone and camera off after this long (e.g. 5s), as a muting
    /// participant would.
    #[arg(long, value_parser = humantime::parse_duration)]
    mute_after: Option<Duration>,
    /// Room to join (default: the room named in the token).
    #[arg(long)]
    room: Option<String>,
    /// Camera track source.
    #[arg(long, value_enum, default_value = "test-pattern")]
    video: Video,
    /// Microphone track source.
    #[arg(long, value_enum, default_value = "tone")]
    audio: Audio,
    /// With `--video camera`: the camera's name or index (see `devices`).
    #[arg(long, value_name = "NAME")]
    camera: Option<String>,
    /// With `--audio mic`: the input device's name (see `devices`).
    #[arg(long, value_name = "NAME")]
    microphone: Option<String>,
    /// With `--audio mic`: send the microphone as it is, without noise suppression
    /// (RNNoise; on by default).
    #[arg(long)]
    no_noise_suppression: bool,
    /// Publish the camera once, at full size only (by default it is also sent at half
    /// its width and height, at 100 kbit/s, for the small tiles of others).
    #[arg(long)]
    single_layer: bool,
    /// The monitor to capture for `--video screen` and `--screen` (see `devices`);
    /// default: the primary one.
    #[arg(long, value_name = "NAME")]
    screen_source: Option<String>,
    /// Play this Y4M file (4:2:0) as the camera instead of the test pattern.
    #[arg(long, value_name = "FILE.y4m")]
    video_file: Option<PathBuf>,
    /// Play this WAV file (16-bit PCM) as the microphone instead of the tone.
    #[arg(long, value_name = "FILE.wav")]
    audio_file: Option<PathBuf>,
    /// Also publish a screen-share track: the real screen when a display is there (or
    /// `--screen-source` names one), else a synthetic test pattern.
    #[arg(long)]
    screen: bool,
    /// How long to stay, e.g. 20s or 5m.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// Chat message to send after joining (may be repeated).
    #[arg(long)]
    say: Vec<String>,
    #[command(flatten)]
    features: studyhall_client::features::FeatureArgs,
    /// Write the final statistics (JSON) to this file.
    #[arg(long, value_name = "FILE")]
    stats_json: Option<PathBuf>,
}

fn describe(msg: &ServerMessage) -> Option<String> {
    Some(match msg {
        ServerMessage::ParticipantJoined { participant } => {
            format!("+ {} ({}) joined", participant.name, participant.identity)
        }
        ServerMessage::ParticipantLeft { identity, reason } => {
            format!("- {identity} left ({reason:?})")
        }
        ServerMessage::ParticipantUpdated { participant } => format!(
            "~ {}: mic {} camera {} screen {} presence {:?}",
            participant.identity,
            on(participant.media.mic),
            on(participant.media.camera),
            on(participant.media.screen),
            participant.presence
        ),
        ServerMessage::RoomEnded { by } => format!("the room was ended by {by}"),
        ServerMessage::ChatMessage { message } => {
            format!("#{} {}: {}", message.seq, message.name, message.text)
        }
        ServerMessage::ChatAck { seq, duplicate, .. } => {
            format!("sent as #{seq}{}", if *duplicate { " (retry)" } else { "" })
        }
        ServerMessage::ChatDeleted { seq, deleted_by } => {
            format!("#{seq} deleted by {deleted_by}")
        }
        ServerMessage::Error { code, message, .. } => format!("error {code}: {message}"),
        ServerMessage::Speakers { active, speaking } => format!(
            "speaking: [{}]; active speaker: {}",
            speaking.join(", "),
            active.as_deref().unwrap_or("none")
        ),
        ServerMessage::Feature(event) => studyhall_client::features::describe(event),
        ServerMessage::Pong { .. } | ServerMessage::Ack { .. } => return None,
        other => serde_json::to_string(other).unwrap_or_default(),
    })
}

/// Send the pings whose pongs tell the relay's clock (the quickest round trip wins).
async fn measure_clock(client: &MediaClient, clock: &mut timer::ClockSync) -> anyhow::Result<()> {
    for nonce in 1..=5 {
        clock.sent(nonce, timer::local_ms());
        client
            .send(ClientMessage::Ping { nonce: Some(nonce) })
            .await?;
    }
    Ok(())
}

/// The relay closed the connection: a new client when it asked for a rejoin (close
/// 4013), else the error that ended it.
async fn rejoin_if_asked(
    client: MediaClient,
    url: &str,
    room: &str,
    token: &str,
    options: &MediaOptions,
) -> anyhow::Result<MediaClient> {
    use studyhall_client::media::MediaError;
    use studyhall_client::SignalError;
    match client.finish().await {
        Err(MediaError::Signal(SignalError::Closed { code, reason }))
            if code == studyhall_protocol::CloseCode::REJOIN =>
        {
            println!("the relay asked us to join again ({reason}); rejoining");
            let mut wait = Duration::from_millis(250);
            for attempt in 1..=6 {
                match MediaClient::connect(url, room, token, options.clone(), Default::default())
                    .await
                {
                    Ok(client) => {
                        println!("rejoined {room}");
                        return Ok(client);
                    }
                    Err(e) if attempt < 6 => {
                        println!("rejoin attempt {attempt} failed: {e}; trying again");
                        tokio::time::sleep(wait).await;
                        wait = (wait * 2).min(Duration::from_secs(4));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            unreachable!("the last attempt returns")
        }
        Ok(()) => anyhow::bail!("the relay closed the connection"),
        Err(e) => anyhow::bail!("the relay closed the connection: {e}"),
    }
}

fn on(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}

/// One line: what we sent and, per remote track, what decoded.
fn progress(elapsed: Duration, s: &ClientStats) -> String {
    let sent: Vec<String> = s
        .sent
        .iter()
        .map(|(k, t)| format!("{k} {}", t.frames_sent))
        .collect();
    let recv: Vec<String> = s
        .received
        .iter()
        .filter(|(_, t)| t.active)
        .map(|(_, t)| {
            let source = t.source.map(|s| s.as_str()).unwrap_or("?");
            if t.kind == "video" {
                format!(
                    "{} {source} {} frames {:.0} fps{}",
                    t.identity,
                    t.frames_decoded,
                    t.fps,
                    t.latencies_hint()
                )
            } else {
                format!("{} {source} {} packets", t.identity, t.frames_decoded)
            }
        })
        .collect();
    format!(
        "[{:>4.0}s] sent: {} | received: {}",
        elapsed.as_secs_f64(),
        if sent.is_empty() {
            "nothing".into()
        } else {
            sent.join(", ")
        },
        if recv.is_empty() {
            "nothing yet".into()
        } else {
            recv.join(", ")
        }
    )
}

trait LatencyHint {
    fn latencies_hint(&self) -> String;
}

impl LatencyHint for studyhall_client::media::ReceivedTrack {
    fn latencies_hint(&self) -> String {
        if self.frames_verified > 0 {
            format!(", {} verified", self.frames_verified)
        } else {
            String::new()
        }
    }
}

async fn join(args: JoinArgs) -> anyhow::Result<()> {
    let JoinArgs {
        url,
        token,
        invite,
        name,
        device,
        mute_after,
        room,
        video,
        audio,
        camera,
        microphone,
        no_noise_suppression,
        single_layer,
        screen_source,
        video_file,
        audio_file,
        screen,
        duration,
        say,
        features,
        stats_json,
    } = args;
    let (url, token, room) = match (invite, url, token) {
        (Some(text), _, _) => {
            let target = studyhall_client::invite::parse(&text)?;
            let redeemed = studyhall_client::invite::redeem_on(&target, &name, device.as_deref())
                .await
                .context("cannot redeem the invite")?;
            (target.relay_url(), redeemed.token, redeemed.room)
        }
        (None, Some(url), Some(token)) => {
            let room = match room {
                Some(r) => r,
                None => room_of_token(&token)
                    .context("cannot tell the room from the token; pass --room")?,
            };
            (url, token, room)
        }
        _ => anyhow::bail!("pass --url and --token, or --invite"),
    };
    let camera_input = match (video_file, video) {
        (Some(path), _) => VideoInput::Y4m(path),
        (None, Video::Camera) => VideoInput::Camera(camera),
        (None, Video::Screen) => VideoInput::Screen(screen_source.clone()),
        (None, Video::TestPattern | Video::None) => VideoInput::TestPattern,
    };
    let microphone_input = match (audio_file, audio) {
        (Some(path), _) => AudioInput::Wav(path),
        (None, Audio::Mic) => AudioInput::Microphone(microphone),
        (None, Audio::Tone | Audio::None) => AudioInput::Tone,
    };
    // The share track shows the real screen when there is one to show.
    let screen_input = if screen_source.is_some() || !list_devices().screens.is_empty() {
        VideoInput::Screen(screen_source)
    } else {
        VideoInput::TestPattern
    };
    let defaults = MediaOptions::default();
    let options = MediaOptions {
        camera: video != Video::None || matches!(camera_input, VideoInput::Y4m(_)),
        microphone: audio != Audio::None || matches!(microphone_input, AudioInput::Wav(_)),
        screen,
        camera_input,
        microphone_input,
        screen_input,
        noise_suppression: NoiseSuppression::new(!no_noise_suppression),
        small_camera_layer: !single_layer,
        // A real screen is sent at the share track's frame rate; the camera track gets
        // the share format's bitrate when it carries a screen.
        camera_format: if video == Video::Screen {
            defaults.screen_format
        } else {
            defaults.camera_format
        },
        ..defaults
    };
    let mut client =
        MediaClient::connect(&url, &room, &token, options.clone(), Default::default()).await?;
    let info = client.info.clone();
    println!(
        "joined {} as {} ({}); {} here; {} messages of history",
        info.room,
        info.you.name,
        info.you.identity,
        info.participants.len(),
        info.chat.messages.len()
    );
    for m in &info.chat.messages {
        println!(
            "#{} {}: {}",
            m.seq,
            m.name,
            if m.deleted { "(deleted)" } else { &m.text }
        );
    }
    for (i, text) in say.into_iter().enumerate() {
        client
            .send(ClientMessage::ChatSend {
                client_msg_id: format!("cli-{}-{i}", std::process::id()),
                text,
            })
            .await?;
    }
    for request in features.requests() {
        client.send(request).await?;
    }
    for request in features.polls.requests().map_err(anyhow::Error::msg)? {
        client.send(request).await?;
    }
    let materials = studyhall_client::features::materials::Materials::new(&url, &room, &token)?;
    for path in &features.materials.upload {
        let material = materials
            .upload(path, None, None)
            .await
            .with_context(|| format!("cannot upload {}", path.display()))?;
        println!(
            "uploaded {} as {} ({} bytes, {}, sha256 {})",
            path.display(),
            material.id,
            material.size,
            material.mime,
            material.sha256
        );
        client
            .send(studyhall_protocol::MaterialRequest::MaterialShare { id: material.id }.into())
            .await?;
    }
    // The room's features as they change, and the relay's clock (for the timer's time
    // left): a few pings now, the quickest round trip wins.
    let mut state = studyhall_client::features::FeatureState::new(&info.features);
    if features.board.wanted() {
        client.send(state.board.sync_request()).await?;
    }
    // Strokes go at a pace under the relay's rate limit for board changes.
    for stroke in features.board.strokes(&info.you.identity) {
        client
            .send(
                studyhall_protocol::BoardRequest::BoardAdd {
                    page: studyhall_protocol::board::FIRST_PAGE.into(),
                    object: stroke,
                }
                .into(),
            )
            .await?;
        tokio::time::sleep(Duration::from_millis(70)).await;
    }
    let mut upvoted = vec![];
    let mut voted = vec![];
    for vote in features.polls.votes(&state.polls, &mut voted) {
        client.send(vote).await?;
    }
    for upvote in features.questions.upvotes(&state.questions, &mut upvoted) {
        client.send(upvote).await?;
    }
    let mut clock = timer::ClockSync::default();
    measure_clock(&client, &mut clock).await?;
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + duration;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.tick().await;
    let mute_at = mute_after.map(|d| tokio::time::Instant::now() + d);
    let mut muted = false;
    loop {
        let mute_sleep = async {
            match mute_at {
                Some(at) if !muted => tokio::time::sleep_until(at).await,
                _ => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => break,
            _ = mute_sleep => {
                muted = true;
                client.set_media(studyhall_protocol::MediaUpdate {
                    mic: Some(false),
                    camera: Some(false),
                    screen: None,
                }).await?;
                println!("muted microphone and camera");
            }
            _ = tick.tick() => {
                println!("{}", progress(started.elapsed(), &client.stats()));
                if state.timer.0.run.is_some() {
                    // With this machine's clock, so a reader can compare it with another
                    // client's figure taken at another moment.
                    let local = timer::local_ms();
                    let relay_now = local as i64 + clock.offset().unwrap_or(0);
                    println!(
                        "{} at {local}",
                        timer::status(&state.timer.0, relay_now.max(0) as u64)
                    );
                }
            }
            event = client.next_event() => match event {
                Some(msg) => {
                    match &msg {
                        ServerMessage::Feature(event) => {
                            state.apply(event);
                            for upvote in features.questions.upvotes(&state.questions, &mut upvoted) {
                                client.send(upvote).await?;
                            }
                            for vote in features.polls.votes(&state.polls, &mut voted) {
                                client.send(vote).await?;
                            }
                            if state.board.needs_sync {
                                state.board.needs_sync = false;
                                client.send(state.board.sync_request()).await?;
                            }
                            if let (
                                studyhall_protocol::FeatureEvent::Board(
                                    studyhall_protocol::BoardEvent::BoardSnapshot { last: true, .. }
                                    | studyhall_protocol::BoardEvent::BoardSynced { .. },
                                ),
                                Some(board),
                            ) = (event, &state.board.board)
                            {
                                println!(
                                    "board: {} objects on {} pages at #{}",
                                    board.objects(),
                                    board.pages.len(),
                                    board.seq
                                );
                            }
                        }
                        ServerMessage::Pong { nonce: Some(n), time: Some(t), .. } => {
                            clock.answered(*n, *t, timer::local_ms());
                        }
                        _ => {}
                    }
                    if let Some(line) = describe(&msg) { println!("{line}") }
                }
                None => {
                    // Cluster mode asks a client to join again (close 4013) when the
                    // room moves: do so, as the protocol tells clients to.
                    client = rejoin_if_asked(client, &url, &room, &token, &options).await?;
                    let board = std::mem::take(&mut state.board);
                    state = studyhall_client::features::FeatureState::new(&client.info.features);
                    // The board held is kept: the sync brings only what was missed.
                    state.board = board.rejoined(&client.info.features.board);
                    if features.board.wanted() {
                        client.send(state.board.sync_request()).await?;
                    }
                    // The room may now be on a node with another clock.
                    clock = timer::ClockSync::default();
                    measure_clock(&client, &mut clock).await?;
                }
            },
        }
    }
    if let Some(path) = &features.board.board_dump {
        let Some(board) = &state.board.board else {
            anyhow::bail!(
                "the whiteboard had not arrived; {} not written",
                path.display()
            );
        };
        let text = if path.extension().is_some_and(|e| e == "svg") {
            studyhall_client::features::board::to_svg(board)
        } else {
            serde_json::to_string_pretty(board)?
        };
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
        println!("board written to {}", path.display());
    }
    if let Some(dir) = &features.materials.download_all {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        for m in &state.materials.0.items {
            // The relay's id names the file: the name someone gave is never a path here.
            let to = dir.join(&m.id);
            let done = materials
                .download(m, &to, None)
                .await
                .with_context(|| format!("cannot download {} ({})", m.name, m.id))?;
            println!(
                "downloaded {} to {} (sha256 {} checked, resumed from {})",
                m.name,
                done.path.display(),
                m.sha256,
                done.resumed_from
            );
        }
    }
    if let Some(path) = &features.materials.materials_dump {
        std::fs::write(path, serde_json::to_string_pretty(&state.materials.0)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("materials written to {}", path.display());
    }
    if let Some(path) = &features.questions.questions_dump {
        std::fs::write(path, serde_json::to_string_pretty(&state.questions.0)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("questions written to {}", path.display());
    }
    let stats = client.stats();
    if let Some(path) = stats_json {
        std::fs::write(&path, serde_json::to_vec_pretty(&stats)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("stats written to {}", path.display());
    }
    client.leave().await?;
    println!("left");
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    match Cli::parse().command {
        Command::Join(args) => join(*args).await,
        Command::Group(args) => groups_cli::run(args).await,
        Command::Devices => {
            let list = list_devices();
            for (kind, names) in [
                ("cameras", &list.cameras),
                ("microphones", &list.microphones),
                ("screens", &list.screens),
                ("speakers", &list.speakers),
            ] {
                println!("{kind}:");
                if names.is_empty() {
                    println!("  (none found)");
                }
                // The name is what --camera, --microphone and the like take.
                for d in names.iter() {
                    if d.label == d.name {
                        println!("  {}", d.name);
                    } else {
                        println!("  {}  ({})", d.name, d.label);
                    }
                }
            }
            Ok(())
        }
    }
}
