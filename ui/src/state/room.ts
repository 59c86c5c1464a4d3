/** The room screen's state: who is there, the chat, the connection, the room features. */
import { featuresFromSnapshot, featuresReducer, type FeaturesState } from '../features';
import { chatFromPage, chatReducer, type ChatAction, type ChatState } from './chat';
import type {
  ConnectionState,
  Invite,
  MediaState,
  Participant,
  RoomEvent,
  RoomSnapshot,
} from '../services/types';

export type RoomState = {
  room: string;
  title: string;
  you: Participant;
  /** The others, in the order they joined. */
  others: Participant[];
  chat: ChatState;
  hosting: Invite | null;
  maxChatBytes: number;
  connection: { state: ConnectionState; message: string | null };
  /** Each room feature's state (raised hands, ...), by feature key. */
  features: FeaturesState;
};

export type RoomAction =
  | { type: 'snapshot'; snapshot: RoomSnapshot }
  | { type: 'event'; event: RoomEvent }
  | { type: 'chat'; action: ChatAction }
  | { type: 'media'; media: MediaState };

const byJoinTime = (a: Participant, b: Participant) =>
  a.joinedAt - b.joinedAt || a.identity.localeCompare(b.identity);

export function roomFromSnapshot(snapshot: RoomSnapshot, previous?: RoomState): RoomState {
  const chat = chatFromPage(snapshot.chat);
  return {
    room: snapshot.room,
    title: snapshot.title,
    you: snapshot.you,
    others: snapshot.participants.filter((p) => p.identity !== snapshot.you.identity).sort(byJoinTime),
    // A rejoin keeps our unsent messages so they can still be retried.
    chat: previous ? { ...chat, pending: previous.chat.pending } : chat,
    hosting: snapshot.hosting,
    maxChatBytes: snapshot.maxChatBytes,
    connection: { state: 'connected', message: null },
    // A rejoin hands each feature what it held, to keep what it can (the whiteboard).
    features: featuresFromSnapshot(snapshot.features, previous?.features),
  };
}

function upsert(state: RoomState, participant: Participant): RoomState {
  if (participant.you || participant.identity === state.you.identity) {
    return { ...state, you: { ...participant, you: true } };
  }
  const others = state.others.filter((p) => p.identity !== participant.identity);
  return { ...state, others: [...others, participant].sort(byJoinTime) };
}

export function roomReducer(state: RoomState, action: RoomAction): RoomState {
  switch (action.type) {
    case 'snapshot':
      return roomFromSnapshot(action.snapshot, state);
    case 'chat': {
      const chat = chatReducer(state.chat, action.action);
      return chat === state.chat ? state : { ...state, chat };
    }
    case 'media':
      return { ...state, you: { ...state.you, media: action.media } };
    case 'event': {
      const event = action.event;
      switch (event.type) {
        case 'participantJoined':
        case 'participantUpdated':
          return upsert(state, event.participant);
        case 'participantLeft':
          return { ...state, others: state.others.filter((p) => p.identity !== event.identity) };
        case 'chatMessage':
          return roomReducer(state, { type: 'chat', action: { type: 'received', message: event.message } });
        case 'chatDeleted':
          return roomReducer(state, { type: 'chat', action: { type: 'deleted', seq: event.seq } });
        case 'connection':
          return { ...state, connection: { state: event.state, message: event.message } };
        case 'feature': {
          const features = featuresReducer(state.features, event.event);
          return features === state.features ? state : { ...state, features };
        }
        case 'resynced': {
          // After a rejoin: who is here now replaces the list, and the features' state
          // comes from the fresh snapshot; the newest chat page is merged into what we
          // already show (older pages stay loaded, pending stays).
          const fresh = roomFromSnapshot(event.snapshot, state);
          const chat = chatReducer(state.chat, { type: 'merge', page: event.snapshot.chat });
          return { ...fresh, chat, connection: state.connection };
        }
        default:
          // kicked, roomEnded and notice are handled by the screen (they leave or toast).
          return state;
      }
    }
  }
}

/** Everyone, you first. */
export function everyone(state: RoomState): Participant[] {
  return [state.you, ...state.others];
}

/** Whose screen to show large: someone else's share first, else our own; null if none. */
export function sharedScreen(state: RoomState): Participant | null {
  return state.others.find((p) => p.media.screen) ?? (state.you.media.screen ? state.you : null);
}

/** The name to show for an identity (or the identity itself if they are gone). */
export function nameOf(state: RoomState, identity: string): string {
  if (identity === state.you.identity) return state.you.name;
  return state.others.find((p) => p.identity === identity)?.name ?? identity;
}
