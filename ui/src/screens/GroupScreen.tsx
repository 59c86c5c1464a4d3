/**
 * A study group's page: its members and where they are (online, in the group's room,
 * focusing), the group's room to open or join, its next sessions, its invite, and (for
 * its owner) a new invite, removing members and deleting the group; for a member,
 * leaving it. Everything comes from the app's `groups-changed` view, drawn again as the
 * local clock moves on (the focus countdowns).
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import { CopyField } from '../components/CopyField';
import { ConfirmDialog, Spinner } from '../components/Dialog';
import { BackIcon, CalendarIcon, PlusIcon } from '../components/Icons';
import { OccurrenceDialog, ScheduleDialog, type ScheduleRequest } from '../components/ScheduleDialog';
import { useToast } from '../components/Toasts';
import { useTicking } from '../hooks/useTicking';
import {
  calendar,
  describeError,
  leaveGroup,
  newGroupInvite,
  removeGroupMember,
  type CalendarEntry,
  type GroupCard,
  type GroupsChanged,
  type JoinMedia,
} from '../services/studyhall';
import {
  cardSummary,
  groupNames,
  inGroupRoomCount,
  memberRows,
  membersText,
  roomButtonLabel,
  upcomingFor,
  whenText,
  type MemberRow,
} from '../state/groups';
import { isolate } from '../state/text';
import { dayAt, localTimeZone, type DayKey } from '../state/zoned';

/** How far ahead "Next sessions" looks. */
const AHEAD_MS = 14 * 86_400_000;
/** Most upcoming sessions listed. */
const UPCOMING_SHOWN = 8;

type Confirm = { kind: 'invite' } | { kind: 'remove'; member: MemberRow } | { kind: 'leave' };

export function GroupScreen({
  view,
  group,
  onBack,
  onCalendar,
  onOpenRoom,
  onLeft,
  onCard,
}: {
  view: GroupsChanged | null;
  group: string;
  onBack: () => void;
  onCalendar: () => void;
  /** Enter the group's room (the app shows the room screen); rejects with why not. */
  onOpenRoom: (group: string, media: JoinMedia) => Promise<void>;
  /** We left the group (or deleted it). */
  onLeft: (group: string) => void;
  /** A command answered with the group's card (a new invite). */
  onCard: (card: GroupCard) => void;
}) {
  const card = view?.groups.find((c) => c.group.id === group) ?? null;
  const counting = card?.presence.some((p) => p.focus?.ends_at) ?? false;
  useTicking(counting, 10_000);
  // The countdowns (and today) read the clock each time they are drawn.
  // eslint-disable-next-line react-hooks/purity
  const now = Date.now();

  if (!view || !card) {
    return (
      <main className="study group-page" data-testid="group-page" data-group={group}>
        <header className="study__header">
          <button className="button button--ghost button--small" onClick={onBack} data-testid="group-back">
            <BackIcon /> Back
          </button>
          <h1 className="study__title">Study group</h1>
        </header>
        {view ? (
          <p className="banner" role="status" data-testid="group-gone">
            You are not in this group any more.
          </p>
        ) : (
          <p className="muted">
            <Spinner /> Loading the group…
          </p>
        )}
      </main>
    );
  }
  return (
    <GroupPage
      view={view}
      card={card}
      now={now}
      onBack={onBack}
      onCalendar={onCalendar}
      onOpenRoom={onOpenRoom}
      onLeft={onLeft}
      onCard={onCard}
    />
  );
}

function GroupPage({
  view,
  card,
  now,
  onBack,
  onCalendar,
  onOpenRoom,
  onLeft,
  onCard,
}: {
  view: GroupsChanged;
  card: GroupCard;
  now: number;
  onBack: () => void;
  onCalendar: () => void;
  onOpenRoom: (group: string, media: JoinMedia) => Promise<void>;
  onLeft: (group: string) => void;
  onCard: (card: GroupCard) => void;
}) {
  const g = card.group;
  const names = useMemo(() => groupNames(view), [view]);
  const rows = memberRows(card, now, names, view.hidden);
  const summary = cardSummary(card, now);
  const [confirm, setConfirm] = useState<Confirm | null>(null);
  const [confirmBusy, setConfirmBusy] = useState(false);
  const [confirmError, setConfirmError] = useState<string | null>(null);
  const toast = useToast();

  function closeConfirm() {
    setConfirm(null);
    setConfirmBusy(false);
    setConfirmError(null);
  }

  async function runConfirm() {
    if (!confirm) return;
    setConfirmBusy(true);
    setConfirmError(null);
    try {
      if (confirm.kind === 'invite') {
        onCard(await newGroupInvite(g.id));
        toast('A new invite was made. The old one no longer works.');
      } else if (confirm.kind === 'remove') {
        await removeGroupMember(g.id, confirm.member.identity);
        toast(`${isolate(confirm.member.name)} was removed from the group.`);
      } else {
        await leaveGroup(g.id);
        closeConfirm();
        onLeft(g.id);
        return;
      }
      closeConfirm();
    } catch (e) {
      setConfirmBusy(false);
      setConfirmError(describeError(e));
    }
  }

  return (
    <main className="study group-page" data-testid="group-page" data-group={g.id}>
      <header className="study__header group-page__header">
        <button className="button button--ghost button--small" onClick={onBack} data-testid="group-back">
          <BackIcon /> Back
        </button>
        <div className="group-page__heading">
          <h1 className="study__title group-page__title" title={g.name} data-testid="group-name">
            <bdi>{g.name}</bdi>
          </h1>
          <p className="muted study__tagline" data-testid="group-summary">
            {summary.countText} · {membersText(summary.total)} · on {card.hostedHere ? 'this computer' : card.relay}
          </p>
        </div>
        <button className="button button--ghost button--small group-page__calendar" onClick={onCalendar} data-testid="group-calendar">
          <CalendarIcon /> Calendar
        </button>
      </header>

      {!card.connected && card.problem && (
        <div className="banner banner--warning" role="status" data-testid="group-problem">
          <span>{card.problem} — showing what was seen last.</span>
        </div>
      )}

      <div className="group-page__grid">
        <section className="card group-page__members" aria-labelledby="group-members-title">
          <h2 className="card__title" id="group-members-title">
            Members
          </h2>
          <RoomButton card={card} onOpenRoom={onOpenRoom} />
          <ul className="members" data-testid="member-list">
            {rows.map((m) => (
              <li
                key={m.identity}
                className="member"
                data-testid="member-row"
                data-identity={m.identity}
                data-status={m.status}
              >
                <span className={`member-dot member-dot--${m.dot}`} aria-hidden="true" />
                <span className="member__main">
                  <span className="member__name" title={m.name}>
                    <bdi data-testid="member-name">{m.name}</bdi>
                    {m.you && <span className="muted"> (you)</span>}
                  </span>
                  <span className="member__status" title={m.where ? `${m.label} · ${m.where}` : m.label} data-testid="member-status">
                    {m.label}
                    {m.where && <span className="muted"> · {m.where}</span>}
                  </span>
                </span>
                {m.owner && <span className="badge badge--host">Owner</span>}
                {card.owner && !m.you && (
                  <button
                    className="button button--small button--danger-text"
                    onClick={() => setConfirm({ kind: 'remove', member: m })}
                    aria-label={`Remove ${m.name} from the group`}
                    data-testid={`remove-member-${m.identity}`}
                  >
                    Remove
                  </button>
                )}
              </li>
            ))}
          </ul>
        </section>

        <div className="group-page__side">
          <UpcomingCard view={view} card={card} now={now} />

          <section className="card" aria-labelledby="group-invite-title">
            <h2 className="card__title" id="group-invite-title">
              Invite
            </h2>
            <p className="group-page__code">
              Invite code <strong data-testid="group-invite-code">{g.invite}</strong>
            </p>
            <CopyField label="Invite link" value={card.inviteLink} testId="group-invite-link" />
            <CopyField label="Code with the address" value={card.inviteCode} testId="group-invite-full" />
            <p className="muted small">Anyone with the invite can join the group.</p>
            {card.owner && (
              <button className="button button--small" onClick={() => setConfirm({ kind: 'invite' })} data-testid="group-new-invite">
                New invite
              </button>
            )}
          </section>

          <section className="card">
            <h2 className="card__title">{card.owner ? 'Delete the group' : 'Leave the group'}</h2>
            <p className="muted small">
              {card.owner
                ? 'Deleting the group removes it for every member, with its schedule and its room.'
                : 'You can join again later with an invite.'}
            </p>
            <button className="button button--danger-text" onClick={() => setConfirm({ kind: 'leave' })} data-testid="group-leave">
              {card.owner ? 'Delete group' : 'Leave group'}
            </button>
          </section>
        </div>
      </div>

      {confirm && (
        <ConfirmDialog
          testId="group-confirm"
          {...confirmText(confirm, card)}
          danger={confirm.kind !== 'invite'}
          busy={confirmBusy}
          error={confirmError}
          onCancel={closeConfirm}
          onConfirm={() => void runConfirm()}
        />
      )}
    </main>
  );
}

function confirmText(confirm: Confirm, card: GroupCard): { title: string; message: string; confirmLabel: string } {
  const group = isolate(card.group.name);
  switch (confirm.kind) {
    case 'invite':
      return {
        title: 'Make a new invite?',
        message: `The current invite (${card.group.invite}) stops working: nobody can join with it any more. Members stay in the group.`,
        confirmLabel: 'Make a new invite',
      };
    case 'remove':
      return {
        title: `Remove ${isolate(confirm.member.name)}?`,
        message: `${isolate(confirm.member.name)} leaves “${group}” and its room, and cannot join it again.`,
        confirmLabel: 'Remove',
      };
    case 'leave':
      return card.owner
        ? {
            title: `Delete “${group}”?`,
            message: 'You own this group: leaving it deletes it for everyone, with its members, schedule and room. This cannot be undone.',
            confirmLabel: 'Delete group',
          }
        : {
            title: `Leave “${group}”?`,
            message: 'You leave the group, its room and its schedule. You can join again with an invite.',
            confirmLabel: 'Leave group',
          };
  }
}

/** "Open the room" / "Join the room (N there)", with the microphone and camera on unless unticked. */
function RoomButton({ card, onOpenRoom }: { card: GroupCard; onOpenRoom: (group: string, media: JoinMedia) => Promise<void> }) {
  const [mic, setMic] = useState(true);
  const [camera, setCamera] = useState(true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const there = inGroupRoomCount(card);

  async function open() {
    setBusy(true);
    setError(null);
    try {
      await onOpenRoom(card.group.id, { mic, camera });
    } catch (e) {
      setError(describeError(e));
      setBusy(false);
    }
  }

  return (
    <div className="group-room">
      <button
        className="button button--primary"
        onClick={() => void open()}
        disabled={busy}
        aria-busy={busy}
        data-testid="group-room"
        data-there={there}
      >
        {busy && <Spinner />}
        {roomButtonLabel(there)}
      </button>
      <div className="group-room__media" role="group" aria-label="Enter with">
        <label className="check">
          <input type="checkbox" checked={mic} onChange={(e) => setMic(e.target.checked)} disabled={busy} data-testid="group-join-mic" />
          Microphone on
        </label>
        <label className="check">
          <input
            type="checkbox"
            checked={camera}
            onChange={(e) => setCamera(e.target.checked)}
            disabled={busy}
            data-testid="group-join-camera"
          />
          Camera on
        </label>
      </div>
      {error && (
        <p className="field-error" role="alert" data-testid="group-room-error">
          {error}
        </p>
      )}
    </div>
  );
}

type Upcoming = { status: 'loading' } | { status: 'ready'; entries: CalendarEntry[] } | { status: 'failed'; message: string };

/** The group's sessions in the next two weeks, and adding one. */
function UpcomingCard({ view, card, now }: { view: GroupsChanged; card: GroupCard; now: number }) {
  const [upcoming, setUpcoming] = useState<Upcoming>({ status: 'loading' });
  const [attempt, setAttempt] = useState(0);
  const [dialog, setDialog] = useState<ScheduleRequest | CalendarEntry | null>(null);
  const toast = useToast();
  // Asked again whenever the group's schedule changes.
  const schedule = JSON.stringify(card.group.sessions);

  useEffect(() => {
    let current = true;
    const from = Date.now();
    calendar(from, from + AHEAD_MS).then(
      (entries) => current && setUpcoming({ status: 'ready', entries }),
      (e: unknown) => current && setUpcoming({ status: 'failed', message: describeError(e) }),
    );
    return () => {
      current = false;
    };
  }, [schedule, attempt]);

  const onSaved = useCallback(
    (message: string) => {
      setDialog(null);
      toast(message);
    },
    [toast],
  );

  const list = upcoming.status === 'ready' ? upcomingFor(upcoming.entries, card.group.id, now) : [];
  const today: DayKey = dayAt(now, localTimeZone());
  const nextHour = `${String((new Date(now).getHours() + 1) % 24).padStart(2, '0')}:00`;
  return (
    <section className="card" aria-labelledby="group-sessions-title">
      <div className="groups__head">
        <h2 className="card__title" id="group-sessions-title">
          Next sessions
        </h2>
        <button
          className="button button--small"
          onClick={() => setDialog({ kind: 'new', target: card.group.id, date: today, time: nextHour })}
          data-testid="schedule-session"
        >
          <PlusIcon /> Add session
        </button>
      </div>
      {upcoming.status === 'loading' && (
        <p className="muted">
          <Spinner /> Loading the schedule…
        </p>
      )}
      {upcoming.status === 'failed' && (
        <p className="error" role="alert" data-testid="upcoming-error">
          Could not load the schedule: {upcoming.message}{' '}
          <button className="button button--small" onClick={() => setAttempt((n) => n + 1)}>
            Try again
          </button>
        </p>
      )}
      {upcoming.status === 'ready' && list.length === 0 && (
        <p className="muted" data-testid="upcoming-empty">
          Nothing scheduled in the next two weeks.
        </p>
      )}
      {list.length > 0 && (
        <ul className="upcoming" data-testid="upcoming-list">
          {list.slice(0, UPCOMING_SHOWN).map((e) => (
            <li key={`${e.occurrence.session}:${e.occurrence.occurrence}`}>
              <button
                className="upcoming__item"
                onClick={() => setDialog(e)}
                data-testid="upcoming-session"
                data-session={e.occurrence.session}
              >
                <span className="upcoming__title" title={e.occurrence.title}>
                  <bdi>{e.occurrence.title}</bdi>
                </span>
                <span className="upcoming__badges">
                  {e.occurrence.start_ms <= now && <span className="badge badge--live">now</span>}
                  {e.occurrence.moved && <span className="badge">moved</span>}
                </span>
                <span className="upcoming__when">{whenText(e.occurrence.start_ms, e.occurrence.end_ms)}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {dialog && 'kind' in dialog && (
        <ScheduleDialog view={view} request={dialog} onClose={() => setDialog(null)} onSaved={onSaved} />
      )}
      {dialog && 'occurrence' in dialog && (
        <OccurrenceDialog
          view={view}
          entry={dialog}
          onClose={() => setDialog(null)}
          onEdit={(group, session) => setDialog({ kind: 'edit', group, session })}
          onDone={onSaved}
        />
      )}
    </section>
  );
}
