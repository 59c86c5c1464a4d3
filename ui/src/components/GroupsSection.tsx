/**
 * The start screen's study groups: a card per group (who is online, who is in its room,
 * who is focusing), making a group and joining one with an invite, appearing offline, and
 * the way to the calendar.
 */
import { useEffect, useId, useState } from 'react';
import type { GroupsState } from '../hooks/useGroups';
import { useTicking } from '../hooks/useTicking';
import {
  createGroup,
  describeError,
  joinGroup,
  parseGroupInvite,
  setAppearOffline,
  type GroupCard,
} from '../services/studyhall';
import { cardSummary, groupColours, groupNameProblem, MAX_GROUP_NAME_CHARS, relayProblem } from '../state/groups';
import { normalizeInviteText } from '../state/invite';
import { Dialog, Spinner } from './Dialog';
import { CalendarIcon, PeopleIcon } from './Icons';

/** How many names of those in a group's room a card shows. */
const NAMES_SHOWN = 3;
const CHECK_DELAY_MS = 350;

export function GroupsSection({
  groups,
  onRetry,
  onOpenGroup,
  onCalendar,
  joinInvite,
  onJoinInviteTaken,
  disabled,
}: {
  groups: GroupsState;
  onRetry: () => void;
  /** Open a group's page; `card` when it is new (made or joined just now). */
  onOpenGroup: (id: string, card?: GroupCard) => void;
  onCalendar: () => void;
  /** A `studyhall://group?…` link the app was opened with: it opens the join dialog. */
  joinInvite: string | null;
  onJoinInviteTaken: () => void;
  disabled: boolean;
}) {
  const [dialog, setDialog] = useState<'new' | { join: string } | null>(null);
  const view = groups.status === 'ready' ? groups.view : null;
  const colours = groupColours(view);
  const focusing = view?.groups.some((c) => c.presence.some((p) => p.focus?.ends_at)) ?? false;
  useTicking(focusing, 15_000);
  // The cards' countdowns read the clock each time they are drawn.
  // eslint-disable-next-line react-hooks/purity
  const now = Date.now();
  // A launch invite opens the join dialog until it is closed.
  const joining = joinInvite ?? (dialog !== null && dialog !== 'new' ? dialog.join : null);
  const closeJoin = () => {
    setDialog(null);
    if (joinInvite !== null) onJoinInviteTaken();
  };

  return (
    <section className="card groups" data-testid="groups-section" aria-labelledby="groups-title">
      <div className="groups__head">
        <h2 className="card__title" id="groups-title">
          Study groups
        </h2>
        <div className="groups__actions">
          <button className="button button--small" onClick={onCalendar} disabled={disabled} data-testid="open-calendar">
            <CalendarIcon /> Calendar
          </button>
          <button
            className="button button--small"
            onClick={() => setDialog({ join: '' })}
            disabled={disabled || !view}
            data-testid="join-group"
          >
            Join a group
          </button>
          <button
            className="button button--small button--primary"
            onClick={() => setDialog('new')}
            disabled={disabled || !view}
            data-testid="new-group"
          >
            New group
          </button>
        </div>
      </div>

      {groups.status === 'loading' && (
        <p className="muted" data-testid="groups-loading">
          <Spinner /> Loading your groups…
        </p>
      )}
      {groups.status === 'failed' && (
        <div className="banner banner--error" role="alert" data-testid="groups-error">
          <span>Could not load your groups: {groups.message}</span>
          <button className="button button--small" onClick={onRetry}>
            Try again
          </button>
        </div>
      )}
      {view && view.groups.length === 0 && (
        <p className="muted groups__empty" data-testid="groups-empty">
          No groups yet — create one or join with an invite.
        </p>
      )}
      {view && view.groups.length > 0 && (
        <ul className="groups__list" data-testid="groups-list">
          {view.groups.map((card) => (
            <li key={card.group.id}>
              <GroupCardButton
                card={card}
                colour={colours.get(card.group.id) ?? 0}
                now={now}
                disabled={disabled}
                onOpen={() => onOpenGroup(card.group.id)}
              />
            </li>
          ))}
        </ul>
      )}
      {view && <AppearOffline hidden={view.hidden} disabled={disabled} />}

      {dialog === 'new' && (
        <NewGroupDialog
          onClose={() => setDialog(null)}
          onCreated={(card) => {
            setDialog(null);
            onOpenGroup(card.group.id, card);
          }}
        />
      )}
      {joining !== null && (
        <JoinGroupDialog
          key={joining}
          initial={joining}
          onClose={closeJoin}
          onJoined={(card) => {
            closeJoin();
            onOpenGroup(card.group.id, card);
          }}
        />
      )}
    </section>
  );
}

function GroupCardButton({
  card,
  colour,
  now,
  disabled,
  onOpen,
}: {
  card: GroupCard;
  colour: number;
  now: number;
  disabled: boolean;
  onOpen: () => void;
}) {
  const summary = cardSummary(card, now);
  const shown = summary.inRoom.slice(0, NAMES_SHOWN);
  const more = summary.inRoom.length - shown.length;
  const inRoomText = `In the room: ${summary.inRoom.join(', ')}`;
  return (
    <button
      className="group-card"
      onClick={onOpen}
      disabled={disabled}
      data-testid="group-card"
      data-group={card.group.id}
    >
      <span className={`group-card__swatch cal-colour--${colour}`} aria-hidden="true" />
      <span className="group-card__main">
        <span className="group-card__name" title={card.group.name}>
          <bdi data-testid="group-card-name">{card.group.name}</bdi>
          {card.owner && <span className="badge">owner</span>}
        </span>
        {summary.inRoom.length > 0 ? (
          <span className="group-card__activity" title={inRoomText} data-testid="group-card-activity">
            In the room:{' '}
            {shown.map((name, i) => (
              <span key={i}>
                {i > 0 && ', '}
                <bdi>{name}</bdi>
              </span>
            ))}
            {more > 0 && ` and ${more} more`}
          </span>
        ) : (
          <span className="group-card__activity muted">Nobody in the room</span>
        )}
        {summary.focusing > 0 && (
          <span className="group-card__focusing" data-testid="group-card-focusing">
            {summary.focusing} focusing
          </span>
        )}
        {!card.connected && card.problem && (
          <span className="group-card__problem" data-testid="group-card-problem">
            {card.problem} — showing what was seen last.
          </span>
        )}
      </span>
      <span className="group-card__count" data-testid="group-card-count">
        <PeopleIcon className="icon icon--muted" />
        {summary.countText}
      </span>
    </button>
  );
}

function AppearOffline({ hidden, disabled }: { hidden: boolean; disabled: boolean }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const hintId = useId();
  return (
    <div className="groups__offline">
      <label className="check">
        <input
          type="checkbox"
          checked={hidden}
          disabled={disabled || busy}
          aria-describedby={hintId}
          onChange={(e) => {
            const want = e.target.checked;
            setBusy(true);
            setError(null);
            setAppearOffline(want).then(
              () => setBusy(false),
              (err: unknown) => {
                setBusy(false);
                setError(describeError(err));
              },
            );
          }}
          data-testid="appear-offline"
        />
        Appear offline
        {busy && <Spinner />}
      </label>
      <span id={hintId} className="muted small">
        {hidden ? 'Your groups see you as offline.' : 'Your groups see when you are online and in a room.'}
      </span>
      {error && (
        <p className="field-error" role="alert" data-testid="appear-offline-error">
          {error}
        </p>
      )}
    </div>
  );
}

function NewGroupDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (card: GroupCard) => void }) {
  const [name, setName] = useState('');
  const [where, setWhere] = useState<'here' | 'server'>('here');
  const [relay, setRelay] = useState('');
  const [nameError, setNameError] = useState<string | null>(null);
  const [relayError, setRelayError] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const nameId = useId();
  const relayId = useId();
  const formId = useId();

  async function create() {
    const nameProblem = groupNameProblem(name);
    const serverProblem = where === 'server' ? relayProblem(relay) : null;
    setNameError(nameProblem);
    setRelayError(serverProblem);
    setError(null);
    if (nameProblem || serverProblem) return;
    setBusy(true);
    try {
      onCreated(await createGroup(name.trim(), where === 'server' ? relay.trim() : null));
    } catch (e) {
      setError(describeError(e));
      setBusy(false);
    }
  }

  return (
    <Dialog
      title="New study group"
      onClose={busy ? undefined : onClose}
      testId="new-group-dialog"
      actions={
        <>
          <button className="button" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button
            type="submit"
            form={formId}
            className="button button--primary"
            disabled={busy}
            aria-busy={busy}
            data-testid="create-group"
          >
            {busy && <Spinner />}
            Create group
          </button>
        </>
      }
    >
      <form
        id={formId}
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void create();
        }}
      >
        <div className="field">
          <label htmlFor={nameId} className="label">
            Group name
          </label>
          <input
            id={nameId}
            className="input"
            name="group-name"
            value={name}
            maxLength={MAX_GROUP_NAME_CHARS * 2}
            placeholder="Algebra study group"
            disabled={busy}
            aria-invalid={nameError !== null}
            onChange={(e) => {
              setName(e.target.value);
              setNameError(null);
            }}
            data-autofocus
            data-testid="group-name"
          />
          {nameError && (
            <p className="field-error" role="alert" data-testid="group-name-error">
              {nameError}
            </p>
          )}
        </div>
        <fieldset className="field fieldset" disabled={busy}>
          <legend className="label">Where it lives</legend>
          <label className="check">
            <input
              type="radio"
              name="where"
              checked={where === 'here'}
              onChange={() => setWhere('here')}
              data-testid="group-where-here"
            />
            On this computer
          </label>
          <p className="muted small fieldset__hint">
            Members on your network reach the group while Studyhall is open here.
          </p>
          <label className="check">
            <input
              type="radio"
              name="where"
              checked={where === 'server'}
              onChange={() => setWhere('server')}
              data-testid="group-where-server"
            />
            On a school server
          </label>
          {where === 'server' && (
            <>
              <label htmlFor={relayId} className="label fieldset__sub">
                Server address
              </label>
              <input
                id={relayId}
                className="input input--mono"
                value={relay}
                placeholder="school.example:7450"
                spellCheck={false}
                autoCapitalize="off"
                autoCorrect="off"
                aria-invalid={relayError !== null}
                onChange={(e) => {
                  setRelay(e.target.value);
                  setRelayError(null);
                }}
                data-testid="group-relay"
              />
              {relayError && (
                <p className="field-error" role="alert" data-testid="group-relay-error">
                  {relayError}
                </p>
              )}
            </>
          )}
        </fieldset>
        {error && (
          <p className="field-error" role="alert" data-testid="new-group-error">
            {error}
          </p>
        )}
      </form>
    </Dialog>
  );
}

type InviteCheck =
  | { status: 'idle' }
  | { status: 'checking'; text: string }
  | { status: 'valid'; text: string; code: string }
  | { status: 'invalid'; text: string; message: string };

function JoinGroupDialog({
  initial,
  onClose,
  onJoined,
}: {
  initial: string;
  onClose: () => void;
  onJoined: (card: GroupCard) => void;
}) {
  const [text, setText] = useState(initial);
  const [check, setCheck] = useState<InviteCheck>({ status: 'idle' });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const inputId = useId();
  const formId = useId();
  const trimmed = normalizeInviteText(text);

  // Check the invite with the app as it is typed (debounced), as the room's join field does.
  useEffect(() => {
    if (trimmed === '') return;
    let current = true;
    const timer = setTimeout(() => {
      setCheck({ status: 'checking', text: trimmed });
      parseGroupInvite(trimmed).then(
        (code) => current && setCheck({ status: 'valid', text: trimmed, code }),
        (e: unknown) => current && setCheck({ status: 'invalid', text: trimmed, message: describeError(e) }),
      );
    }, CHECK_DELAY_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [trimmed]);

  async function join() {
    setError(null);
    if (trimmed === '') {
      setError('Paste a group invite link or type its code.');
      return;
    }
    setBusy(true);
    try {
      onJoined(await joinGroup(trimmed));
    } catch (e) {
      setError(describeError(e));
      setBusy(false);
    }
  }

  const showCheck = trimmed !== '' && check.status !== 'idle' && check.text === trimmed;
  return (
    <Dialog
      title="Join a study group"
      onClose={busy ? undefined : onClose}
      testId="join-group-dialog"
      actions={
        <>
          <button className="button" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button
            type="submit"
            form={formId}
            className="button button--primary"
            disabled={busy || (showCheck && check.status === 'invalid')}
            aria-busy={busy}
            data-testid="join-group-submit"
          >
            {busy && <Spinner />}
            Join group
          </button>
        </>
      }
    >
      <form
        id={formId}
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void join();
        }}
      >
        <label htmlFor={inputId} className="label">
          Group invite link or code
        </label>
        <input
          id={inputId}
          className="input input--mono"
          value={text}
          placeholder="G-K7QX-29FD@192.168.1.20:7450"
          spellCheck={false}
          autoCapitalize="off"
          autoCorrect="off"
          disabled={busy}
          onChange={(e) => {
            setText(e.target.value);
            setError(null);
          }}
          aria-describedby={`${inputId}-status`}
          aria-invalid={showCheck && check.status === 'invalid'}
          data-autofocus
          data-testid="group-invite-input"
        />
        <p id={`${inputId}-status`} className="field-status" aria-live="polite" data-testid="group-invite-status">
          {showCheck && check.status === 'checking' && <span className="muted">Checking…</span>}
          {showCheck && check.status === 'valid' && <span className="ok">✓ Group invite {check.code}</span>}
          {showCheck && check.status === 'invalid' && <span className="error">{check.message}</span>}
        </p>
        {error && (
          <p className="field-error" role="alert" data-testid="join-group-error">
            {error}
          </p>
        )}
      </form>
    </Dialog>
  );
}
