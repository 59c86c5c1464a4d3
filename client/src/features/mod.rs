//! Room features from a participant's side: one module per feature with its typed calls
//! on [`RoomSession`](crate::session::RoomSession), how its events change what the
//! client knows ([`FeatureState`]), and its command-line options ([`FeatureArgs`]).
//!
//! Adding a feature: its module here, its field in [`FeatureState`] and in
//! [`FeatureArgs`], and its arm in [`FeatureState::apply`] and [`describe`].

pub mod board;
pub mod hands;
pub mod materials;
pub mod polls;
pub mod presence;
pub mod questions;
pub mod timer;

use studyhall_protocol::{ClientMessage, FeatureEvent, FeatureSnapshot};

/// What the room's features hold, as this client knows it: the snapshot from `joined`,
/// kept current by the features' events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeatureState {
    pub hands: hands::HandQueue,
    pub timer: timer::RoomTimer,
    pub board: board::RoomBoard,
    pub lecture: questions::Lecture,
    pub questions: questions::QuestionList,
    pub polls: polls::PollList,
    pub materials: materials::MaterialList,
}

impl FeatureState {
    pub fn new(snapshot: &FeatureSnapshot) -> Self {
        FeatureState {
            hands: hands::HandQueue::new(&snapshot.hands),
            timer: timer::RoomTimer(snapshot.timer.clone()),
            board: board::RoomBoard::new(&snapshot.board),
            lecture: questions::Lecture(snapshot.lecture.clone()),
            questions: questions::QuestionList::new(&snapshot.questions),
            polls: polls::PollList(snapshot.polls.clone()),
            materials: materials::MaterialList(snapshot.materials.clone()),
        }
    }

    /// Apply an event; true when something changed.
    pub fn apply(&mut self, event: &FeatureEvent) -> bool {
        match event {
            FeatureEvent::Hands(e) => self.hands.apply(e),
            FeatureEvent::Timer(e) => self.timer.apply(e),
            FeatureEvent::Board(e) => self.board.apply(e),
            FeatureEvent::Lecture(e) => self.lecture.apply(e),
            FeatureEvent::Questions(e) => self.questions.apply(e),
            FeatureEvent::Reactions(_) => false,
            FeatureEvent::Polls(e) => self.polls.apply(e),
            FeatureEvent::Materials(e) => self.materials.apply(e),
        }
    }
}

/// One line for a person reading the command line's output.
pub fn describe(event: &FeatureEvent) -> String {
    match event {
        FeatureEvent::Hands(e) => hands::describe(e),
        FeatureEvent::Timer(e) => timer::describe(e),
        FeatureEvent::Board(e) => board::describe(e),
        FeatureEvent::Lecture(e) => questions::describe_lecture(e),
        FeatureEvent::Questions(e) => questions::describe_question(e),
        FeatureEvent::Reactions(e) => questions::describe_reaction(e),
        FeatureEvent::Polls(e) => polls::describe(e),
        FeatureEvent::Materials(e) => materials::describe(e),
    }
}

/// What the command line does with the room's features once joined.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct FeatureArgs {
    #[command(flatten)]
    pub hands: hands::HandArgs,
    #[command(flatten)]
    pub presence: presence::PresenceArgs,
    #[command(flatten)]
    pub timer: timer::TimerArgs,
    #[command(flatten)]
    pub board: board::BoardArgs,
    #[command(flatten)]
    pub questions: questions::QuestionArgs,
    #[command(flatten)]
    pub polls: polls::PollArgs,
    #[command(flatten)]
    pub materials: materials::MaterialArgs,
}

impl FeatureArgs {
    /// The requests to send once joined, in order.
    pub fn requests(&self) -> Vec<ClientMessage> {
        let mut out = self.presence.requests();
        out.extend(self.hands.requests());
        out.extend(self.timer.requests());
        out.extend(self.questions.requests());
        out.extend(self.materials.requests());
        out
    }
}
