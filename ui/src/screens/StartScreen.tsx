import { useCallback, useEffect, useId, useState } from 'react';
import { Spinner } from '../components/Dialog';
import { GroupsSection } from '../components/GroupsSection';
import { ChartIcon, SettingsIcon } from '../components/Icons';
import type { GroupsState } from '../hooks/useGroups';
import {
  describeError,
  getAppInfo,
  onInviteOpened,
  parseInvite,
  saveProfile,
  takeLaunchInvite,
  type AppInfo,
  type GroupCard,
  type InviteTarget,
  type RecentRoom,
  type RoomMode,
  type Settings,
} from '../services/studyhall';
import { inviteShape, normalizeInviteText } from '../state/invite';
import { nameProblem, profileOf } from '../state/profile';
import { isolate, relativeTime } from '../state/text';
import type { SetupIntent } from './DeviceSetup';

/** A banner on the start screen: why the last room ended, or that the study record was started afresh. */
export type StartNotice = { kind: 'kicked' | 'ended' | 'lost' | 'study'; text: string };

type InviteCheck =
  | { status: 'idle' }
  | { status: 'checking'; text: string }
  | { status: 'valid'; text: string; target: InviteTarget }
  | { status: 'invalid'; text: string; message: string };

const CHECK_DELAY_MS = 350;

export function StartScreen({
  settings,
  settingsError,
  notice,
  onDismissNotice,
  onSettings,
  onContinue,
  onStudy,
  groups,
  onRetryGroups,
  onOpenGroup,
  onCalendar,
}: {
  settings: Settings | null;
  settingsError: string | null;
  notice: StartNotice | null;
  onDismissNotice: () => void;
  onSettings: (settings: Settings) => void;
  onContinue: (intent: SetupIntent) => void;
  /** Open the Study page (time in rooms, streaks, the daily goal). */
  onStudy: () => void;
  /** The study groups, as the app last told of them. */
  groups: GroupsState;
  onRetryGroups: () => void;
  /** Open a group's page (`card`: a group made or joined just now). */
  onOpenGroup: (id: string, card?: GroupCard) => void;
  onCalendar: () => void;
}) {
  const [name, setName] = useState<string | null>(null);
  const [nameError, setNameError] = useState<string | null>(null);
  const [inviteText, setInviteText] = useState('');
  const [check, setCheck] = useState<InviteCheck>({ status: 'idle' });
  const [title, setTitle] = useState('');
  const [mode, setMode] = useState<RoomMode>('study');
  const [busy, setBusy] = useState<'join' | 'host' | 'devices' | null>(null);
  const [joinError, setJoinError] = useState<string | null>(null);
  const [hostError, setHostError] = useState<string | null>(null);
  const [groupInvite, setGroupInvite] = useState<string | null>(null);
  const groupInviteTaken = useCallback(() => setGroupInvite(null), []);
  const nameId = useId();
  const inviteId = useId();
  const titleId = useId();
  const modeId = useId();

  const displayName = name ?? settings?.displayName ?? '';
  const ready = settings !== null;

  // A studyhall:// link the app was opened with (a clicked invite), or that a later click
  // handed to it while it runs, goes into the join field, where it is checked like a typed
  // one. The app hands each link out once. Not cancelled on unmount: under StrictMode's
  // double effect the first call is the one that gets it.
  useEffect(() => {
    if (!ready) return;
    const take = () =>
      takeLaunchInvite().then(
        (link) => {
          // A group's invite opens the groups' join dialog; a room's goes into the join field.
          if (link && link.trim().toLowerCase().startsWith('studyhall://group')) setGroupInvite(link.trim());
          else if (link) {
            setInviteText(link);
            setJoinError(null);
          }
        },
        (error: unknown) => console.warn('cannot read the launch invite', error),
      );
    void take();
    return onInviteOpened(() => void take());
  }, [ready]);

  // Check the invite with the app as it is typed (debounced).
  const trimmed = normalizeInviteText(inviteText);
  useEffect(() => {
    if (trimmed === '' || !ready) return;
    let current = true;
    const timer = setTimeout(() => {
      setCheck({ status: 'checking', text: trimmed });
      parseInvite(trimmed).then(
        (target) => current && setCheck({ status: 'valid', text: trimmed, target }),
        (error: unknown) =>
          current && setCheck({ status: 'invalid', text: trimmed, message: describeError(error) }),
      );
    }, CHECK_DELAY_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [trimmed, ready]);

  /** Saves the name if it changed; false (with the reason shown) when it cannot. */
  async function saveName(): Promise<boolean> {
    if (!settings) return false;
    const problem = nameProblem(displayName);
    if (problem) {
      setNameError(problem);
      return false;
    }
    if (displayName.trim() === settings.displayName) return true;
    try {
      onSettings(await saveProfile({ ...profileOf(settings), displayName: displayName.trim() }));
      setName(null);
      setNameError(null);
      return true;
    } catch (error) {
      setNameError(describeError(error));
      return false;
    }
  }

  async function join(text: string, fromRecent?: RecentRoom) {
    setJoinError(null);
    const invite = normalizeInviteText(text);
    if (invite === '') {
      setJoinError('Paste an invite link or type a room code.');
      return;
    }
    setBusy('join');
    try {
      if (!(await saveName())) return;
      let target: InviteTarget;
      if (check.status === 'valid' && check.text === invite) target = check.target;
      else target = await parseInvite(invite);
      onContinue({ kind: 'join', invite, relay: target.relay, title: fromRecent?.title ?? null });
    } catch (error) {
      const message = describeError(error);
      if (fromRecent) setJoinError(`Can't rejoin “${isolate(fromRecent.title)}”: ${message}`);
      else setCheck({ status: 'invalid', text: invite, message });
    } finally {
      setBusy(null);
    }
  }

  async function host() {
    setHostError(null);
    setBusy('host');
    try {
      if (!(await saveName())) return;
      const roomTitle = title.trim() || `${displayName.trim()}'s study room`;
      onContinue({ kind: 'host', title: roomTitle, mode });
    } catch (error) {
      setHostError(describeError(error));
    } finally {
      setBusy(null);
    }
  }

  async function devices() {
    setBusy('devices');
    try {
      if (await saveName()) onContinue({ kind: 'settings' });
    } finally {
      setBusy(null);
    }
  }

  const showCheck = trimmed !== '' && (check.status === 'idle' || check.text === trimmed);
  const shape = inviteShape(inviteText);

  return (
    <main className="start">
      <header className="start__header">
        <BookMark />
        <div>
          <h1 className="start__title">Studyhall</h1>
          <p className="start__tagline">Study together on video</p>
        </div>
        <button
          className="button button--ghost start__study"
          onClick={onStudy}
          disabled={busy !== null}
          data-testid="open-study"
        >
          <ChartIcon /> Study
        </button>
        <button
          className="button button--ghost"
          onClick={() => void devices()}
          disabled={!ready || busy !== null}
          data-testid="open-devices"
        >
          <SettingsIcon /> Camera &amp; microphone
        </button>
      </header>

      {notice && (
        <div className={`banner banner--${notice.kind === 'lost' ? 'error' : 'info'}`} role="status" data-testid={`banner-${notice.kind}`}>
          <span>{notice.text}</span>
          <button className="button button--ghost button--small" onClick={onDismissNotice}>
            Dismiss
          </button>
        </div>
      )}

      {settingsError && (
        <p className="banner banner--error" role="alert" data-testid="settings-error">
          Could not reach the Studyhall app: {settingsError} Open this screen from the Studyhall
          desktop app.
        </p>
      )}

      <section className="card start__name">
        <label htmlFor={nameId} className="label">
          Your name
        </label>
        <input
          id={nameId}
          className="input"
          value={displayName}
          maxLength={128}
          placeholder={ready ? 'How the others will see you' : 'Loading…'}
          disabled={!ready}
          onChange={(e) => {
            setName(e.target.value);
            setNameError(null);
          }}
          onBlur={() => {
            if (name !== null && name.trim() !== settings?.displayName && !nameProblem(name)) void saveName();
          }}
          data-testid="display-name"
          autoComplete="nickname"
        />
        {nameError && (
          <p className="field-error" role="alert" data-testid="name-error">
            {nameError}
          </p>
        )}
      </section>

      <div className="start__actions">
        <form
          className="card"
          onSubmit={(e) => {
            e.preventDefault();
            void join(inviteText);
          }}
        >
          <h2 className="card__title">Join a room</h2>
          <label htmlFor={inviteId} className="label">
            Invite link or code
          </label>
          <input
            id={inviteId}
            className="input input--mono"
            value={inviteText}
            placeholder="K7QX-29FD@192.168.1.20:7450"
            disabled={!ready}
            spellCheck={false}
            autoCapitalize="off"
            autoCorrect="off"
            onChange={(e) => {
              setInviteText(e.target.value);
              setJoinError(null);
            }}
            data-testid="invite-input"
            aria-describedby={`${inviteId}-status`}
          />
          <p id={`${inviteId}-status`} className="field-status" data-testid="invite-status" aria-live="polite">
            {showCheck && check.status === 'checking' && <span className="muted">Checking…</span>}
            {showCheck && check.status === 'idle' && shape === 'partial' && (
              <span className="muted">A code looks like K7QX-29FD@192.168.1.20:7450</span>
            )}
            {showCheck && check.status === 'valid' && (
              <span className="ok">✓ Room at {check.target.relay}</span>
            )}
            {showCheck && check.status === 'invalid' && <span className="error">{check.message}</span>}
          </p>
          {joinError && (
            <p className="field-error" role="alert" data-testid="join-error">
              {joinError}
            </p>
          )}
          <button
            type="submit"
            className="button button--primary"
            disabled={!ready || busy !== null}
            aria-busy={busy === 'join'}
            data-testid="join-submit"
          >
            {busy === 'join' && <Spinner />}
            Join
          </button>
        </form>

        <form
          className="card"
          onSubmit={(e) => {
            e.preventDefault();
            void host();
          }}
        >
          <h2 className="card__title">Host a room</h2>
          <label htmlFor={titleId} className="label">
            Room title
          </label>
          <input
            id={titleId}
            className="input"
            value={title}
            maxLength={80}
            placeholder={displayName.trim() ? `${displayName.trim()}'s study room` : 'Study session'}
            disabled={!ready}
            onChange={(e) => setTitle(e.target.value)}
            data-testid="host-title"
          />
          <label htmlFor={modeId} className="label start__mode-label">
            Run it as
          </label>
          <select
            id={modeId}
            className="input"
            value={mode}
            disabled={!ready}
            onChange={(e) => setMode(e.target.value === 'lecture' ? 'lecture' : 'study')}
            aria-describedby={`${modeId}-hint`}
            data-testid="host-mode"
          >
            <option value="study">Study room: everyone talks and shares</option>
            <option value="lecture">Lecture: students raise their hand to speak</option>
          </select>
          <p id={`${modeId}-hint`} className="field-status muted">
            Others on your network join with the invite you get.
            {mode === 'lecture' && ' In a lecture they join muted; you let them speak.'}
          </p>
          {hostError && (
            <p className="field-error" role="alert">
              {hostError}
            </p>
          )}
          <button
            type="submit"
            className="button button--primary"
            disabled={!ready || busy !== null}
            aria-busy={busy === 'host'}
            data-testid="host-submit"
          >
            {busy === 'host' && <Spinner />}
            Host
          </button>
        </form>
      </div>

      <GroupsSection
        groups={groups}
        onRetry={onRetryGroups}
        onOpenGroup={onOpenGroup}
        onCalendar={onCalendar}
        joinInvite={groupInvite}
        onJoinInviteTaken={groupInviteTaken}
        disabled={busy !== null}
      />

      {settings && settings.recentRooms.length > 0 && (
        <section className="card start__recent">
          <h2 className="card__title">Recent rooms</h2>
          <ul className="recent" data-testid="recent-rooms">
            {settings.recentRooms.map((r) => (
              <li key={`${r.room}@${r.relay}`}>
                <button
                  className="recent__item"
                  onClick={() => void join(r.invite, r)}
                  disabled={busy !== null}
                  data-testid="recent-room"
                  data-room={r.room}
                >
                  <span className="recent__title">{r.title}</span>
                  {r.hosted && <span className="badge">hosted</span>}
                  <span className="recent__meta">
                    {r.relay} · {relativeTime(r.lastJoined)}
                  </span>
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}

      <footer className="start__footer">
        <AppInfoLine />
      </footer>
    </main>
  );
}

type AppInfoState =
  | { status: 'loading' }
  | { status: 'ready'; info: AppInfo }
  | { status: 'failed'; message: string };

function AppInfoLine() {
  const [state, setState] = useState<AppInfoState>({ status: 'loading' });

  useEffect(() => {
    // Ignore a reply that arrives after unmount (StrictMode mounts effects twice).
    let current = true;
    getAppInfo().then(
      (info) => current && setState({ status: 'ready', info }),
      (error: unknown) => current && setState({ status: 'failed', message: describeError(error) }),
    );
    return () => {
      current = false;
    };
  }, []);

  switch (state.status) {
    case 'loading':
      return <p className="muted">Connecting to the app…</p>;
    case 'ready':
      return (
        <p className="muted" data-testid="app-version">
          {state.info.name} {state.info.version} · protocol {state.info.protocolVersion}
        </p>
      );
    case 'failed':
      return (
        <p className="error" role="alert">
          Could not reach the Studyhall app: {state.message}
        </p>
      );
  }
}

/** The app icon's open book, drawn inline so it follows the colour scheme. */
function BookMark() {
  return (
    <svg className="start__mark" viewBox="0 0 64 64" aria-hidden="true">
      <rect x="2" y="2" width="60" height="60" rx="13" className="start__mark-tile" />
      <path d="M13 14 L31 18 L31 46 L13 46 Z M33 18 L51 14 L51 46 L33 46 Z" />
      <rect x="19" y="49" width="26" height="2.5" />
    </svg>
  );
}
