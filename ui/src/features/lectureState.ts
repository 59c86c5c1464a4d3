/**
 * The lecture's state and rules, apart from its components (`./lecture.tsx`). The relay
 * keeps the whole `LectureState` and sends it on every change (`lecture`), so the state
 * here is its latest copy; this side only reads it: what a participant may turn on, what
 * to tell them of a change, how long the lecture has run.
 */
import type { FeatureEvent, FeatureSnapshot, LectureRequest, LectureState, Participant, RoomMode } from '../services/types';
import { isolate } from '../state/text';
import { formatClock } from './timerState';

export function lectureFromSnapshot(features: FeatureSnapshot): LectureState {
  return features.lecture;
}

export function lectureReducer(state: LectureState, event: FeatureEvent): LectureState {
  return event.type === 'lecture' ? event.lecture : state;
}

/** Whether `p` runs the lecture: a host or a presenter, who may always speak and share. */
export function presents(p: Pick<Participant, 'host' | 'presenter'>): boolean {
  return p.host || p.presenter;
}

/** Whether a student may turn on their microphone and camera now (one by one, or everyone). */
export function maySpeak(lecture: LectureState, identity: string): boolean {
  return lecture.everyone_speaks || lecture.speakers.includes(identity);
}

/** Which of their sources a participant may turn on. */
export type MediaAllowed = { mic: boolean; camera: boolean; screen: boolean };

/**
 * What `p` may turn on now, by the relay's rule (the protocol's `LectureState::may_send`):
 * everything in a study room and for those who present; in a lecture a student's
 * microphone and camera only while the host lets them speak, and never their screen.
 */
export function mayTurnOn(lecture: LectureState, p: Participant): MediaAllowed {
  if (lecture.mode === 'study' || presents(p)) return { mic: true, camera: true, screen: true };
  const speaks = maySpeak(lecture, p.identity);
  return { mic: speaks, camera: speaks, screen: false };
}

/** Why a source stays off (the toolbar button's tooltip); null when it may go on. */
export function whyOff(lecture: LectureState, p: Participant, source: keyof MediaAllowed): string | null {
  if (mayTurnOn(lecture, p)[source]) return null;
  return source === 'screen' ? 'In a lecture only presenters and the host share their screen' : 'Raise your hand to speak';
}

/**
 * What a host may do about `p` speaking, one by one: `let` them or `stop` them; null when
 * there is nothing to decide (a study room, everyone speaks, `p` presents or is you).
 */
export function speakingControl(lecture: LectureState, p: Participant): 'let' | 'stop' | null {
  if (lecture.mode !== 'lecture' || lecture.everyone_speaks || presents(p) || p.you) return null;
  return lecture.speakers.includes(p.identity) ? 'stop' : 'let';
}

/** What the host who chose `mode` when hosting sends once in: null when the room is run so. */
export function startModeRequest(mode: RoomMode, lecture: LectureState): LectureRequest | null {
  return mode === lecture.mode ? null : { type: 'set_room_mode', mode };
}

/**
 * How long the lecture has run at local time `localNow`, the relay's clock being
 * `offsetMs` ahead (0 while unknown); never below 0 (a clock slightly off).
 */
export function elapsedMs(startedAt: number, offsetMs: number | null, localNow: number): number {
  return Math.max(0, localNow + (offsetMs ?? 0) - startedAt);
}

/** `mm:ss` (`h:mm:ss` from an hour), whole seconds gone (a clock counting up). */
export function formatElapsed(ms: number): string {
  return formatClock(Math.floor(Math.max(0, ms) / 1000) * 1000);
}

/** The room as a notice needs it: you, and everyone (for the name of who changed it). */
type NoticeRoom = { you: Participant; people: Participant[] };

/**
 * What to tell you of a change to the lecture (`before` is the state it changed):
 * that you became a presenter or stopped being one, that the room became a lecture or a
 * study room, that you may speak now or not any more. Null when it changed nothing you
 * need to hear of, or you made the change.
 */
export function lectureNotice(event: FeatureEvent, room: NoticeRoom, before: LectureState): string | null {
  if (event.type !== 'lecture' || event.by === room.you.identity) return null;
  const after = event.lecture;
  const me = room.you.identity;
  const by = isolate(room.people.find((p) => p.identity === event.by)?.name ?? 'The host');
  if (!room.you.host) {
    const now = after.presenters.includes(me);
    if (now !== room.you.presenter) {
      return now
        ? `${by} made you a presenter: you can draw on the whiteboard and answer questions.`
        : `${by} took back your presenter role.`;
    }
  }
  const student = !presents(room.you);
  if (after.mode !== before.mode) {
    if (after.mode === 'study') return `${by} made this a study room again: everyone may speak.`;
    if (!student) return `${by} made this room a lecture.`;
    return maySpeak(after, me)
      ? `${by} made this room a lecture. You may speak.`
      : `${by} made this room a lecture: your microphone and camera stay off until the host lets you speak (raise your hand).`;
  }
  if (!student || after.mode !== 'lecture') return null;
  const could = maySpeak(before, me);
  const can = maySpeak(after, me);
  if (can && !could) return 'You may speak now.';
  if (could && !can) return `${by} took back your turn to speak: your microphone and camera are off.`;
  return null;
}
