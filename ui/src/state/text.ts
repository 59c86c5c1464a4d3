/** Bytes `text` takes in UTF-8 (what the relay's chat limit counts). */
export function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * Up to two initials for an avatar ("Ada Lovelace" → "AL", "bob" → "B"): the first letter,
 * digit or symbol (an emoji) of the first and the last word. Invisible and combining
 * characters, bidi controls and punctuation are passed over; "?" when nothing is left.
 */
export function initials(name: string): string {
  const marks = name
    .split(/\s+/)
    .map((word) => INITIAL.exec(word)?.[0] ?? '')
    .filter(Boolean);
  if (marks.length === 0) return '?';
  const first = marks[0] ?? '';
  const last = marks.length > 1 ? (marks[marks.length - 1] ?? '') : '';
  return (first + last).toUpperCase();
}

const INITIAL = /[\p{L}\p{N}\p{So}]/u;

/** The characters that open or close an embedding, an override or an isolate. */
const BIDI_CONTROL = /[\u202A-\u202E\u2066-\u2069]/;

/**
 * Someone's text (a name, a room's title) to put into a sentence of the app's. When it holds
 * bidi controls (a right-to-left override, say), it is set apart as an isolate (U+2068 …
 * U+2069), so what it opens ends with it and the app's words after it read as they should;
 * a closing U+2069 of its own that opened nothing is taken out (it would end the isolate
 * early). Text without bidi controls is returned as it is.
 */
export function isolate(text: string): string {
  if (!BIDI_CONTROL.test(text)) return text;
  let open = 0;
  let kept = '';
  for (const c of text) {
    if (c === '\u2066' || c === '\u2067' || c === '\u2068') open += 1;
    else if (c === '\u2069') {
      if (open === 0) continue;
      open -= 1;
    }
    kept += c;
  }
  return `\u2068${kept}\u2069`;
}

/** The host part of a relay address ("192.168.1.20:7450" → "192.168.1.20"). */
export function relayHost(relay: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(relay);
  if (bracketed) return bracketed[1] ?? relay;
  const colon = relay.lastIndexOf(':');
  return colon > 0 && relay.indexOf(':') === colon ? relay.slice(0, colon) : relay;
}

/** "just now", "5 min ago", "yesterday", or a date. */
export function relativeTime(ts: number, now: number = Date.now()): string {
  const seconds = Math.round((now - ts) / 1000);
  if (seconds < 60) return 'just now';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.round(hours / 24);
  if (days === 1) return 'yesterday';
  if (days < 7) return `${days} days ago`;
  return new Date(ts).toLocaleDateString();
}

/** "14:05" */
export function clockTime(ts: number): string {
  return new Date(ts).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}
