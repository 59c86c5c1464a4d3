//! `studyhall-client`: join a room from the command line, print what happens, chat.

use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Parser, Subcommand};
use studyhall_client::{room_of_token, SignalClient};
use studyhall_protocol::{ClientMessage, MediaState, ServerMessage};

#[derive(Parser, Debug)]
#[command(
    name = "studyhall-client",
    version,
    about = "Studyhall headless participant"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Join a room, print room events as they happen, optionally say something, leave.
    Join {
        /// The relay's base address, e.g. ws://127.0.0.1:7450
        #[arg(long)]
        url: String,
        /// Access token (from `studyhall-relay token` or the room's host).
        #[arg(long)]
        token: String,
        /// Room to join (default: the room named in the token).
        #[arg(long)]
        room: Option<String>,
        /// How long to stay, e.g. 20s or 5m.
        #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
        duration: Duration,
        /// Chat message to send after joining (may be repeated).
        #[arg(long)]
        say: Vec<String>,
    },
}

fn describe(msg: &ServerMessage) -> String {
    match msg {
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
        ServerMessage::ChatMessage { message } => {
            format!("#{} {}: {}", message.seq, message.name, message.text)
        }
        ServerMessage::ChatAck { seq, duplicate, .. } => {
            format!("sent as #{seq}{}", if *duplicate { " (retry)" } else { "" })
        }
        ServerMessage::ChatDeleted { seq, deleted_by } => format!("#{seq} deleted by {deleted_by}"),
        ServerMessage::Error { code, message, .. } => format!("error {code}: {message}"),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

fn on(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}

async fn join(
    url: String,
    token: String,
    room: Option<String>,
    duration: Duration,
    say: Vec<String>,
) -> anyhow::Result<()> {
    let room = match room {
        Some(r) => r,
        None => {
            room_of_token(&token).context("cannot tell the room from the token; pass --room")?
        }
    };
    let (mut client, info) = SignalClient::join(&url, &room, &token, MediaState::default()).await?;
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
    let started = Instant::now();
    for (i, text) in say.into_iter().enumerate() {
        client
            .send(ClientMessage::ChatSend {
                client_msg_id: format!("cli-{}-{i}", std::process::id()),
                text,
            })
            .await?;
    }
    let deadline = tokio::time::Instant::now() + duration;
    loop {
        match tokio::time::timeout_at(deadline, client.recv()).await {
            Err(_) => break,
            Ok(Ok(msg)) => println!(
                "[{:>5.1}s] {}",
                started.elapsed().as_secs_f32(),
                describe(&msg)
            ),
            Ok(Err(e)) => return Err(e.into()),
        }
    }
    client.leave().await?;
    println!("left");
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Join {
            url,
            token,
            room,
            duration,
            say,
        } => join(url, token, room, duration, say).await,
    }
}
