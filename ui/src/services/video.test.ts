import { afterEach, describe, expect, it, vi } from 'vitest';
import { VideoHub } from './video';
import { encodeVideoMessage } from './videoMessage';

class FakeDecoder {
  static all: FakeDecoder[] = [];
  state: CodecState = 'unconfigured';
  decodeQueueSize = 0;
  config: VideoDecoderConfig | null = null;
  chunks: EncodedVideoChunkInit[] = [];
  constructor(public init: VideoDecoderInit) {
    FakeDecoder.all.push(this);
  }
  configure(config: VideoDecoderConfig) {
    this.config = config;
    this.state = 'configured';
  }
  decode(chunk: EncodedVideoChunkInit) {
    this.chunks.push(chunk);
  }
  close() {
    this.state = 'closed';
  }
  /** Emits a decoded frame. */
  output(width = 4, height = 2) {
    const close = vi.fn();
    const frame = { displayWidth: width, displayHeight: height, close } as unknown as VideoFrame;
    this.init.output(frame);
    return { frame, close };
  }
}

function message(key: string, keyframe: boolean, ts = 0) {
  return encodeVideoMessage({ key, keyframe, timestampUs: ts, data: new Uint8Array([1, 2, 3]) });
}

function hub() {
  FakeDecoder.all = [];
  return new VideoHub({
    endpoint: () => new Promise<string>(() => {}),
    createDecoder: (init) => new FakeDecoder(init) as unknown as VideoDecoder,
    createChunk: (init) => init as unknown as EncodedVideoChunk,
  });
}

afterEach(() => {
  vi.useRealTimers();
});

describe('VideoHub', () => {
  it('skips delta frames until the first keyframe, then configures vp8', () => {
    const h = hub();
    h.handleMessage(message('bob:camera', false));
    expect(FakeDecoder.all).toHaveLength(0);
    h.handleMessage(message('bob:camera', true, 1000.4));
    h.handleMessage(message('bob:camera', false, 2000));
    expect(FakeDecoder.all).toHaveLength(1);
    const decoder = FakeDecoder.all[0]!;
    expect(decoder.config).toEqual({ codec: 'vp8' });
    expect(decoder.chunks.map((c) => [c.type, c.timestamp])).toEqual([
      ['key', 1000],
      ['delta', 2000],
    ]);
    h.close();
  });

  it('keeps one decoder per track key', () => {
    const h = hub();
    h.handleMessage(message('self:camera', true));
    h.handleMessage(message('bob:camera', true));
    h.handleMessage(message('self:camera', false));
    expect(FakeDecoder.all).toHaveLength(2);
    h.close();
  });

  it('after a decoder error waits for the next keyframe with a new decoder', () => {
    const h = hub();
    h.handleMessage(message('bob:camera', true));
    const first = FakeDecoder.all[0]!;
    first.init.error(new DOMException('bad frame'));
    expect(first.state).toBe('closed');
    h.handleMessage(message('bob:camera', false));
    expect(FakeDecoder.all).toHaveLength(1);
    h.handleMessage(message('bob:camera', true));
    expect(FakeDecoder.all).toHaveLength(2);
    expect(FakeDecoder.all[1]!.chunks).toHaveLength(1);
    h.close();
  });

  it('draws frames into attached canvases, counts them and closes every frame', () => {
    vi.useFakeTimers();
    const h = hub();
    const canvas = document.createElement('canvas');
    const drawImage = vi.fn();
    vi.spyOn(canvas, 'getContext').mockReturnValue({ drawImage } as unknown as CanvasRenderingContext2D);
    const detach = h.attach('bob:camera', canvas);
    expect(canvas.dataset.frames).toBe('0');
    const live = vi.fn();
    h.subscribe('bob:camera', live);

    h.handleMessage(message('bob:camera', true));
    const { frame, close } = FakeDecoder.all[0]!.output(320, 180);
    expect(drawImage).toHaveBeenCalledWith(frame, 0, 0, 320, 180);
    expect(close).toHaveBeenCalled();
    expect([canvas.width, canvas.height]).toEqual([320, 180]);
    expect(h.framesDrawn('bob:camera')).toBe(1);
    expect(h.isLive('bob:camera')).toBe(true);
    expect(live).toHaveBeenCalledTimes(1);

    vi.advanceTimersByTime(300);
    expect(canvas.dataset.frames).toBe('1');
    vi.advanceTimersByTime(3000);
    expect(h.isLive('bob:camera')).toBe(false);

    detach();
    const unseen = FakeDecoder.all[0]!.output();
    expect(unseen.close).toHaveBeenCalled();
    expect(h.framesDrawn('bob:camera')).toBe(1);
    h.close();
  });

  it('drops malformed messages without throwing', () => {
    const h = hub();
    expect(() => h.handleMessage(new ArrayBuffer(2))).not.toThrow();
    h.close();
  });
});
