//! The lecture's questions over real WebSockets: a presenter whose socket is killed
//! while questions arrive comes back to exactly the open ones, and they outlive a
//! restart of the embedded relay; presenters are named by the host and keep the role.

use studyhall_protocol::{
    ErrorCode, LectureRequest, QuestionOutcome, QuestionRequest, QuestionState, Role,
};
use studyhall_tests::questions::{open_ids, QuestionsView};
use studyhall_tests::TestRelay;

async fn view(relay: &TestRelay, room: &str, who: &str) -> QuestionsView {
    let (client, info) = if who == "host" {
        relay.join_host(room, who).await
    } else {
        relay.join(room, who).await
    };
    QuestionsView::new(client, &info)
}

#[tokio::test]
async fn a_presenter_killed_while_questions_arrive_gets_exactly_the_open_ones_back() {
    let relay = TestRelay::start().await;
    let room = "lecture";
    let mut host = view(&relay, room, "host").await;
    let mut pat = view(&relay, room, "pat").await;
    let mut ada = view(&relay, room, "ada").await;
    let mut bob = view(&relay, room, "bob").await;

    // Only the host names presenters; pat becomes one.
    let refused = ada
        .send(
            LectureRequest::SetPresenter {
                identity: "ada".into(),
                presenter: true,
            }
            .into(),
        )
        .await
        .unwrap_err();
    assert_eq!(refused.0, ErrorCode::Forbidden, "{refused:?}");
    host.send(
        LectureRequest::SetPresenter {
            identity: "pat".into(),
            presenter: true,
        }
        .into(),
    )
    .await
    .unwrap();
    let first = ada.ask("What is a monad?", false).await;
    pat.until("pat a presenter with the first question", |l| {
        l.get(&first.id).is_some()
    })
    .await;
    assert_eq!(pat.role, Role::Presenter);

    // Pat's socket dies (no close frame) while questions keep coming.
    drop(pat);
    let secret = ada.ask("Is this on the exam?", true).await;
    let third = bob.ask("Can you repeat the last step?", false).await;
    bob.upvote(&secret.id).await.unwrap();
    bob.upvote(&secret.id).await.unwrap();
    host.until("three questions", |l| l.0.len() == 3).await;
    host.close(&first.id, QuestionOutcome::Answered)
        .await
        .unwrap();
    assert_eq!(
        ada.close(&third.id, QuestionOutcome::Dismissed)
            .await
            .unwrap_err()
            .0,
        ErrorCode::Forbidden
    );

    // Back: a presenter still, with exactly the open questions, the anonymous asker
    // shown to a presenter, votes counted once.
    let (client, info) = relay.join(room, "pat").await;
    assert_eq!(info.you.role, Role::Presenter);
    let mut open = open_ids(&info.features.questions);
    open.sort();
    let mut expected = vec![secret.id.clone(), third.id.clone()];
    expected.sort();
    assert_eq!(open, expected);
    let shown = info
        .features
        .questions
        .iter()
        .find(|q| q.id == secret.id)
        .unwrap();
    assert_eq!((shown.votes, shown.by.as_deref()), (1, Some("ada")));
    assert_eq!(info.features.questions[0].id, secret.id, "most votes first");
    let mut pat = QuestionsView::new(client, &info);
    pat.send(
        QuestionRequest::QuestionPin {
            id: Some(third.id.clone()),
        }
        .into(),
    )
    .await
    .unwrap();
    // A student never learns who asked anonymously.
    bob.until("the pin", |l| l.get(&third.id).is_some_and(|q| q.pinned))
        .await;
    let hidden = bob.list.get(&secret.id).unwrap();
    assert_eq!((hidden.by.as_ref(), hidden.voted), (None, true));

    // A restart of the relay loses nothing.
    drop((host, pat, ada, bob));
    let relay = relay.restart_in_place().await;
    let (_client, info) = relay.join(room, "pat").await;
    assert_eq!(
        info.you.role,
        Role::Presenter,
        "presenters outlive a restart"
    );
    let mut open = open_ids(&info.features.questions);
    open.sort();
    assert_eq!(open, expected, "the open questions outlive a restart");
    let answered = info
        .features
        .questions
        .iter()
        .find(|q| q.id == first.id)
        .unwrap();
    assert_eq!(answered.state, QuestionState::Answered);
    assert!(info
        .features
        .questions
        .iter()
        .any(|q| q.id == third.id && q.pinned));
}

#[tokio::test]
async fn limits_name_themselves_and_a_flood_costs_only_its_sender() {
    let relay = TestRelay::start().await;
    let mut ada = view(&relay, "r", "ada").await;
    let mut bob = view(&relay, "r", "bob").await;
    for i in 0..studyhall_protocol::questions::QUESTIONS_PER_MINUTE {
        ada.ask(&format!("question {i}"), false).await;
    }
    let (code, message) = ada
        .send(
            QuestionRequest::QuestionAsk {
                text: "one too many".into(),
                anonymous: false,
            }
            .into(),
        )
        .await
        .unwrap_err();
    assert_eq!(code, ErrorCode::RateLimited);
    assert!(message.starts_with("questions_per_minute"), "{message}");
    // Still connected, and others are served.
    let first = ada.list.0[0].id.clone();
    ada.upvote(&first).await.unwrap();
    bob.ask("mine still goes through", false).await;
    let too_long = "?".repeat(studyhall_protocol::questions::MAX_QUESTION_BYTES + 1);
    let (code, message) = bob
        .send(
            QuestionRequest::QuestionAsk {
                text: too_long,
                anonymous: false,
            }
            .into(),
        )
        .await
        .unwrap_err();
    assert_eq!(code, ErrorCode::InvalidText);
    assert!(message.starts_with("question_bytes"), "{message}");
    assert_eq!(
        bob.upvote("no-such").await.unwrap_err().0,
        ErrorCode::NotFound
    );
    assert_eq!(
        bob.upvote(&"9".repeat(65)).await.unwrap_err().0,
        ErrorCode::InvalidId
    );
}
