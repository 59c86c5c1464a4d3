//! `studyhall-client group …`: study groups from the command line. What a command needs
//! to act as a member (the relay, the group, the identity and the group token) is kept in
//! a small JSON file (`--state`), written by `create` and `join`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use serde::{Deserialize, Serialize};
use studyhall_client::groups::{GroupInvite, GroupsApi, PresenceEvent, PresenceWatch};
use studyhall_protocol::groups::GroupJoined;
use studyhall_protocol::schedule::{self, SessionDraft};

#[derive(Args, Debug)]
pub struct GroupArgs {
    /// Where this member's relay, group, identity and token are kept.
    #[arg(long, value_name = "FILE", default_value = "studyhall-group.json")]
    state: PathBuf,
    #[command(subcommand)]
    action: GroupAction,
}

#[derive(Subcommand, Debug)]
enum GroupAction {
    /// Create a group on a relay; you are its owner.
    Create {
        /// The relay, `host:port`.
        #[arg(long)]
        relay: String,
        /// The group's name.
        #[arg(long)]
        name: String,
        /// Your display name in it.
        #[arg(long, default_value = "Headless client")]
        your_name: String,
        /// This device's id (a removal holds against it); default: a random one.
        #[arg(long)]
        device: Option<String>,
    },
    /// Join a group by its invite (`G-K7QX-29FD@host:port` or a `studyhall://group?` link).
    Join {
        #[arg(long, value_name = "LINK_OR_CODE")]
        invite: String,
        #[arg(long, default_value = "Headless client")]
        name: String,
        /// This device's id (a removal holds against it); default: a random one.
        #[arg(long)]
        device: Option<String>,
        /// Then watch presence this long (appearing online), printing what changes.
        #[arg(long, value_parser = humantime::parse_duration)]
        stay: Option<Duration>,
    },
    /// Print the group (members, schedule, invite) as JSON.
    Show,
    /// Print the group's invite (link and code).
    Invite {
        /// Make a new code first (the owner); the old one stops working.
        #[arg(long)]
        new: bool,
    },
    /// Remove a member (the owner).
    Remove {
        #[arg(long, value_name = "IDENTITY")]
        member: String,
    },
    /// Leave the group.
    Leave,
    /// Add a session to the group's schedule.
    Schedule {
        #[arg(long)]
        title: String,
        /// Wall-clock start, `YYYY-MM-DDTHH:MM`.
        #[arg(long)]
        start: String,
        /// IANA time zone, e.g. Europe/Berlin.
        #[arg(long, default_value = "UTC")]
        tz: String,
        #[arg(long, default_value_t = 60)]
        minutes: u32,
        /// iCalendar RRULE value, e.g. FREQ=WEEKLY;BYDAY=MO.
        #[arg(long)]
        rrule: Option<String>,
    },
    /// Print the next sessions (`--days` ahead) as JSON lines.
    Upcoming {
        #[arg(long, default_value_t = 14)]
        days: u64,
    },
    /// Write the group's schedule as an .ics file.
    Export {
        #[arg(long, value_name = "FILE.ics")]
        out: PathBuf,
    },
    /// Add the sessions of an .ics file to the group's schedule.
    Import {
        #[arg(long, value_name = "FILE.ics")]
        file: PathBuf,
        /// The time zone of times in the file that have none.
        #[arg(long, default_value = "UTC")]
        tz: String,
    },
    /// Print a room token for the group's room (JSON: room, token, host).
    Room,
    /// Watch presence this long, printing each change as a JSON line.
    Watch {
        #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
        duration: Duration,
        /// Appear offline while watching.
        #[arg(long)]
        hidden: bool,
    },
}

/// What a member keeps.
#[derive(Debug, Serialize, Deserialize)]
struct Membership {
    relay: String,
    group: String,
    identity: String,
    token: String,
}

fn load(path: &Path) -> anyhow::Result<Membership> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "cannot read {} (run `group create` or `group join` first)",
            path.display()
        )
    })?;
    serde_json::from_str(&text)
        .with_context(|| format!("{} is not a group state file", path.display()))
}

fn save(path: &Path, relay: &str, joined: &GroupJoined) -> anyhow::Result<()> {
    let membership = Membership {
        relay: relay.to_string(),
        group: joined.group.id.clone(),
        identity: joined.identity.clone(),
        token: joined.token.clone(),
    };
    std::fs::write(path, serde_json::to_string_pretty(&membership)?)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// A device id of this run's own.
fn random_device() -> String {
    format!("cli-{:016x}", rand::random::<u64>())
}

fn print_json(value: &impl Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string(value)?);
    Ok(())
}

async fn watch(relay: &str, token: &str, duration: Duration, hidden: bool) -> anyhow::Result<()> {
    let (_watch, mut events) = PresenceWatch::start(relay, vec![token.to_string()], hidden)?;
    let deadline = tokio::time::sleep(duration);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            _ = &mut deadline => return Ok(()),
            event = events.recv() => match event {
                Some(PresenceEvent::Server(msg)) => print_json(&msg)?,
                Some(PresenceEvent::Lost { reason, retry_in }) => {
                    eprintln!("presence: {reason}; connecting again in {}", humantime::format_duration(retry_in));
                }
                None => return Ok(()),
            },
        }
    }
}

pub async fn run(args: GroupArgs) -> anyhow::Result<()> {
    let state = args.state;
    match args.action {
        GroupAction::Create {
            relay,
            name,
            your_name,
            device,
        } => {
            let device = device.unwrap_or_else(random_device);
            let joined = GroupsApi::new(&relay)?
                .create(&name, &your_name, &device, None)
                .await?;
            save(&state, &relay, &joined)?;
            print_json(&joined.group)
        }
        GroupAction::Join {
            invite,
            name,
            device,
            stay,
        } => {
            let invite = GroupInvite::parse(&invite)?;
            let device = device.unwrap_or_else(random_device);
            let joined = GroupsApi::new(&invite.relay)?
                .join(&invite.code, &name, &device, None)
                .await?;
            save(&state, &invite.relay, &joined)?;
            print_json(&joined.group)?;
            match stay {
                Some(duration) => watch(&invite.relay, &joined.token, duration, false).await,
                None => Ok(()),
            }
        }
        GroupAction::Show => {
            let mut m = load(&state)?;
            let (group, renewed) = GroupsApi::new(&m.relay)?.show(&m.group, &m.token).await?;
            // Keep the renewed token: a token used now and then never runs out.
            if let Some(token) = renewed {
                m.token = token;
                std::fs::write(&state, serde_json::to_string_pretty(&m)?)
                    .with_context(|| format!("cannot write {}", state.display()))?;
            }
            print_json(&group)
        }
        GroupAction::Invite { new } => {
            let m = load(&state)?;
            let api = GroupsApi::new(&m.relay)?;
            let group = if new {
                api.new_invite(&m.group, &m.token).await?
            } else {
                api.show(&m.group, &m.token).await?.0
            };
            let invite = GroupInvite {
                relay: m.relay.clone(),
                code: group.invite,
            };
            println!("{}\n{}", invite.link(), invite.short());
            Ok(())
        }
        GroupAction::Remove { member } => {
            let m = load(&state)?;
            GroupsApi::new(&m.relay)?
                .remove_member(&m.group, &m.token, &member)
                .await?;
            Ok(())
        }
        GroupAction::Leave => {
            let m = load(&state)?;
            GroupsApi::new(&m.relay)?
                .remove_member(&m.group, &m.token, &m.identity)
                .await?;
            Ok(())
        }
        GroupAction::Schedule {
            title,
            start,
            tz,
            minutes,
            rrule,
        } => {
            let m = load(&state)?;
            let draft = SessionDraft {
                title,
                start,
                tz,
                minutes,
                rrule,
                changes: vec![],
            };
            schedule::validate(&draft)?;
            let session = GroupsApi::new(&m.relay)?
                .add_session(&m.group, &m.token, &draft)
                .await?;
            print_json(&session)
        }
        GroupAction::Upcoming { days } => {
            let m = load(&state)?;
            let (group, _) = GroupsApi::new(&m.relay)?.show(&m.group, &m.token).await?;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_millis() as u64;
            let mut all = vec![];
            for session in &group.sessions {
                all.extend(schedule::expand(session, now, now + days * 86_400_000)?);
            }
            all.sort_by_key(|o| o.start_ms);
            for o in all {
                print_json(&o)?;
            }
            Ok(())
        }
        GroupAction::Export { out } => {
            let m = load(&state)?;
            let (group, _) = GroupsApi::new(&m.relay)?.show(&m.group, &m.token).await?;
            std::fs::write(&out, schedule::to_ics(&group.sessions, &group.name))
                .with_context(|| format!("cannot write {}", out.display()))?;
            eprintln!(
                "{} sessions written to {}",
                group.sessions.len(),
                out.display()
            );
            Ok(())
        }
        GroupAction::Import { file, tz } => {
            let m = load(&state)?;
            let meta = std::fs::metadata(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            if meta.len() > schedule::MAX_ICS_BYTES as u64 {
                bail!(
                    "{} is {} KiB; an import takes at most {} KiB",
                    file.display(),
                    meta.len().div_ceil(1024),
                    schedule::MAX_ICS_BYTES / 1024
                );
            }
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("{} is not a text file", file.display()))?;
            let imported = schedule::from_ics(&text, &tz)?;
            for skipped in &imported.skipped {
                eprintln!("skipped {skipped}");
            }
            let api = GroupsApi::new(&m.relay)?;
            for (_, draft) in &imported.sessions {
                let session = api.add_session(&m.group, &m.token, draft).await?;
                print_json(&session)?;
            }
            Ok(())
        }
        GroupAction::Room => {
            let m = load(&state)?;
            let ticket = GroupsApi::new(&m.relay)?
                .room_ticket(&m.group, &m.token)
                .await?;
            print_json(&ticket)
        }
        GroupAction::Watch { duration, hidden } => {
            let m = load(&state)?;
            watch(&m.relay, &m.token, duration, hidden).await
        }
    }
}
