import { describe, expect, it } from 'vitest';
import { initials, isolate, relayHost, relativeTime, utf8ByteLength } from './text';

describe('utf8ByteLength', () => {
  it('counts UTF-8 bytes like TextEncoder', () => {
    for (const s of ['', 'hello', 'zoë', '日本語', '👋🏽', 'a\u{1F600}b', '\ud800x', 'x\udc00']) {
      expect(utf8ByteLength(s)).toBe(new TextEncoder().encode(s).length);
    }
    expect(utf8ByteLength('€')).toBe(3);
    expect(utf8ByteLength('😀')).toBe(4);
  });
});

describe('initials', () => {
  it('takes the first letters of the first and last words', () => {
    expect(initials('Ada Lovelace')).toBe('AL');
    expect(initials('  bob ')).toBe('B');
    expect(initials('Jean Claude Van Damme')).toBe('JD');
    expect(initials('')).toBe('?');
    expect(initials('😀 smile')).toBe('😀S');
  });

  it('passes over what is not a letter: bidi controls, invisible and combining marks, markup', () => {
    expect(initials('\u202EHost (you)')).toBe('HY');
    expect(initials('\u2060\uFEFF\u200B')).toBe('?');
    expect(initials('Z\u0338\u0322a\u0337l')).toBe('Z');
    expect(initials('<script>x</script>')).toBe('S');
    expect(initials('שלום مرحبا')).toBe('שم');
  });
});

describe('isolate', () => {
  it('leaves text without bidi controls as it is', () => {
    expect(isolate('Bob')).toBe('Bob');
    expect(isolate('שלום')).toBe('שלום');
  });

  it('sets text with bidi controls apart, dropping a closing isolate that opened nothing', () => {
    expect(isolate('\u202Eevil')).toBe('\u2068\u202Eevil\u2069');
    expect(isolate('a\u2069\u202Eb')).toBe('\u2068a\u202Eb\u2069');
    expect(isolate('\u2067x\u2069y')).toBe('\u2068\u2067x\u2069y\u2069');
  });
});

describe('relayHost', () => {
  it('drops the port', () => {
    expect(relayHost('192.168.1.20:7450')).toBe('192.168.1.20');
    expect(relayHost('[fe80::1]:7450')).toBe('fe80::1');
    expect(relayHost('fe80::1')).toBe('fe80::1');
    expect(relayHost('studyhost')).toBe('studyhost');
  });
});

describe('relativeTime', () => {
  it('says how long ago', () => {
    const now = 1_700_000_000_000;
    expect(relativeTime(now - 10_000, now)).toBe('just now');
    expect(relativeTime(now - 5 * 60_000, now)).toBe('5 min ago');
    expect(relativeTime(now - 3 * 3_600_000, now)).toBe('3 h ago');
    expect(relativeTime(now - 24 * 3_600_000, now)).toBe('yesterday');
  });
});
