/**
 * The room's side panel: a tab each for the chat, the people, and every room feature with
 * a panel of its own (the questions, the polls), each opened from its tab or its toolbar button.
 * Both show how many things are new in a tab since it was last shown: chat messages
 * (counted by `useChatAlerts`), people who joined, and what each feature counts as news.
 */
import { useCallback, useEffect, useState, type ComponentType, type KeyboardEvent, type ReactNode } from 'react';
import { Spinner } from '../components/Dialog';
import { ChatIcon, PeopleIcon } from '../components/Icons';
import { PeopleList } from '../components/PeopleList';
import {
  FeaturePeopleSections,
  FeaturePersonActions,
  FeaturePersonBadges,
  featurePanelMarks,
  featurePanelTabs,
  featurePanelUnread,
  type FeatureContext,
  type FeaturesState,
} from '../features';
import { describeError, featureRequest, type Participant } from '../services/studyhall';
import { isolate } from '../state/text';

export const CHAT_TAB = 'chat';
export const PEOPLE_TAB = 'people';

/**
 * A tab of the side panel, with how many things are new in it; `button: false`: it has
 * no toolbar button (only its tab).
 */
export type PanelTab = { key: string; label: string; Icon: ComponentType | null; unread: number; button?: boolean };

/**
 * The side panel's tabs with their counts of what is new. `panel` is the tab shown now
 * (null when the panel is closed): it sees what comes as it comes. What the join brought
 * is seen, but what a feature says is new in it (`panelMarkAtJoin`). The room's event
 * handler tells of people who join (`joined`, while the people are not shown) and leave
 * (`left`: someone who came and went is no news any more). `you` is your identity: what you
 * did yourself is no news to you.
 */
export function usePanelTabs(panel: string | null, features: FeaturesState, chatUnread: number, you: string) {
  const [joined, setJoined] = useState<ReadonlySet<string>>(() => new Set());
  const [marks, setMarks] = useState<Readonly<Record<string, number>>>(() => featurePanelMarks(features, true));
  // Showing a tab reads it (state set while drawing: React draws again at once).
  if (panel === PEOPLE_TAB && joined.size > 0) setJoined(new Set());
  const mark = panel === null ? undefined : featurePanelMarks(features)[panel];
  if (panel !== null && mark !== undefined && mark !== marks[panel]) setMarks({ ...marks, [panel]: mark });

  const onJoined = useCallback((identity: string) => setJoined((all) => new Set(all).add(identity)), []);
  const onLeft = useCallback(
    (identity: string) =>
      setJoined((all) => {
        if (!all.has(identity)) return all;
        const rest = new Set(all);
        rest.delete(identity);
        return rest;
      }),
    [],
  );

  const tabs: PanelTab[] = [
    { key: CHAT_TAB, label: 'Chat', Icon: ChatIcon, unread: chatUnread },
    { key: PEOPLE_TAB, label: 'People', Icon: PeopleIcon, unread: joined.size },
    ...featurePanelTabs().map((tab) => ({
      ...tab,
      unread: featurePanelUnread(features, tab.key, marks[tab.key] ?? 0, you),
    })),
  ];
  return { tabs, joined: onJoined, left: onLeft };
}

/**
 * The toolbar's buttons that open the panel on a tab, or close it from the tab shown (not
 * for a tab without a button).
 */
export function PanelButtons({
  tabs,
  panel,
  onToggle,
}: {
  tabs: PanelTab[];
  panel: string | null;
  onToggle: (key: string) => void;
}) {
  return tabs.filter((tab) => tab.button !== false).map(({ key, label, Icon, unread }) => (
    <button
      key={key}
      className={`tool ${panel === key ? 'tool--active' : ''}`}
      onClick={() => onToggle(key)}
      aria-pressed={panel === key}
      data-testid={`toggle-${key}`}
    >
      {Icon && <Icon />}
      <span>{label}</span>
      {unread > 0 && (
        <span className="tool__badge" data-testid={`${key}-unread`}>
          {unread}
        </span>
      )}
    </button>
  ));
}

const BODY_ID = 'room-panel-body';
const tabId = (key: string) => `room-panel-tab-${key}`;

/** The panel: its tabs (arrow keys move between them), a close button, the tab shown. */
export function SidePanel({
  tabs,
  panel,
  onSelect,
  onClose,
  children,
}: {
  tabs: PanelTab[];
  panel: string;
  onSelect: (key: string) => void;
  onClose: () => void;
  children: ReactNode;
}) {
  const current = tabs.find((t) => t.key === panel);

  function onKeyDown(e: KeyboardEvent<HTMLDivElement>) {
    const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
    if (step === 0) return;
    e.preventDefault();
    const at = tabs.findIndex((t) => t.key === panel);
    const next = tabs[(at + step + tabs.length) % tabs.length];
    if (next === undefined) return;
    onSelect(next.key);
    document.getElementById(tabId(next.key))?.focus();
  }

  // The tabs scroll sideways when they do not all fit: keep the shown one in view.
  useEffect(() => {
    document.getElementById(tabId(panel))?.scrollIntoView?.({ block: 'nearest', inline: 'nearest' });
  }, [panel]);

  return (
    <aside className="room__panel" aria-label={current?.label ?? 'Panel'} data-testid="side-panel" data-tab={panel}>
      <div className="panel__header">
        <div className="panel__tabs" role="tablist" aria-label="Side panel" onKeyDown={onKeyDown}>
          {tabs.map(({ key, label, unread }) => (
            <button
              key={key}
              id={tabId(key)}
              role="tab"
              className={`panel__tab ${key === panel ? 'is-active' : ''}`}
              aria-selected={key === panel}
              aria-controls={BODY_ID}
              tabIndex={key === panel ? 0 : -1}
              onClick={() => onSelect(key)}
              data-testid={`${key}-tab`}
            >
              {label}
              {unread > 0 && (
                <span className="panel__tab-badge" aria-label={`, ${unread} new`} data-testid={`${key}-tab-unread`}>
                  {unread}
                </span>
              )}
            </button>
          ))}
        </div>
        <button className="button button--ghost button--small" onClick={onClose} aria-label="Close panel">
          ×
        </button>
      </div>
      <div className="panel__body" id={BODY_ID} role="tabpanel" aria-labelledby={tabId(panel)}>
        {children}
      </div>
    </aside>
  );
}

/**
 * The people tab: the features' sections (a host's room controls, raised hands), then
 * everyone; a host removes people and makes them presenters (`set_presenter`), or takes
 * it back, and has the features' actions for each (let them speak).
 */
export function PeoplePanel({
  context,
  speakingIdentity,
  talking,
  onKick,
}: {
  context: FeatureContext;
  speakingIdentity: string | null;
  talking: ReadonlySet<string>;
  onKick: (p: Participant) => void;
}) {
  const { people, isHost, toast } = context;
  const [changing, setChanging] = useState<ReadonlySet<string>>(() => new Set());

  function togglePresenter(p: Participant) {
    if (changing.has(p.identity)) return;
    const presenter = !p.presenter;
    const done = () =>
      setChanging((all) => {
        const rest = new Set(all);
        rest.delete(p.identity);
        return rest;
      });
    setChanging((all) => new Set(all).add(p.identity));
    featureRequest({ type: 'set_presenter', identity: p.identity, presenter }).then(done, (error: unknown) => {
      done();
      const name = isolate(p.name);
      const what = presenter ? `make ${name} a presenter` : `take back ${name}'s presenter role`;
      toast(`Couldn't ${what}: ${describeError(error)}`, 'error');
    });
  }

  return (
    <div className="people-panel">
      <div className="people-panel__sections">
        <FeaturePeopleSections context={context} />
      </div>
      <PeopleList
        people={people}
        isHost={isHost}
        speakingIdentity={speakingIdentity}
        talking={talking}
        onKick={onKick}
        badges={(p) => <FeaturePersonBadges context={context} participant={p} />}
        actions={(p) => {
          const busy = changing.has(p.identity);
          return (
            <>
              {isHost && (
                <button
                  className="person__action"
                  onClick={() => togglePresenter(p)}
                  disabled={busy}
                  aria-busy={busy}
                  data-testid="make-presenter"
                >
                  {busy && <Spinner />}
                  {p.presenter ? 'Stop presenting' : 'Make presenter'}
                </button>
              )}
              <FeaturePersonActions context={context} participant={p} />
            </>
          );
        }}
      />
    </div>
  );
}
