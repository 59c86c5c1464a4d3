import { describe, expect, it } from 'vitest';
import { inviteShape, normalizeInviteText } from './invite';

describe('inviteShape', () => {
  it('recognizes links and codes', () => {
    expect(inviteShape('studyhall://join?relay=192.168.1.20%3A7450&code=K7QX-29FD')).toBe('link');
    expect(inviteShape('  K7QX-29FD@192.168.1.20:7450 ')).toBe('code');
    expect(inviteShape('K7QX-29FD@[fe80::1]:7450')).toBe('code');
    expect(inviteShape('')).toBe('empty');
    expect(inviteShape('K7QX')).toBe('partial');
    expect(inviteShape('K7QX-29FD@192.168.1.20')).toBe('partial');
  });

  it('trims pasted text', () => {
    expect(normalizeInviteText('\n K7QX-29FD@h:1 \t')).toBe('K7QX-29FD@h:1');
  });
});
