/**
 * Quick local checks of what someone typed into "Join a room", before asking the app
 * (`parse_invite`) — the app's answer is the one that counts.
 */

/** The typed text without surrounding whitespace (links pasted from chats often have some). */
export function normalizeInviteText(text: string): string {
  return text.trim();
}

const LINK_PREFIX = 'studyhall://';
/** K7QX-29FD@192.168.1.20:7450 (also a bracketed IPv6 address or a host name). */
const CODE = /^[A-Za-z0-9]{2,}(?:-[A-Za-z0-9]{2,})*@(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;

export type InviteShape = 'empty' | 'link' | 'code' | 'partial';

/**
 * What the text looks like: a link, a code, nothing yet, or something that is not (yet)
 * either ("partial": still being typed, or wrong).
 */
export function inviteShape(text: string): InviteShape {
  const t = normalizeInviteText(text);
  if (t === '') return 'empty';
  if (t.toLowerCase().startsWith(LINK_PREFIX)) return 'link';
  if (CODE.test(t)) return 'code';
  return 'partial';
}
