import { useCallback, useEffect, useReducer, useRef, useState } from 'react';
import { ChatPanel } from '../components/ChatPanel';
import { ConnectionBanner } from '../components/ConnectionBanner';
import { ConfirmDialog, Spinner } from '../components/Dialog';
import { GridPager } from '../components/GridPager';
import { HostUploadStatus } from '../components/HostUploadStatus';
import {
  CameraIcon,
  CameraOffIcon,
  LeaveIcon,
  LinkIcon,
  MicIcon,
  MicOffIcon,
  ScreenIcon,
  StopIcon,
} from '../components/Icons';
import { InviteDialog } from '../components/InviteDialog';
import { MicSettings } from '../components/NoiseSuppression';
import { useToast } from '../components/Toasts';
import { ToggleButton } from '../components/ToggleButton';
import { ScreenStage, VideoTile } from '../components/VideoTile';
import {
  FeatureHeaders,
  FeatureMessageAttachments,
  FeaturePanel,
  FeatureProviders,
  FeatureShareOverlays,
  FeatureStage,
  featureStageLabel,
  featuresDrawAttachments,
  featuresFromSnapshot,
  featuresOnEvent,
  featuresQuiet,
  featuresReducer,
  FeatureTileBadges,
  FeatureToolbar,
  roomOf,
  type FeatureContext,
  type FeaturesState,
} from '../features';
import { startModeRequest, whyOff } from '../features/lectureState';
import { messagesWord, useChatAlerts } from '../hooks/useChatAlerts';
import { useFeatureSync } from '../hooks/useFeatureSync';
import { useViewReport } from '../hooks/useViewReport';
import {
  AppError,
  describeError,
  featureRequest,
  joinRoom,
  kick,
  leaveRoom,
  onInviteOpened,
  onMediaStatus,
  onRoomEvent,
  openGroupRoom,
  setMedia,
  stopHosting,
  type DeviceProblem,
  type Link,
  type MediaState,
  type Participant,
  type Profile,
  type RoomMode,
  type RoomSnapshot,
} from '../services/studyhall';
import { noSpeakers, shownSpeakers, speakersReducer, type Speakers } from '../state/activeSpeaker';
import type { ChatAction } from '../state/chat';
import { joinErrorText } from '../state/errors';
import { galleryPage } from '../state/gallery';
import { tileSignals } from '../state/linkQuality';
import { everyone, nameOf, roomFromSnapshot, roomReducer, sharedScreen } from '../state/room';
import { CHAT_TAB, PanelButtons, PEOPLE_TAB, PeoplePanel, SidePanel, usePanelTabs } from './RoomPanel';
import { isolate } from '../state/text';

/** Why the room screen closed. */
export type RoomExit =
  | { kind: 'left' }
  | { kind: 'ended'; reason: string; byUs: boolean }
  | { kind: 'kicked'; by: string; reason: string | null }
  | { kind: 'lost'; message: string };

type MediaKind = keyof MediaState;
/** The side panel's tab shown (`chat`, `people`, a feature's key), null when it is closed. */
type Panel = string | null;

const MEDIA_WORDS: Record<MediaKind, string> = { mic: 'microphone', camera: 'camera', screen: 'screen sharing' };

/** What is shown large: a feature's stage (when one is open), or the shared screen. */
type LargeView = { stage: string | null; screen: boolean };

/** Leave quietly: the room may already be gone for us. */
async function leaveQuietly(): Promise<void> {
  try {
    await leaveRoom();
  } catch (error) {
    if (!(error instanceof AppError && error.kind === 'notInRoom')) console.warn('leave_room failed', error);
  }
}

export function RoomScreen({
  snapshot,
  invite,
  group = null,
  profile = null,
  hostMode = null,
  onNoiseSuppression,
  onExit,
}: {
  snapshot: RoomSnapshot;
  invite: string;
  /** The study group whose room this is (entered with `openGroupRoom`, and so rejoined). */
  group?: string | null;
  /** The user's saved preferences, for the room features (a chime, ...). */
  profile?: Profile | null;
  /** How the host chose to run the room they just started (sent once, when it differs). */
  hostMode?: RoomMode | null;
  /** Noise suppression was switched in the room's microphone settings (now in effect). */
  onNoiseSuppression?: (on: boolean) => void;
  onExit: (exit: RoomExit) => void;
}) {
  const [state, dispatch] = useReducer(roomReducer, snapshot, (s) => roomFromSnapshot(s));
  const [pending, setPending] = useState<Partial<MediaState>>({});
  const [panel, setPanel] = useState<Panel>(null);
  const [relayClockOffsetMs, setRelayClockOffsetMs] = useState<number | null>(snapshot.clockOffsetMs ?? null);
  // Who speaks: the relay's `speakers` once it sent one, levels until then.
  const [speakers, setSpeakers] = useState<Speakers>(noSpeakers);
  const [problems, setProblems] = useState<DeviceProblem[]>([]);
  const [links, setLinks] = useState<Link[]>([]);
  const [dialog, setDialog] = useState<'invite' | 'end' | { kick: Participant } | null>(null);
  const [dialogBusy, setDialogBusy] = useState(false);
  const [dialogError, setDialogError] = useState<string | null>(null);
  const [leaving, setLeaving] = useState(false);
  const [rejoining, setRejoining] = useState(false);
  const [rejoinError, setRejoinError] = useState<string | null>(null);
  const toast = useToast();
  const chatAlerts = useChatAlerts(featuresQuiet(state.features) !== null, toast);
  const panelTabs = usePanelTabs(panel, state.features, chatAlerts.unread, state.you.identity);
  const exited = useRef(false);
  const stateRef = useRef(state);
  const panelRef = useRef(panel);
  // The features as the events so far leave them, ahead of the next render: whether a
  // feature asks for quiet must follow the events in their order.
  const featuresSeen = useRef<FeaturesState>(state.features);
  const featureRoom = useRef<FeatureContext | null>(null);
  const [view, setView] = useState<LargeView>({ stage: null, screen: false });
  // Goes up with each snapshot after the first (a rejoin): every feature syncs again.
  const [syncRound, setSyncRound] = useState(0);
  // The gallery's page (from 0), when nothing is shown large.
  const [gridPage, setGridPage] = useState(0);
  // Which of the others' videos are on screen, for the relay: sent again when people come
  // and go, and after a rejoin.
  const tileRef = useViewReport(
    [syncRound, state.you.identity, ...state.others.map((p) => p.identity)].join('\n'),
  );
  useEffect(() => {
    stateRef.current = state;
    panelRef.current = panel;
  });

  // The features' sync requests: after this first snapshot and each rejoin's (see
  // `RoomFeatureUi.syncRequest`), and when a feature falls behind.
  const latestFeatures = useCallback(() => featuresSeen.current, []);
  const inRoom = useCallback(() => !exited.current, []);
  useFeatureSync(state.features, latestFeatures, syncRound, inRoom);

  const toggleStage = useCallback((key: string) => {
    setView((v) => (v.stage === key && !v.screen ? { stage: null, screen: false } : { stage: key, screen: false }));
  }, []);

  const { received: chatReceived, setQuiet } = chatAlerts;
  const { joined: personJoined, left: personLeft } = panelTabs;
  const featuresChanged = useCallback(
    (features: FeaturesState) => {
      featuresSeen.current = features;
      setQuiet(featuresQuiet(features) !== null);
    },
    [setQuiet],
  );

  const exit = useCallback(
    (how: RoomExit) => {
      if (exited.current) return;
      exited.current = true;
      onExit(how);
    },
    [onExit],
  );

  // A link clicked while we are in a room waits for the start screen; say where it went.
  useEffect(
    () =>
      onInviteOpened(() =>
        toast('An invite link was opened. It is waiting in the join field when you leave this room.'),
      ),
    [toast],
  );

  useEffect(
    () =>
      onRoomEvent((event) => {
        if (exited.current) return;
        switch (event.type) {
          case 'kicked':
            exit({ kind: 'kicked', by: nameOf(stateRef.current, event.by), reason: event.reason });
            return;
          case 'roomEnded':
            exit({ kind: 'ended', reason: event.reason, byUs: false });
            return;
          case 'notice':
            toast(event.message);
            return;
          case 'clockOffset':
            setRelayClockOffsetMs(event.offsetMs);
            return;
          case 'speakers':
            // Kept through a rejoin (`resynced`) until the relay says otherwise.
            setSpeakers((s) => speakersReducer(s, { type: 'relay', active: event.active, speaking: event.speaking }));
            return;
          case 'chatMessage':
            if (panelRef.current !== CHAT_TAB && event.message.from !== stateRef.current.you.identity) {
              chatReceived();
            }
            break;
          case 'participantJoined':
            if (panelRef.current !== PEOPLE_TAB) personJoined(event.participant.identity);
            break;
          case 'participantLeft':
            personLeft(event.identity);
            break;
          case 'connection':
            if (event.state === 'connected') setRejoinError(null);
            break;
          default:
            break;
        }
        dispatch({ type: 'event', event });
        if (event.type === 'feature') {
          const before = featuresSeen.current;
          featuresChanged(featuresReducer(before, event.event));
          if (featureRoom.current) featuresOnEvent(event.event, roomOf(featureRoom.current), before);
        } else if (event.type === 'resynced') {
          featuresChanged(featuresFromSnapshot(event.snapshot.features, featuresSeen.current));
          setSyncRound((r) => r + 1);
          // Measured again on the rejoin: the room may be on another node's clock.
          const offset = event.snapshot.clockOffsetMs;
          if (offset !== null && offset !== undefined) setRelayClockOffsetMs(offset);
        }
      }),
    [exit, toast, chatReceived, personJoined, personLeft, featuresChanged],
  );

  useEffect(
    () =>
      onMediaStatus((status) => {
        // Once the relay has said who speaks, the levels leave this as it was: no redraw.
        const now = Date.now();
        setSpeakers((s) => speakersReducer(s, { type: 'levels', levels: status.levels, now }));
        setProblems((p) => (JSON.stringify(p) === JSON.stringify(status.problems) ? p : status.problems));
        // Five times a second, mostly unchanged: the tiles redraw only when a link changes.
        setLinks((l) => (JSON.stringify(l) === JSON.stringify(status.links) ? l : status.links));
      }),
    [],
  );

  // The host who chose a lecture when starting the room makes it one, once it is in.
  const modeSent = useRef(false);
  useEffect(() => {
    if (modeSent.current || hostMode === null || !snapshot.you.host) return;
    modeSent.current = true;
    const request = startModeRequest(hostMode, featuresSeen.current.lecture);
    if (request === null) return;
    featureRequest(request).catch((error: unknown) =>
      toast(`Couldn't make the room a ${hostMode === 'lecture' ? 'lecture' : 'study room'}: ${describeError(error)}`, 'error'),
    );
  }, [hostMode, snapshot.you.host, toast]);

  const chatDispatch = useCallback((action: ChatAction) => dispatch({ type: 'chat', action }), []);

  const shown: MediaState = { ...state.you.media, ...pending };
  // In a lecture a student's sources stay off until the host lets them on (the relay
  // refuses them anyway); one that is on can always be turned off.
  const lockedWhy = (kind: MediaKind) => (shown[kind] ? null : whyOff(state.features.lecture, state.you, kind));

  function toggle(kind: MediaKind) {
    if (pending[kind] !== undefined) return;
    const want = !shown[kind];
    if (want && lockedWhy(kind) !== null) return;
    setPending((p) => ({ ...p, [kind]: want }));
    const update = { mic: null, camera: null, screen: null, [kind]: want };
    setMedia(update).then(
      (media) => {
        dispatch({ type: 'media', media });
        setPending((p) => without(p, kind));
      },
      (error: unknown) => {
        setPending((p) => without(p, kind));
        toast(`Couldn't turn ${want ? 'on' : 'off'} ${MEDIA_WORDS[kind]}: ${describeError(error)}`, 'error');
      },
    );
  }

  async function leave() {
    setLeaving(true);
    await leaveQuietly();
    exit({ kind: 'left' });
  }

  async function rejoin() {
    setRejoining(true);
    setRejoinError(null);
    try {
      let fresh: RoomSnapshot;
      // Back as we were: muted stays muted, a camera that was off stays off.
      const media = { mic: state.you.media.mic, camera: state.you.media.camera };
      const enter = () => (group !== null ? openGroupRoom(group, media) : joinRoom(invite, media));
      try {
        fresh = await enter();
      } catch (error) {
        if (!(error instanceof AppError && error.kind === 'alreadyInRoom')) throw error;
        await leaveQuietly();
        fresh = await enter();
      }
      if (!exited.current) {
        dispatch({ type: 'snapshot', snapshot: fresh });
        featuresChanged(featuresFromSnapshot(fresh.features, featuresSeen.current));
        setSyncRound((r) => r + 1);
      }
    } catch (error) {
      setRejoinError(joinErrorText(error, state.hosting?.relay ?? null));
    } finally {
      setRejoining(false);
    }
  }

  /** Show the tab `which`; `toggle`: close the panel when it is the one shown. */
  function showPanel(which: string, toggle: boolean) {
    setPanel((p) => (toggle && p === which ? null : which));
    if (which === CHAT_TAB) chatAlerts.read();
  }

  function closeDialog() {
    setDialog(null);
    setDialogBusy(false);
    setDialogError(null);
  }

  async function endRoom() {
    setDialogBusy(true);
    setDialogError(null);
    try {
      await stopHosting();
    } catch (error) {
      setDialogBusy(false);
      setDialogError(describeError(error));
      return;
    }
    await leaveQuietly();
    exit({ kind: 'ended', reason: '', byUs: true });
  }

  async function kickParticipant(p: Participant) {
    setDialogBusy(true);
    setDialogError(null);
    try {
      await kick(p.identity);
      closeDialog();
      toast(`${isolate(p.name)} was removed from the room.`);
    } catch (error) {
      setDialogBusy(false);
      setDialogError(describeError(error));
    }
  }

  const people = everyone(state);
  const screenOwner = sharedScreen(state);
  const speech = shownSpeakers(speakers, state.you.identity);
  const linkSignals = tileSignals(links, people);
  const isHost = state.you.host;
  const connected = state.connection.state === 'connected';
  // A feature's stage, when one is open, is shown large; with a shared screen too, the
  // user picks which of the two.
  const stageKey = view.stage;
  const showStage = stageKey !== null && (screenOwner === null || !view.screen);
  const large = showStage || screenOwner !== null;
  // The gallery shows a page at a time; the strip beside a large view holds everyone and
  // scrolls (what is scrolled out of it is not on screen, for the relay).
  const gallery = galleryPage(state.you, state.others, gridPage);
  // People left and the page is gone: the last one there is now.
  if (gallery.page !== gridPage) setGridPage(gallery.page);
  const tiles = large ? people : gallery.tiles;
  const paged = !large && gallery.pages > 1;
  const featureContext: FeatureContext = {
    features: state.features,
    you: state.you,
    people,
    isHost,
    toast,
    relayClockOffsetMs,
    profile,
    roomTitle: state.title,
    openStage: showStage ? stageKey : null,
    toggleStage,
    openPanel: (key) => showPanel(key, false),
  };
  const quietUntil = featuresQuiet(state.features);
  useEffect(() => {
    featureRoom.current = featureContext;
  });

  return (
    <FeatureProviders context={featureContext}>
      <div className={`room ${panel ? 'room--with-panel' : ''}`} data-testid="room" data-room={state.room}>
        <header className="room__header">
          <div className="room__heading">
            <h1 className="room__title" title={state.title} data-testid="room-title">
              {state.title}
            </h1>
            <p className="room__subtitle muted">
              {people.length === 1 ? 'Just you so far' : `${people.length} people`}
              {state.hosting && ' · you are hosting'}
              {state.hosting && <HostUploadStatus />}
            </p>
          </div>
          <div className="room__header-features">
            <FeatureHeaders context={featureContext} />
            {chatAlerts.held > 0 && (
              <p className="room__quiet" role="status" data-testid="chat-held">
                {messagesWord(chatAlerts.held)} — shown {quietUntil ?? 'soon'}
              </p>
            )}
          </div>
        </header>

        {state.connection.state !== 'connected' && (
          <ConnectionBanner
            state={state.connection.state}
            message={state.connection.message}
            rejoining={rejoining}
            rejoinError={rejoinError}
            onRejoin={() => void rejoin()}
            onBack={() => void leave()}
          />
        )}

        {problems.length > 0 && (
          <div className="banner banner--warning" role="status" data-testid="device-problems">
            {problems.map((p) => (
              <span key={p.device + p.message}>
                <strong>{p.device.charAt(0).toUpperCase() + p.device.slice(1)}:</strong> {p.message}
              </span>
            ))}
          </div>
        )}

        <main className={`room__stage ${large ? 'room__stage--screen' : ''} ${paged ? 'room__stage--paged' : ''}`}>
          {large && (
            <div className="room__large">
              {stageKey !== null && screenOwner && (
                <div className="stage-switch" role="group" aria-label="Shown large">
                  <button
                    className={`stage-switch__option ${showStage ? 'is-on' : ''}`}
                    aria-pressed={showStage}
                    onClick={() => setView({ stage: stageKey, screen: false })}
                    data-testid="stage-show-feature"
                  >
                    {featureStageLabel(stageKey)}
                  </button>
                  <button
                    className={`stage-switch__option ${showStage ? '' : 'is-on'}`}
                    aria-pressed={!showStage}
                    onClick={() => setView({ stage: stageKey, screen: true })}
                    data-testid="stage-show-screen"
                  >
                    {screenOwner.you ? 'Your screen' : `${isolate(screenOwner.name)}'s screen`}
                  </button>
                </div>
              )}
              {showStage ? (
                <FeatureStage context={featureContext} featureKey={stageKey} />
              ) : (
                screenOwner && (
                  <ScreenStage
                    participant={screenOwner}
                    viewRef={screenOwner.you ? undefined : tileRef(screenOwner.identity, 'screen')}
                    badges={<FeatureTileBadges context={featureContext} participant={screenOwner} />}
                    overlay={<FeatureShareOverlays context={featureContext} participant={screenOwner} />}
                  />
                )
              )}
            </div>
          )}
          <div
            className={large ? 'strip' : 'grid'}
            style={large ? undefined : gridStyle(tiles.length)}
            data-testid="tiles"
          >
            {tiles.map((p) => (
              <VideoTile
                key={p.identity}
                participant={p}
                speaking={speech.active === p.identity}
                talking={speech.speaking.has(p.identity)}
                compact={large}
                badges={<FeatureTileBadges context={featureContext} participant={p} />}
                link={linkSignals.get(p.identity) ?? null}
                viewRef={p.you ? undefined : tileRef(p.identity, 'camera')}
              />
            ))}
          </div>
          {paged && <GridPager page={gallery.page} pages={gallery.pages} onPage={setGridPage} />}
        </main>

        {panel !== null && (
          <SidePanel
            tabs={panelTabs.tabs}
            panel={panel}
            onSelect={(key) => showPanel(key, false)}
            onClose={() => setPanel(null)}
          >
            {panel === CHAT_TAB ? (
              <ChatPanel
                chat={state.chat}
                dispatch={chatDispatch}
                youIdentity={state.you.identity}
                isHost={isHost}
                maxChatBytes={state.maxChatBytes}
                canSend={connected}
                attachment={
                  featuresDrawAttachments()
                    ? (m) => <FeatureMessageAttachments context={featureContext} message={m} />
                    : undefined
                }
              />
            ) : panel === PEOPLE_TAB ? (
              <PeoplePanel
                context={featureContext}
                speakingIdentity={speech.active}
                talking={speech.speaking}
                onKick={(p) => {
                  setDialogError(null);
                  setDialog({ kick: p });
                }}
              />
            ) : (
              <FeaturePanel context={featureContext} featureKey={panel} />
            )}
          </SidePanel>
        )}

        <nav className="toolbar" aria-label="Room controls">
          <div className="toolbar__group">
            <MicSettings profile={profile} onNoiseSuppression={onNoiseSuppression}>
              <ToggleButton
                testId="toggle-mic"
                on={shown.mic}
                pending={pending.mic !== undefined}
                locked={lockedWhy('mic')}
                onClick={() => toggle('mic')}
                labelOn="Mute"
                labelOff="Unmute"
                iconOn={<MicIcon />}
                iconOff={<MicOffIcon />}
              />
            </MicSettings>
            <ToggleButton
              testId="toggle-camera"
              on={shown.camera}
              pending={pending.camera !== undefined}
              locked={lockedWhy('camera')}
              onClick={() => toggle('camera')}
              labelOn="Stop camera"
              labelOff="Start camera"
              iconOn={<CameraIcon />}
              iconOff={<CameraOffIcon />}
            />
            <ToggleButton
              testId="toggle-screen"
              on={shown.screen}
              pending={pending.screen !== undefined}
              locked={lockedWhy('screen')}
              onClick={() => toggle('screen')}
              labelOn="Stop sharing"
              labelOff="Share screen"
              iconOn={<ScreenIcon />}
              iconOff={<ScreenIcon />}
              offIsNormal
            />
          </div>
          <div className="toolbar__group">
            <FeatureToolbar context={featureContext} />
            <PanelButtons tabs={panelTabs.tabs} panel={panel} onToggle={(key) => showPanel(key, true)} />
            {state.hosting && (
              <button className="tool" onClick={() => setDialog('invite')} data-testid="open-invite">
                <LinkIcon />
                <span>Invite</span>
              </button>
            )}
          </div>
          <div className="toolbar__group">
            {state.hosting && (
              <button
                className="tool tool--danger-outline"
                onClick={() => {
                  setDialogError(null);
                  setDialog('end');
                }}
                data-testid="end-room"
              >
                <StopIcon />
                <span>End room</span>
              </button>
            )}
            <button className="tool tool--danger" onClick={() => void leave()} disabled={leaving} data-testid="leave">
              {leaving ? <Spinner /> : <LeaveIcon />}
              <span>Leave</span>
            </button>
          </div>
        </nav>

        {dialog === 'invite' && state.hosting && <InviteDialog invite={state.hosting} onClose={closeDialog} />}
        {dialog === 'end' && (
          <ConfirmDialog
            testId="end-dialog"
            title="End the room?"
            message="Everyone will be disconnected and the invite stops working."
            confirmLabel="End room"
            danger
            busy={dialogBusy}
            error={dialogError}
            onConfirm={() => void endRoom()}
            onCancel={closeDialog}
          />
        )}
        {dialog !== null && typeof dialog === 'object' && (
          <ConfirmDialog
            testId="kick-dialog"
            title={`Remove ${isolate(dialog.kick.name)}?`}
            message={`${isolate(dialog.kick.name)} will be disconnected from the room.`}
            confirmLabel="Remove"
            danger
            busy={dialogBusy}
            error={dialogError}
            onConfirm={() => void kickParticipant(dialog.kick)}
            onCancel={closeDialog}
          />
        )}
      </div>
    </FeatureProviders>
  );
}

function without(media: Partial<MediaState>, kind: MediaKind): Partial<MediaState> {
  const copy = { ...media };
  delete copy[kind];
  return copy;
}

/** Columns and rows for the n tiles of a page (at most nine), as square as the screen allows. */
function gridStyle(n: number): React.CSSProperties {
  const columns = n <= 1 ? 1 : n <= 4 ? 2 : 3;
  const rows = Math.ceil(n / columns);
  return { gridTemplateColumns: `repeat(${columns}, minmax(0, 1fr))`, gridTemplateRows: `repeat(${rows}, minmax(0, 1fr))` };
}
