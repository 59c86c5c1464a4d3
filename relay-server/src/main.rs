//! The `studyhall-relay` binary: `serve` (the default) and `token`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use studyhall_protocol::Grants;
use studyhall_relay::config::{Config, ConfigLayer};
use studyhall_relay::{auth::TokenKeys, state::resolve_secret};
use tracing::info;

#[derive(Parser, Debug)]
#[command(
    name = "studyhall-relay",
    version,
    about = "Studyhall relay: rooms, signaling and chat. With no arguments it runs the embedded default on 127.0.0.1:7450.",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the relay (the default when no command is given).
    Serve(ServeArgs),
    /// Print an access token signed with the relay's secret.
    Token(TokenArgs),
}

#[derive(Args, Debug, Default, Clone)]
struct CommonArgs {
    /// TOML config file (also STUDYHALL_CONFIG).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Directory for the chat database and the generated secret (also STUDYHALL_DATA_DIR).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

#[derive(Args, Debug, Default, Clone)]
struct ServeArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Address to listen on, e.g. 0.0.0.0:7450 (also STUDYHALL_LISTEN).
    #[arg(long, value_name = "ADDR")]
    listen: Option<std::net::SocketAddr>,
    /// UDP port for media, on the listen IP; 0 picks a free one (also STUDYHALL_MEDIA_PORT).
    #[arg(long, value_name = "PORT")]
    media_port: Option<u16>,
    /// Most participants in one room (also STUDYHALL_MAX_ROOM_SIZE).
    #[arg(long, value_name = "N")]
    max_room_size: Option<usize>,
    /// Log filter, e.g. info or studyhall_relay=debug (also STUDYHALL_LOG).
    #[arg(long, value_name = "FILTER")]
    log: Option<String>,
    /// Drain and stop when the process PID ends (the desktop app passes its own, so a
    /// hosted relay never outlives an app that crashed or was killed).
    #[arg(long, value_name = "PID")]
    exit_with_parent: Option<u32>,
}

#[derive(Args, Debug)]
struct TokenArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Room the token admits to.
    #[arg(long)]
    room: String,
    /// Participant identity (stable id, e.g. a user name).
    #[arg(long)]
    identity: String,
    /// Display name.
    #[arg(long)]
    name: String,
    /// Grant host rights (delete chat messages, kick).
    #[arg(long)]
    host: bool,
    /// How long the token is valid, e.g. 30m, 2h, 1day.
    #[arg(long, default_value = "2h", value_parser = humantime::parse_duration)]
    ttl: Duration,
    /// Exact grants instead of the defaults, comma-separated: join,publish,subscribe,chat,host.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    grants: Option<Vec<String>>,
}

fn load_config(common: &CommonArgs, mut flags: ConfigLayer) -> anyhow::Result<Config> {
    flags.data_dir = common.data_dir.clone();
    Ok(Config::load(
        common.config.as_deref(),
        std::env::vars(),
        flags,
    )?)
}

fn parse_grants(list: &[String]) -> anyhow::Result<Grants> {
    let mut g = Grants::default();
    for item in list {
        match item.trim() {
            "join" => g.join = true,
            "publish" => g.publish = true,
            "subscribe" => g.subscribe = true,
            "chat" => g.chat = true,
            "host" => g.host = true,
            "" => {}
            other => anyhow::bail!(
                "unknown grant `{other}`; grants are join, publish, subscribe, chat, host"
            ),
        }
    }
    Ok(g)
}

fn token(args: TokenArgs) -> anyhow::Result<()> {
    let config = load_config(&args.common, ConfigLayer::default())?;
    let secret = resolve_secret(&config)?;
    let keys = TokenKeys::new(secret.as_bytes(), config.token_leeway);
    let mut grants = match &args.grants {
        Some(list) => parse_grants(list)?,
        None => Grants::member(),
    };
    if args.host {
        grants.host = true;
    }
    let token = keys.issue(&args.room, &args.identity, &args.name, grants, args.ttl)?;
    println!("{token}");
    Ok(())
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let flags = ConfigLayer {
        listen: args.listen,
        max_room_size: args.max_room_size,
        media_port: args.media_port,
        log: args.log.clone(),
        ..Default::default()
    };
    let mut config = load_config(&args.common, flags)?;
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&config.log)
                .with_context(|| format!("invalid log filter `{}`", config.log))?,
        )
        .init();
    // A desktop session's open-files limit (often 1024) would stop the relay long before
    // max_connections: raise it, and keep max_connections within what it allows.
    if let Some(open_files) = studyhall_relay::listener::raise_open_files_limit() {
        let cap = studyhall_relay::listener::connections_for(open_files);
        if config.max_connections > cap {
            tracing::warn!(
                open_files,
                max_connections = cap,
                "the open-files limit allows fewer connections than max_connections; using {cap}"
            );
            config.max_connections = cap;
        }
    }
    let data_dir = config.data_dir.clone();
    let mode = if config.clustered() {
        "cluster"
    } else {
        "embedded"
    };
    let relay = studyhall_relay::Relay::connect(config).await?;
    let listen = relay.config.listen;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    info!(%addr, data_dir = %data_dir.display(), mode, "studyhall-relay listening on http://{addr} (WebSocket at ws://{addr}/ws)");
    let parent = args.exit_with_parent;
    let stop = async move {
        tokio::select! {
            _ = shutdown_signal() => {}
            _ = parent_gone(parent) => info!(pid = ?parent, "the parent process ended: stopping"),
        }
    };
    studyhall_relay::run(listener, relay, stop).await?;
    info!("stopped");
    Ok(())
}

/// Resolves once process `pid` no longer exists (never when `None`).
async fn parent_gone(pid: Option<u32>) {
    let Some(pid) = pid else {
        return std::future::pending().await;
    };
    let proc_dir = std::path::PathBuf::from(format!("/proc/{pid}"));
    loop {
        // A zombie still has a /proc entry; its state letter says it has ended.
        let alive = std::fs::read_to_string(proc_dir.join("stat"))
            .ok()
            .and_then(|s| {
                s.rsplit_once(')')
                    .map(|(_, rest)| rest.trim_start().starts_with('Z'))
            })
            .is_some_and(|zombie| !zombie);
        if !alive {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

/// Resolves on the first SIGTERM or Ctrl-C; a second one exits at once.
async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot listen for SIGTERM");
            std::future::pending::<()>().await;
            return;
        }
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        eprintln!("second signal: exiting without draining");
        std::process::exit(130);
    });
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Token(args)) => token(args),
        Some(Command::Serve(args)) => runtime()?.block_on(serve(args)),
        None => runtime()?.block_on(serve(cli.serve)),
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}
