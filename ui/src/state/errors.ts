import { AppError } from '../services/studyhall';
import { relayHost } from './text';

/** What to tell someone whose join failed, in plain words; `relay` helps name the host. */
export function joinErrorText(error: unknown, relay: string | null): string {
  const e = AppError.from(error);
  const where = relay ? ` at ${relayHost(relay)}` : '';
  switch (e.kind) {
    case 'relayUnreachable':
      return `Can't reach the room's host${where}; check you're on the same network as them and that their Studyhall is still open.`;
    case 'tokenExpired':
    case 'inviteNotFound':
      return 'This invite has expired or the room is gone. Ask the host for a new invite.';
    case 'inviteInvalid':
      return `That doesn't look like a Studyhall invite. ${e.message}`;
    case 'roomFull':
      return 'This room is full. Try again when someone leaves.';
    case 'roomLocked':
      return 'This room is locked: the host is not taking new people right now. Ask the host to open it.';
    case 'deviceUnavailable':
      return `A camera or microphone could not be used: ${e.message} Choose another device or a test source.`;
    case 'kicked':
      return 'You were removed from this room and cannot rejoin it right now.';
    case 'alreadyInRoom':
      return 'You are already in a room. Leave it first.';
    case 'timeout':
      return `The room's host${where} did not answer in time. Try again.`;
    case 'rateLimited':
      return 'Too many attempts in a short time. Wait a moment and try again.';
    case 'hostingFailed':
      return `Could not start the room: ${e.message}`;
    default:
      return e.message;
  }
}
