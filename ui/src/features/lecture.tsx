/**
 * The lecture: who presents (docs/protocol.md, "Lecture"). The host makes people
 * presenters from the people panel (`set_presenter`); presenters draw on the whiteboard
 * and answer questions as the host does. The relay sends the whole list on each change
 * (`lecture`) and a `participant_updated` to each participant whose role changed, so the
 * room shows who presents from the participants (`presenter`); this keeps the list
 * itself, and tells you when the host made you a presenter or took it back.
 */
import type { FeatureEvent, FeatureSnapshot, LectureState } from '../services/types';
import type { FeatureRoom, RoomFeatureUi } from './feature';

export function lectureFromSnapshot(features: FeatureSnapshot): LectureState {
  return { presenters: features.lecture.presenters };
}

export function lectureReducer(state: LectureState, event: FeatureEvent): LectureState {
  return event.type === 'lecture' ? { presenters: event.lecture.presenters } : state;
}

/** What to tell you of a change to the presenters; null when it changed nothing of yours. */
export function presenterNotice(event: FeatureEvent, room: Pick<FeatureRoom, 'you' | 'people'>): string | null {
  if (event.type !== 'lecture' || event.by === room.you.identity || room.you.host) return null;
  const now = event.lecture.presenters.includes(room.you.identity);
  if (now === room.you.presenter) return null;
  const by = room.people.find((p) => p.identity === event.by)?.name ?? 'The host';
  return now
    ? `${by} made you a presenter: you can draw on the whiteboard and answer questions.`
    : `${by} took back your presenter role.`;
}

export const lecture: RoomFeatureUi<LectureState, 'lecture'> = {
  key: 'lecture',
  fromSnapshot: lectureFromSnapshot,
  reduce: lectureReducer,
  onEvent: (event, room) => {
    const notice = presenterNotice(event, room);
    if (notice !== null) room.toast(notice);
  },
};
