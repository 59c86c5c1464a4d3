/**
 * The types of the desktop app's IPC contract (docs/app-ipc.md). Field names are the
 * contract's: camelCase, times in milliseconds since the Unix epoch.
 */

export type AppInfo = { name: string; version: string; protocolVersion: number };

export type VideoDevice = { kind: 'testPattern' } | { kind: 'camera'; name: string | null };
export type AudioDevice = { kind: 'tone' } | { kind: 'microphone'; name: string | null };
export type ScreenDevice = { kind: 'testPattern' } | { kind: 'screen'; name: string | null };

export type Profile = {
  /** 1-64 characters, not blank. */
  displayName: string;
  camera: VideoDevice;
  microphone: AudioDevice;
  screen: ScreenDevice;
  /** null: the default output. */
  speaker: string | null;
};

export type RecentRoom = {
  room: string;
  title: string;
  invite: string;
  relay: string;
  lastJoined: number;
  hosted: boolean;
};

/** The saved profile and the recent rooms (newest first, at most 10). */
export type Settings = Profile & { recentRooms: RecentRoom[] };

export type DeviceList = {
  cameras: string[];
  microphones: string[];
  screens: string[];
  speakers: string[];
};

export type Invite = {
  /** studyhall://join?relay=192.168.1.20%3A7450&code=K7QX-29FD */
  link: string;
  /** K7QX-29FD@192.168.1.20:7450 (short, typeable) */
  code: string;
  /** 192.168.1.20:7450 */
  relay: string;
  room: string;
  expiresAt: number;
};

export type InviteTarget = { relay: string; code: string };

export type MediaState = { mic: boolean; camera: boolean; screen: boolean };
export type MediaUpdate = { mic: boolean | null; camera: boolean | null; screen: boolean | null };
export type Presence = 'active' | 'away' | 'onBreak';

export type Participant = {
  identity: string;
  name: string;
  host: boolean;
  you: boolean;
  media: MediaState;
  presence: Presence;
  joinedAt: number;
};

export type ChatMessage = {
  seq: number;
  from: string;
  name: string;
  text: string;
  ts: number;
  clientMsgId: string;
  deleted: boolean;
};

/** Oldest first. */
export type ChatPage = { messages: ChatMessage[]; hasMore: boolean };

export type RoomSnapshot = {
  room: string;
  title: string;
  you: Participant;
  /** The others. */
  participants: Participant[];
  /** The newest page. */
  chat: ChatPage;
  /** Set when this app hosts the room. */
  hosting: Invite | null;
  maxChatBytes: number;
};

export type ConnectionState = 'connected' | 'reconnecting' | 'lost';

export type RoomEvent =
  | { type: 'participantJoined'; participant: Participant }
  | { type: 'participantLeft'; identity: string; reason: string }
  | { type: 'participantUpdated'; participant: Participant }
  | { type: 'chatMessage'; message: ChatMessage }
  | { type: 'chatDeleted'; seq: number }
  | { type: 'connection'; state: ConnectionState; message: string | null }
  | { type: 'kicked'; by: string; reason: string | null }
  | { type: 'roomEnded'; reason: string }
  | { type: 'notice'; message: string };

export type DeviceProblem = {
  device: 'camera' | 'microphone' | 'screen' | 'speaker';
  message: string;
};

export type MediaStatus = {
  /** key: "self" or an identity; level 0..1 */
  levels: { key: string; level: number }[];
  problems: DeviceProblem[];
};

export type QuitRequested = { othersInRoom: number };

export type AppErrorKind =
  | 'relayUnreachable'
  | 'inviteInvalid'
  | 'inviteNotFound'
  | 'tokenExpired'
  | 'roomFull'
  | 'kicked'
  | 'notInRoom'
  | 'alreadyInRoom'
  | 'deviceUnavailable'
  | 'hostingFailed'
  | 'invalidInput'
  | 'rateLimited'
  | 'timeout'
  | 'refused'
  | 'storage'
  | 'internal';

/** What a command rejects with; `message` is for people. */
export type AppErrorPayload = { kind: AppErrorKind; message: string };
