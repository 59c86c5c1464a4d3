import { describe, expect, it } from 'vitest';
import { encodeVideoMessage, parseVideoMessage } from './videoMessage';

function raw(bytes: number[]): ArrayBuffer {
  return new Uint8Array(bytes).buffer;
}

describe('parseVideoMessage', () => {
  it('reads the documented layout', () => {
    const key = [...new TextEncoder().encode('self:camera')];
    const ts = new Uint8Array(8);
    new DataView(ts.buffer).setFloat64(0, 1_234_567.5, false);
    const message = parseVideoMessage(raw([1, 1, 0, key.length, ...key, ...ts, 0x9d, 0x01, 0x2a]));
    expect(message.keyframe).toBe(true);
    expect(message.key).toBe('self:camera');
    expect(message.timestampUs).toBe(1_234_567.5);
    expect([...message.data]).toEqual([0x9d, 0x01, 0x2a]);
  });

  it('round-trips with encodeVideoMessage, UTF-8 keys and delta frames', () => {
    const data = new Uint8Array([1, 2, 3, 4, 5]);
    const parsed = parseVideoMessage(
      encodeVideoMessage({ keyframe: false, key: 'zoë:screen', timestampUs: 42, data }),
    );
    expect(parsed).toMatchObject({ keyframe: false, key: 'zoë:screen', timestampUs: 42 });
    expect([...parsed.data]).toEqual([1, 2, 3, 4, 5]);
  });

  it('ignores flag bits other than bit 0', () => {
    const buffer = encodeVideoMessage({ keyframe: false, key: 'a:camera', timestampUs: 0, data: new Uint8Array([7]) });
    new DataView(buffer).setUint8(1, 0b110);
    expect(parseVideoMessage(buffer).keyframe).toBe(false);
  });

  it('refuses malformed messages', () => {
    expect(() => parseVideoMessage(raw([1, 1]))).toThrow(/too short/);
    expect(() => parseVideoMessage(raw([2, 1, 0, 1, 65, 0, 0, 0, 0, 0, 0, 0, 0]))).toThrow(/version/);
    expect(() => parseVideoMessage(raw([1, 1, 0, 10, 65, 66]))).toThrow(/truncated/);
    expect(() => parseVideoMessage(raw([1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))).toThrow(/track key/);
    expect(() => parseVideoMessage(raw([1, 1, 0, 1, 0xff, 0, 0, 0, 0, 0, 0, 0, 0]))).toThrow();
  });
});
