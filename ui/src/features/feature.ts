/**
 * The contract between the room screen and a room feature's UI (raise hand, presence, ...).
 * A feature module exports one `RoomFeatureUi`; the registry (`./index.tsx`) lists them.
 * This file imports no feature and no registry, so feature modules can import it without
 * an import circle.
 */
import type { ComponentType, ReactNode } from 'react';
import type { ChatMessage, FeatureEvent, FeatureRequest, FeatureSnapshot, Participant, Profile } from '../services/types';

/** What a feature's components know of the room; the room screen fills it in. */
export type FeatureRoom = {
  /** This user. */
  you: Participant;
  /** Everyone in the room, you first. */
  people: Participant[];
  isHost: boolean;
  /** A short message in a corner; `'error'` for a failed action. */
  toast: (message: string, tone?: 'error') => void;
  /**
   * How far the relay's clock is ahead of this machine's, in ms (negative when behind),
   * as the app last measured it; null until it has. Relay times (an end, a deadline) are
   * `Date.now() + relayClockOffsetMs` here.
   */
  relayClockOffsetMs: number | null;
  /** The user's saved preferences (null when the app could not give them). */
  profile: Profile | null;
  /** The room's title (to name what a feature saves, ...). */
  roomTitle: string;
  /** The key of the feature whose `Stage` is shown large now; null when none is. */
  openStage: string | null;
  /**
   * Show the `Stage` of the feature `key` large (in place of a shared screen, which the
   * user can switch back to), or put it away when it is the one shown.
   */
  toggleStage: (key: string) => void;
  /** Show the side panel on the tab of the feature `key` (its `Panel`). */
  openPanel: (key: string) => void;
  /**
   * Every feature's `PersonActions` for `participant`: for a feature that lists people
   * itself (the queue of raised hands) to offer the others' actions beside each.
   */
  personActions: (participant: Participant) => ReactNode;
};

/** Props of every slot component: the room, and the feature's own state. */
export type FeatureSlotProps<S> = FeatureRoom & { state: S };

/** Props of a feature's `Provider`: what it wraps. */
export type ProviderSlotProps<S> = FeatureSlotProps<S> & { children: ReactNode };

/** Props of the slot drawn in a chat message. */
export type MessageSlotProps<S> = FeatureSlotProps<S> & { message: ChatMessage };

/** Props of the slots drawn for one participant (a video tile, a person row). */
export type ParticipantSlotProps<S> = FeatureSlotProps<S> & { participant: Participant };

/**
 * A room feature's UI. Its state comes from the room snapshot (`features`) and changes
 * only with the feature's events; the slots are where it shows up on the room screen,
 * each optional.
 */
export type RoomFeatureUi<S, K extends string = string> = {
  /** Where its state lives in `FeaturesState`; unique among the features. */
  readonly key: K;
  /**
   * Its state at join, and after a rejoin from the fresh snapshot; then `previous` is the
   * state it had before, for a feature that keeps something across a rejoin (the
   * whiteboard keeps its board and asks only for what it missed).
   */
  fromSnapshot: (features: FeatureSnapshot, previous?: S) => S;
  /** The next state; the same object when `event` is not this feature's. */
  reduce: (state: S, event: FeatureEvent) => S;
  /**
   * A side effect of an event, after the state took it (a sound, a toast, ...); called
   * once per event the relay sends, never for a snapshot, with the feature's state as it
   * was before the event (to tell what changed). Must not throw.
   */
  onEvent?: (event: FeatureEvent, room: FeatureRoom, before: S) => void;
  /**
   * Whether chat notifications are to be held back now: the room screen then only counts
   * new messages quietly and tells of them once this returns null again. The string says
   * when that will be, after "shown" (`'at the break'`).
   */
  quietNotifications?: (state: S) => string | null;
  /**
   * For a feature whose state comes only partly with the snapshot: the request that
   * brings the rest (or what was missed). The room screen sends it (`featureRequest`)
   * after the first snapshot and after every rejoin, and again whenever `needsSync` says
   * so. Null when there is nothing to ask.
   */
  syncRequest?: (state: S) => FeatureRequest | null;
  /**
   * Whether the state fell behind and `syncRequest` must be sent again now (a change
   * went missing). The room screen sends it once each time this turns true, and again a
   * few seconds after a send failed while it stays true; the feature's reducer turns it
   * false when the answer is complete.
   */
  needsSync?: (state: S) => boolean;
  /** A prominent display in the room's header (a running timer); nothing when idle. */
  Header?: ComponentType<FeatureSlotProps<S>>;
  /** A control in the room's toolbar. */
  Toolbar?: ComponentType<FeatureSlotProps<S>>;
  /** A badge on a participant's video tile (and on their shared screen). */
  TileBadge?: ComponentType<ParticipantSlotProps<S>>;
  /** A section at the top of the people panel. */
  PeopleSection?: ComponentType<FeatureSlotProps<S>>;
  /** A badge on a participant's row in the people panel. */
  PersonBadge?: ComponentType<ParticipantSlotProps<S>>;
  /**
   * Controls for a participant (a host's "let them speak"), under their name in the
   * people panel and wherever a feature lists them (`FeatureRoom.personActions`).
   */
  PersonActions?: ComponentType<ParticipantSlotProps<S>>;
  /**
   * A large view of its own (the whiteboard), shown where a shared screen is, with the
   * camera strip beside it, while it is open. A feature opens and closes it with
   * `toggleStage(key)`, usually from its `Toolbar` control.
   */
  Stage?: ComponentType<FeatureSlotProps<S>>;
  /** What its stage is called where the user picks between it and a shared screen. */
  stageLabel?: string;
  /**
   * A layer over a participant's shared screen, where it is shown large (annotations
   * drawn over it). It covers the picture and lets pointer events through where it has
   * nothing to take.
   */
  ShareOverlay?: ComponentType<ParticipantSlotProps<S>>;
  /**
   * A tab of its own in the room's side panel, after the chat and the people (the
   * questions), opened from its tab or from a toolbar button of the same name.
   */
  Panel?: ComponentType<FeatureSlotProps<S>>;
  /** What its panel's tab and toolbar button are called. */
  panelLabel?: string;
  /** The icon on its panel's toolbar button. */
  PanelIcon?: ComponentType;
  /**
   * False: its panel has no toolbar button, only its tab in the side panel (the toolbar
   * is full at the window's default width; another button pushes it onto more rows).
   */
  panelButton?: boolean;
  /**
   * How far the news of its panel has gone: a number that only goes up, across a rejoin
   * too. The room screen keeps it as a mark while the panel is shown, and the panel's tab
   * and button show `panelUnread(state, mark, you)`, how many things are new since (`you`:
   * your identity, for a feature to leave out what you did yourself).
   */
  panelMark?: (state: S) => number;
  panelUnread?: (state: S, mark: number, you: string) => number;
  /**
   * Where the mark starts at join, when something the snapshot brought is new to you
   * (the open poll a late joiner has not voted in): below `panelMark` of the joined
   * state. Without it, all the snapshot brought counts as seen.
   */
  panelMarkAtJoin?: (state: S) => number;
  /**
   * Wraps the whole room screen for as long as it is shown: for what the feature's slots
   * share beyond its state (transfers under way, in a React context) and for what covers
   * the room (a drop target while files are dragged over it). It renders `children`, once.
   */
  Provider?: ComponentType<ProviderSlotProps<S>>;
  /**
   * What a chat message carries besides its text (a shared file's card), drawn in place of
   * the text of a message that has an `attachment`; nothing for a message not its own.
   */
  MessageAttachment?: ComponentType<MessageSlotProps<S>>;
};
