/**
 * The room features' UI registry. Each feature is one module exporting a `RoomFeatureUi`
 * (its state, its reducer and its components); adding one is that module plus a line in
 * `FEATURES`. The room state keeps every feature's state under its key (`FeaturesState`),
 * and the room screen draws the slots below without knowing which features exist.
 */
import type { ComponentType, ReactNode } from 'react';
import type { ChatMessage, FeatureEvent, FeatureRequest, FeatureSnapshot, Participant } from '../services/types';
import { board } from './board';
import type { FeatureRoom, RoomFeatureUi } from './feature';
import { hands } from './hands';
import { lecture } from './lecture';
import { materials } from './materials';
import { polls } from './polls';
import { presence } from './presence';
import { questions } from './questions';
import { reactions } from './reactions';
import { timer } from './timer';

export type * from './feature';

/**
 * Every room feature's UI, in the order their slots are drawn (the lecture first: its
 * badge leads the header, a host's room controls lead the people panel).
 */
export const FEATURES = [lecture, hands, reactions, presence, timer, board, questions, polls, materials] as const;

type Feature = (typeof FEATURES)[number];
type StateOf<F> = F extends RoomFeatureUi<infer S, string> ? S : never;

/** The key of a feature in `FeaturesState`. */
export type FeatureKey = Feature['key'];

/** Every feature's state, under its key. */
export type FeaturesState = { readonly [F in Feature as F['key']]: StateOf<F> };

/**
 * What the slots below are given: the room, and every feature's state (the features'
 * `personActions` are made from it here).
 */
export type FeatureContext = Omit<FeatureRoom, 'personActions'> & { features: FeaturesState };

/** A feature with its own part of `FeaturesState`. */
type Slice = { feature: RoomFeatureUi<unknown>; state: unknown };

/**
 * Every feature with its own state. TypeScript cannot follow "the value under a feature's
 * key is that feature's state" through a loop over features of different state types, so
 * this is the one place that relies on it; `featuresFromSnapshot` and `featuresReducer`,
 * the only writers of a `FeaturesState`, keep it true.
 */
function slices(features: FeaturesState): Slice[] {
  const byKey: Readonly<Record<string, unknown>> = features;
  return (FEATURES as readonly RoomFeatureUi<unknown>[]).map((feature) => ({ feature, state: byKey[feature.key] }));
}

/**
 * Every feature's state as the room snapshot gives it. After a rejoin `previous` is what
 * the features held before, each feature given its own (to keep what it can).
 */
export function featuresFromSnapshot(snapshot: FeatureSnapshot, previous?: FeaturesState): FeaturesState {
  const before: Readonly<Record<string, unknown>> | undefined = previous;
  const entries = (FEATURES as readonly RoomFeatureUi<unknown>[]).map((f) => [
    f.key,
    before === undefined ? f.fromSnapshot(snapshot) : f.fromSnapshot(snapshot, before[f.key]),
  ]);
  return Object.fromEntries(entries) as FeaturesState;
}

/** A feature's request that brings its state up to date, by feature key. */
export type SyncRequest = { key: string; request: FeatureRequest };

/** What every feature asks for after a snapshot (at join, after a rejoin). */
export function featuresSyncRequests(features: FeaturesState): SyncRequest[] {
  return slices(features).flatMap(({ feature, state }) => {
    const request = feature.syncRequest?.(state) ?? null;
    return request === null ? [] : [{ key: feature.key, request }];
  });
}

/** What the features that fell behind ask for now. */
export function featuresNeedingSync(features: FeaturesState): SyncRequest[] {
  return slices(features).flatMap(({ feature, state }) => {
    if (!feature.needsSync?.(state)) return [];
    const request = feature.syncRequest?.(state) ?? null;
    return request === null ? [] : [{ key: feature.key, request }];
  });
}

/** The keys of the features with a `Stage`, in order. */
export function featureStageKeys(): string[] {
  return (FEATURES as readonly RoomFeatureUi<unknown>[]).filter((f) => f.Stage !== undefined).map((f) => f.key);
}

/** What a feature's stage is called, for the switch between it and a shared screen. */
export function featureStageLabel(key: string): string {
  const feature = (FEATURES as readonly RoomFeatureUi<unknown>[]).find((f) => f.key === key);
  return feature?.stageLabel ?? key;
}

/**
 * A feature's tab in the side panel: its key, what it is called, its toolbar icon, and
 * whether it has a toolbar button.
 */
export type FeaturePanelTab = { key: string; label: string; Icon: ComponentType | null; button: boolean };

/** The features with a tab in the side panel, in order. */
export function featurePanelTabs(): FeaturePanelTab[] {
  return (FEATURES as readonly RoomFeatureUi<unknown>[])
    .filter((f) => f.Panel !== undefined)
    .map((f) => ({ key: f.key, label: f.panelLabel ?? f.key, Icon: f.PanelIcon ?? null, button: f.panelButton ?? true }));
}

/**
 * How far the news of each feature panel has gone (see `RoomFeatureUi.panelMark`); with
 * `atJoin`, where each starts at join (`panelMarkAtJoin`, else the same).
 */
export function featurePanelMarks(features: FeaturesState, atJoin = false): Record<string, number> {
  return Object.fromEntries(
    slices(features)
      .filter(({ feature }) => feature.Panel !== undefined)
      .map(({ feature, state }) => {
        const start = atJoin ? feature.panelMarkAtJoin?.(state) : undefined;
        return [feature.key, start ?? feature.panelMark?.(state) ?? 0];
      }),
  );
}

/** How many things are new to `you` (an identity) in the panel of the feature `key` since `mark`. */
export function featurePanelUnread(features: FeaturesState, key: string, mark: number, you = ''): number {
  const slice = slices(features).find(({ feature }) => feature.key === key);
  return slice?.feature.panelUnread?.(slice.state, mark, you) ?? 0;
}

/** Every feature's state after `event`; the same object when no feature's state changed. */
export function featuresReducer(state: FeaturesState, event: FeatureEvent): FeaturesState {
  let next: Record<string, unknown> | null = null;
  for (const { feature, state: own } of slices(state)) {
    const reduced = feature.reduce(own, event);
    if (reduced !== own) (next ??= { ...state })[feature.key] = reduced;
  }
  return next === null ? state : (next as FeaturesState);
}

/**
 * Every feature's side effects of `event` (after the state took it); `before` is every
 * feature's state before it, each feature given its own.
 */
export function featuresOnEvent(event: FeatureEvent, room: FeatureRoom, before: FeaturesState): void {
  for (const { feature, state } of slices(before)) {
    try {
      feature.onEvent?.(event, room, state);
    } catch (error) {
      console.warn(`${feature.key}: side effect of ${event.type} failed`, error);
    }
  }
}

/**
 * Whether a feature holds back chat notifications now: when they will be shown (the first
 * feature's word), or null when none does.
 */
export function featuresQuiet(features: FeaturesState): string | null {
  for (const { feature, state } of slices(features)) {
    const until = feature.quietNotifications?.(state) ?? null;
    if (until !== null) return until;
  }
  return null;
}

/** The room as a feature's slots see it. */
export function roomOf(context: FeatureContext): FeatureRoom {
  const { you, people, isHost, toast, relayClockOffsetMs, profile, roomTitle, openStage, toggleStage, openPanel } =
    context;
  return {
    you,
    people,
    isHost,
    toast,
    relayClockOffsetMs,
    profile,
    roomTitle,
    openStage,
    toggleStage,
    openPanel,
    personActions: (participant) => <FeaturePersonActions context={context} participant={participant} />,
  };
}

/** Every feature's display in the room's header. */
export function FeatureHeaders({ context }: { context: FeatureContext }) {
  const room = roomOf(context);
  return slices(context.features).map(({ feature, state }) => {
    const Slot = feature.Header;
    return Slot && <Slot key={feature.key} {...room} state={state} />;
  });
}

/** Every feature's toolbar control. */
export function FeatureToolbar({ context }: { context: FeatureContext }) {
  const room = roomOf(context);
  return slices(context.features).map(({ feature, state }) => {
    const Slot = feature.Toolbar;
    return Slot && <Slot key={feature.key} {...room} state={state} />;
  });
}

/** Every feature's badge for `participant`'s video tile. */
export function FeatureTileBadges({ context, participant }: { context: FeatureContext; participant: Participant }) {
  const room = roomOf(context);
  return slices(context.features).map(({ feature, state }) => {
    const Slot = feature.TileBadge;
    return Slot && <Slot key={feature.key} {...room} state={state} participant={participant} />;
  });
}

/** Every feature's section of the people panel. */
export function FeaturePeopleSections({ context }: { context: FeatureContext }) {
  const room = roomOf(context);
  return slices(context.features).map(({ feature, state }) => {
    const Slot = feature.PeopleSection;
    return Slot && <Slot key={feature.key} {...room} state={state} />;
  });
}

/** Every feature's badge for `participant`'s row in the people panel. */
export function FeaturePersonBadges({ context, participant }: { context: FeatureContext; participant: Participant }) {
  const room = roomOf(context);
  return slices(context.features).map(({ feature, state }) => {
    const Slot = feature.PersonBadge;
    return Slot && <Slot key={feature.key} {...room} state={state} participant={participant} />;
  });
}

/** Every feature's controls for `participant` (a host's "let them speak"). */
export function FeaturePersonActions({ context, participant }: { context: FeatureContext; participant: Participant }) {
  const room = roomOf(context);
  return slices(context.features).map(({ feature, state }) => {
    const Slot = feature.PersonActions;
    return Slot && <Slot key={feature.key} {...room} state={state} participant={participant} />;
  });
}

/** The stage of the feature `featureKey`, large; nothing when it has none. */
export function FeatureStage({ context, featureKey }: { context: FeatureContext; featureKey: string }) {
  const room = roomOf(context);
  return slices(context.features).map(({ feature, state }) => {
    const Slot = feature.key === featureKey ? feature.Stage : undefined;
    return Slot && <Slot key={feature.key} {...room} state={state} />;
  });
}

/** Every feature's layer over `participant`'s shared screen. */
export function FeatureShareOverlays({ context, participant }: { context: FeatureContext; participant: Participant }) {
  const room = roomOf(context);
  return slices(context.features).map(({ feature, state }) => {
    const Slot = feature.ShareOverlay;
    return Slot && <Slot key={feature.key} {...room} state={state} participant={participant} />;
  });
}

/** The side panel's tab of the feature `featureKey`; nothing when it has none. */
export function FeaturePanel({ context, featureKey }: { context: FeatureContext; featureKey: string }) {
  const room = roomOf(context);
  return slices(context.features).map(({ feature, state }) => {
    const Slot = feature.key === featureKey ? feature.Panel : undefined;
    return Slot && <Slot key={feature.key} {...room} state={state} />;
  });
}

/**
 * The room screen wrapped in every feature's `Provider` (the first feature's outermost).
 * Their order never changes, so what they hold stays while the room is shown.
 */
export function FeatureProviders({ context, children }: { context: FeatureContext; children: ReactNode }) {
  const room = roomOf(context);
  return slices(context.features).reduceRight<ReactNode>((inner, { feature, state }) => {
    const Slot = feature.Provider;
    return Slot ? (
      <Slot key={feature.key} {...room} state={state}>
        {inner}
      </Slot>
    ) : (
      inner
    );
  }, children);
}

/** Whether a feature draws chat messages with an attachment (in place of their text). */
export function featuresDrawAttachments(): boolean {
  return (FEATURES as readonly RoomFeatureUi<unknown>[]).some((f) => f.MessageAttachment !== undefined);
}

/** Every feature's drawing of what `message` carries (a shared file's card). */
export function FeatureMessageAttachments({ context, message }: { context: FeatureContext; message: ChatMessage }) {
  const room = roomOf(context);
  return slices(context.features).map(({ feature, state }) => {
    const Slot = feature.MessageAttachment;
    return Slot && <Slot key={feature.key} {...room} state={state} message={message} />;
  });
}
