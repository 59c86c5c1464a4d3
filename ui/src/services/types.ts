/**
 * The IPC contract's types (docs/app-ipc.md), taken from the bindings tauri-specta
 * generates from the Rust commands (`ui/src/bindings.ts`), so the UI cannot drift from
 * the app. Values the app sends are the `_Serialize` forms; values the UI sends (command
 * arguments) are accepted in the `_Deserialize` forms, of which these are a subset.
 */
import type * as B from '../bindings';

export type AppInfo = B.AppInfo;
export type VideoDevice = B.VideoDevice_Serialize;
export type AudioDevice = B.AudioDevice_Serialize;
export type ScreenDevice = B.ScreenDevice_Serialize;
export type Profile = B.Profile_Serialize;
export type RecentRoom = B.RecentRoom;
export type Settings = B.Settings_Serialize;
export type DeviceList = B.DeviceList;
/** One device: `name` to keep and open, `label` to show. */
export type Device = B.Device;
export type Invite = B.Invite;
/** What the room hosted on this machine uploads now, against its budget (`host_upload`). */
export type HostUpload = B.HostUpload;
export type InviteTarget = B.InviteTarget;
export type MediaState = B.MediaState;
export type MediaUpdate = B.MediaUpdate_Serialize;
/** A video tile on screen (`set_view`): whose, `camera` or `screen`, its size in device pixels. */
export type ViewTile = B.ViewTile;
/** `camera` or `screen`. */
export type VideoSource = B.VideoSource;
/** Whether to join with the microphone and the camera on. */
export type JoinMedia = B.JoinMedia;
/** `active`, `away` or `on_break` (the protocol's own strings). */
export type Presence = B.Presence;
export type Participant = B.Participant;
export type ChatMessage = B.ChatMessage_Serialize;
export type ChatPage = B.ChatPage_Serialize;
/** A file a chat message announces (the short form of a `Material`). */
export type Attachment = B.Attachment;
export type RoomSnapshot = B.RoomSnapshot_Serialize;
export type ConnectionState = B.ConnectionState;
export type RoomEvent = B.RoomEvent_Serialize;
export type DeviceKind = B.DeviceKind;
export type DeviceProblem = B.DeviceProblem;
export type MediaStatus = B.MediaStatus;
/** How well one other participant's media reaches us lately (`media-status`). */
export type Link = B.Link;
export type LinkQuality = B.LinkQuality;
export type QuitRequested = B.QuitRequested;
export type InviteOpened = B.InviteOpened;
export type AppErrorKind = B.AppErrorKind;
// Room features: the protocol's own types (snake_case fields, as on the wire).
export type FeatureRequest = B.FeatureRequest;
export type PresenceRequest = B.PresenceRequest;
export type HandRequest = B.HandRequest;
export type FeatureEvent = B.FeatureEvent_Serialize;
export type HandEvent = B.HandEvent_Serialize;
export type FeatureSnapshot = B.FeatureSnapshot_Serialize;
export type RaisedHand = B.RaisedHand;
export type TimerRequest = B.TimerRequest_Serialize;
export type TimerEvent = B.TimerEvent_Serialize;
export type TimerState = B.TimerState_Serialize;
export type TimerRun = B.TimerRun_Serialize;
export type TimerSettings = B.TimerSettings;
// The whiteboard (protocol `board.rs`): the app's forms, as events and snapshots bring them.
export type BoardRequest = B.BoardRequest_Serialize;
export type BoardEvent = B.BoardEvent_Serialize;
export type BoardOp = B.BoardOp_Serialize;
export type BoardChange = B.BoardChange_Serialize;
export type BoardSummary = B.BoardSummary_Serialize;
export type BoardAccess = B.BoardAccess_Serialize;
export type BoardObject = B.BoardObject_Serialize;
export type Page = B.Page_Serialize;
export type PageInfo = B.PageInfo_Serialize;
export type Placed = B.Placed_Serialize;
/** What an object is (`pen`, `rect`, `text`, ...), with its geometry in page units. */
export type Shape = B.Shape;
export type Style = B.Style_Serialize;
// The lecture (protocol `lecture.rs`): who presents, study room or lecture, who may speak,
// the lock and the lecture's clock.
export type LectureRequest = B.LectureRequest;
export type LectureEvent = B.LectureEvent_Serialize;
export type LectureState = B.LectureState_Serialize;
/** `study` or `lecture`. */
export type RoomMode = B.RoomMode;
// Reactions (protocol `reactions.rs`): emoji shown briefly on the sender's tile.
/** `thumbs_up`, `clap`, `laugh`, `question` or `party`. */
export type Reaction = B.Reaction;
export type ReactionRequest = B.ReactionRequest;
export type ReactionEvent = B.ReactionEvent;
// Questions (protocol `questions.rs`), each as this participant sees it.
export type Question = B.Question_Serialize;
export type QuestionRequest = B.QuestionRequest_Serialize;
export type QuestionEvent = B.QuestionEvent_Serialize;
/** `open`, `answered` or `dismissed`. */
export type QuestionState = B.QuestionState;
/** How a presenter closes a question: `answered` or `dismissed`. */
export type QuestionOutcome = B.QuestionOutcome;
// Polls (protocol `polls.rs`), each as this participant sees it; drafts kept by the app.
export type Poll = B.Poll_Serialize;
export type PollDraft = B.PollDraft_Serialize;
export type PollRequest = B.PollRequest_Serialize;
export type PollEvent = B.PollEvent_Serialize;
/** `single` or `multiple`. */
export type PollKind = B.PollKind;
/** Who chose what, in a named poll (hosts and presenters only). */
export type PollVoter = B.PollVoter;
// Materials (protocol `materials.rs`): files shared with the room, and the app's transfers.
export type Material = B.Material;
export type MaterialsState = B.MaterialsState_Serialize;
export type MaterialRequest = B.MaterialRequest;
export type MaterialEvent = B.MaterialEvent_Serialize;
export type MaterialTransfer = B.MaterialTransfer_Serialize;
/** `upload` or `download`. */
export type TransferKind = B.TransferKind;
/** `running`, `done`, `failed` or `cancelled`. */
export type TransferState = B.TransferState;
/** What the user drags over the window: files coming (`enter`, with their paths), moving (`over`), dropped, or gone. */
export type FileDrop = { type: 'enter'; paths: string[] } | { type: 'over' } | { type: 'drop'; paths: string[] } | { type: 'leave' };
/** What changed the timer (`started`, `phase_ended`, ...). */
export type TimerChange = B.TimerChange;
/** `focus`, `short_break` or `long_break`. */
export type Phase = B.Phase;
// The study record (local to this machine).
export type StudySummary = B.StudySummary_Serialize;
export type DayTotal = B.DayTotal;
export type RoomTotal = B.RoomTotal;
export type AppErrorPayload = B.AppError;
// Study groups (protocol `groups.rs`, `schedule.rs`; app `groups/`): snake_case fields as
// on the wire, the app's own types in camelCase.
/** `offline`, `online` or `in_room`. */
export type PresenceStatus = B.PresenceStatus;
/** The room a member is in; `group` set when it is one of our groups' standing rooms. */
export type RoomPresence = B.RoomPresence_Serialize;
/** The focus timer of the room a member is in; `ends_at` null while paused. */
export type FocusPresence = B.FocusPresence_Serialize;
export type MemberPresence = B.MemberPresence_Serialize;
/** One occurrence of a recurring session, cancelled (`moved_to` null) or moved. */
export type OccurrenceChange = B.OccurrenceChange_Deserialize;
/** What a session is, as the UI sends it: a title, a wall-clock start in `tz`, a length, maybe a recurrence. */
export type SessionDraft = B.SessionDraft_Deserialize;
/** A session as the app sends it: a group's, or a personal study block (`by` empty). */
export type StudySession = B.StudySession_Serialize;
/** What an `.ics` import added and what it left out (each with why). */
export type ImportReport = B.ImportReport;

/**
 * `T` with its timestamps `K` (ms since the epoch) as plain numbers. The Rust side hints
 * them to specta as `f64`, which is exported as `number | null` (serde_json writes NaN as
 * null); the app never sends null for them. (room/types.rs hints its timestamps as `u32`,
 * which exports `number`.)
 */
type Stamped<T, K extends keyof T> = Omit<T, K> & { [P in K]: number };

export type GroupMember = Stamped<B.GroupMember, 'joined_at'>;
export type Group = Stamped<Omit<B.Group_Serialize, 'members'>, 'created_at'> & { members: GroupMember[] };
/** A group as the UI shows it. */
export type GroupCard = Omit<B.GroupCard_Serialize, 'group'> & { group: Group };
/** Everything the UI shows of groups (also the `groups-changed` event). */
export type GroupsChanged = Omit<B.GroupsChanged_Serialize, 'groups'> & { groups: GroupCard[] };
/** One occurrence, in absolute time. */
export type Occurrence = Stamped<B.Occurrence, 'start_ms' | 'end_ms'>;
/** One occurrence on the calendar: a group's (`group` its id) or a personal block's. */
export type CalendarEntry = Omit<B.CalendarEntry_Serialize, 'occurrence'> & { occurrence: Occurrence };
/** A session about to start; `join`: the desktop notification's Join was pressed. */
export type SessionReminder = Stamped<B.SessionReminder_Serialize, 'startMs'>;
