import { useCallback, useEffect, useRef, useState } from 'react';
import { ConfirmDialog } from './components/Dialog';
import { ToastProvider, useToast } from './components/Toasts';
import { useGroups } from './hooks/useGroups';
import { CalendarScreen } from './screens/CalendarScreen';
import { DeviceSetup, type SetupIntent } from './screens/DeviceSetup';
import { GroupScreen } from './screens/GroupScreen';
import { RoomScreen, type RoomExit } from './screens/RoomScreen';
import { StartScreen, type StartNotice } from './screens/StartScreen';
import { StudyScreen } from './screens/StudyScreen';
import {
  DEFAULT_JOIN_MEDIA,
  describeError,
  dismissStudyNotice,
  getSettings,
  onQuitRequested,
  onSessionReminder,
  openGroupRoom,
  quitApp,
  studySummary,
  type JoinMedia,
  type RoomMode,
  type RoomSnapshot,
  type Settings,
} from './services/studyhall';
import { reminderText, withCard, withoutGroup } from './state/groups';
import { profileOf } from './state/profile';
import { isolate } from './state/text';

/** Where the calendar goes back to. */
type CalendarBack = { name: 'start' } | { name: 'group'; group: string };

type Screen =
  | { name: 'start'; notice: StartNotice | null }
  | { name: 'setup'; intent: SetupIntent }
  | { name: 'study' }
  | { name: 'group'; group: string }
  | { name: 'calendar'; back: CalendarBack }
  /**
   * `hostMode`: how the host chose to run the room they started (null when joining);
   * `group`: the study group whose room it is (null for a room joined by invite).
   */
  | { name: 'room'; snapshot: RoomSnapshot; invite: string; group: string | null; hostMode: RoomMode | null };

type SettingsState =
  | { status: 'loading' }
  | { status: 'ready'; settings: Settings }
  | { status: 'failed'; message: string };

/** The app: start screen → device setup → room (or the Study page), and the quit question. */
export function App() {
  return (
    <ToastProvider>
      <Screens />
      <QuitDialog />
    </ToastProvider>
  );
}

function Screens() {
  const [screen, setScreen] = useState<Screen>({ name: 'start', notice: null });
  const [settings, setSettings] = useState<SettingsState>({ status: 'loading' });
  const groups = useGroups();
  const groupsView = groups.state.status === 'ready' ? groups.state.view : null;
  const toast = useToast();
  const screenRef = useRef(screen);
  useEffect(() => {
    screenRef.current = screen;
  });

  const loadSettings = useCallback(() => {
    let current = true;
    getSettings().then(
      (s) => current && setSettings({ status: 'ready', settings: s }),
      (error: unknown) => current && setSettings({ status: 'failed', message: describeError(error) }),
    );
    return () => {
      current = false;
    };
  }, []);

  useEffect(loadSettings, [loadSettings]);

  // A study record that could not be read was started afresh: say so once, at start.
  useEffect(() => {
    let current = true;
    studySummary().then(
      (s) => {
        const text = s.notice;
        if (!current || !text) return;
        setScreen((now) => (now.name === 'start' && !now.notice ? { name: 'start', notice: { kind: 'study', text } } : now));
      },
      () => {},
    );
    return () => {
      current = false;
    };
  }, []);

  const onSettings = useCallback((s: Settings) => setSettings({ status: 'ready', settings: s }), []);
  // Switched in the room: the app keeps it in the profile; our copy follows.
  const onNoiseSuppression = useCallback(
    (noiseSuppression: boolean) =>
      setSettings((s) => (s.status === 'ready' ? { ...s, settings: { ...s.settings, noiseSuppression } } : s)),
    [],
  );
  const toStart = useCallback(
    (notice: StartNotice | null = null) => {
      setScreen({ name: 'start', notice });
      // Recent rooms changed after a join.
      loadSettings();
    },
    [loadSettings],
  );
  const onRoomExit = useCallback(
    (exit: RoomExit) => {
      const now = screenRef.current;
      // Out of a group's room by choice: back to the group.
      if (exit.kind === 'left' && now.name === 'room' && now.group !== null) setScreen({ name: 'group', group: now.group });
      else toStart(exitNotice(exit));
    },
    [toStart],
  );

  /** Enters a group's room and shows it, as after joining one by invite. */
  const enterGroupRoom = useCallback(async (group: string, media: JoinMedia = DEFAULT_JOIN_MEDIA) => {
    const snapshot = await openGroupRoom(group, media);
    setScreen({ name: 'room', snapshot, invite: '', group, hostMode: null });
  }, []);

  // A session starts soon: a toast (with Join for a group's session); Join pressed on the
  // desktop's notification enters the room at once, unless we are in a room already.
  useEffect(
    () =>
      onSessionReminder((reminder) => {
        const { group } = reminder;
        const join = () =>
          group !== null &&
          enterGroupRoom(group).catch((e: unknown) =>
            toast(`Couldn't open the room of ${isolate(reminder.groupName ?? 'the group')}: ${describeError(e)}`, 'error'),
          );
        if (reminder.join && group !== null && screenRef.current.name !== 'room') {
          void join();
          return;
        }
        toast(reminderText(reminder), 'info', {
          action: group !== null ? { label: 'Join', onClick: () => void join(), testId: 'reminder-join' } : undefined,
        });
      }),
    [enterGroupRoom, toast],
  );

  switch (screen.name) {
    case 'start':
      return (
        <StartScreen
          settings={settings.status === 'ready' ? settings.settings : null}
          settingsError={settings.status === 'failed' ? settings.message : null}
          notice={screen.notice}
          onDismissNotice={() => {
            if (screen.notice?.kind === 'study') void dismissStudyNotice().catch(() => {});
            setScreen({ name: 'start', notice: null });
          }}
          onSettings={onSettings}
          onContinue={(intent) => setScreen({ name: 'setup', intent })}
          onStudy={() => setScreen({ name: 'study' })}
          groups={groups.state}
          onRetryGroups={groups.retry}
          onOpenGroup={(group, card) => {
            if (card && groupsView) groups.update(withCard(groupsView, card));
            setScreen({ name: 'group', group });
          }}
          onCalendar={() => setScreen({ name: 'calendar', back: { name: 'start' } })}
        />
      );
    case 'study':
      return <StudyScreen onBack={() => setScreen({ name: 'start', notice: null })} />;
    case 'group':
      return (
        <GroupScreen
          key={screen.group}
          view={groupsView}
          group={screen.group}
          onBack={() => setScreen({ name: 'start', notice: null })}
          onCalendar={() => setScreen({ name: 'calendar', back: { name: 'group', group: screen.group } })}
          onOpenRoom={enterGroupRoom}
          onLeft={(group) => {
            if (groupsView) groups.update(withoutGroup(groupsView, group));
            setScreen({ name: 'start', notice: null });
          }}
          onCard={(card) => groupsView && groups.update(withCard(groupsView, card))}
        />
      );
    case 'calendar':
      return (
        <CalendarScreen
          view={groupsView}
          onBack={() => setScreen(screen.back.name === 'group' ? screen.back : { name: 'start', notice: null })}
        />
      );
    case 'setup': {
      const hostMode = screen.intent.kind === 'host' ? screen.intent.mode : null;
      return settings.status === 'ready' ? (
        <DeviceSetup
          settings={settings.settings}
          intent={screen.intent}
          onSettings={onSettings}
          onBack={() => toStart()}
          onJoined={(snapshot, invite) => setScreen({ name: 'room', snapshot, invite, group: null, hostMode })}
        />
      ) : null;
    }
    case 'room':
      return (
        <RoomScreen
          key={screen.snapshot.room + (screen.group ?? screen.invite)}
          snapshot={screen.snapshot}
          invite={screen.invite}
          group={screen.group}
          profile={settings.status === 'ready' ? profileOf(settings.settings) : null}
          hostMode={screen.hostMode}
          onNoiseSuppression={onNoiseSuppression}
          onExit={onRoomExit}
        />
      );
  }
}

function exitNotice(exit: RoomExit): StartNotice | null {
  switch (exit.kind) {
    case 'left':
      return null;
    case 'ended':
      return { kind: 'ended', text: exit.byUs ? 'You ended the room.' : `The room has ended. ${exit.reason}`.trim() };
    case 'kicked':
      return {
        kind: 'kicked',
        text: `You were removed from the room by ${isolate(exit.by)}.${exit.reason ? ` ${isolate(exit.reason)}` : ''}`,
      };
    case 'lost':
      return { kind: 'lost', text: exit.message };
  }
}

/** Asks before closing the window would end our hosted room for the others. */
function QuitDialog() {
  const [others, setOthers] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(
    () =>
      onQuitRequested((request) => {
        setError(null);
        setOthers(request.othersInRoom);
      }),
    [],
  );

  if (others === null) return null;
  const people = others === 1 ? '1 person is' : `${others} people are`;
  return (
    <ConfirmDialog
      testId="quit-dialog"
      title="Quit Studyhall?"
      message={`${people} still in your room. Quit and end the room for everyone?`}
      confirmLabel="Quit and end room"
      danger
      busy={busy}
      error={error}
      onCancel={() => setOthers(null)}
      onConfirm={() => {
        setBusy(true);
        quitApp().then(
          () => setBusy(false),
          (e: unknown) => {
            setBusy(false);
            setError(describeError(e));
          },
        );
      }}
    />
  );
}
