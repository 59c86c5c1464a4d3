/** One binary message of the local video WebSocket (docs/app-ipc.md, "Video"). */
export type VideoMessage = {
  keyframe: boolean;
  /** `<identity>:camera`, `<identity>:screen`, `self:camera`, `self:screen` */
  key: string;
  /** Microseconds. */
  timestampUs: number;
  /** The encoded VP8 frame (a view into the message's buffer). */
  data: Uint8Array;
};

export const VIDEO_MESSAGE_VERSION = 1;
const HEADER_BEFORE_KEY = 4;
const TIMESTAMP_BYTES = 8;

const keyDecoder = new TextDecoder('utf-8', { fatal: true });

/** Parses one message; throws a plain Error saying what is wrong with a malformed one. */
export function parseVideoMessage(buffer: ArrayBuffer): VideoMessage {
  const view = new DataView(buffer);
  if (buffer.byteLength < HEADER_BEFORE_KEY) throw new Error('video message too short');
  const version = view.getUint8(0);
  if (version !== VIDEO_MESSAGE_VERSION) throw new Error(`unknown video message version ${version}`);
  const flags = view.getUint8(1);
  const keyLength = view.getUint16(2, false);
  const timestampAt = HEADER_BEFORE_KEY + keyLength;
  const dataAt = timestampAt + TIMESTAMP_BYTES;
  if (buffer.byteLength < dataAt) throw new Error('video message truncated');
  const key = keyDecoder.decode(new Uint8Array(buffer, HEADER_BEFORE_KEY, keyLength));
  if (key.length === 0) throw new Error('video message without a track key');
  const timestampUs = view.getFloat64(timestampAt, false);
  if (!Number.isFinite(timestampUs)) throw new Error('video message timestamp is not finite');
  return {
    keyframe: (flags & 1) === 1,
    key,
    timestampUs,
    data: new Uint8Array(buffer, dataAt),
  };
}

/** Builds a message (the inverse of parseVideoMessage; for tests and tools). */
export function encodeVideoMessage(message: Omit<VideoMessage, 'data'> & { data: Uint8Array }): ArrayBuffer {
  const key = new TextEncoder().encode(message.key);
  const buffer = new ArrayBuffer(HEADER_BEFORE_KEY + key.length + TIMESTAMP_BYTES + message.data.length);
  const view = new DataView(buffer);
  view.setUint8(0, VIDEO_MESSAGE_VERSION);
  view.setUint8(1, message.keyframe ? 1 : 0);
  view.setUint16(2, key.length, false);
  new Uint8Array(buffer, HEADER_BEFORE_KEY, key.length).set(key);
  view.setFloat64(HEADER_BEFORE_KEY + key.length, message.timestampUs, false);
  new Uint8Array(buffer, HEADER_BEFORE_KEY + key.length + TIMESTAMP_BYTES).set(message.data);
  return buffer;
}
