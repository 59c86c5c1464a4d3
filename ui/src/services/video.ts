/**
 * Draws the app's video: one WebSocket to the local video endpoint (`media_endpoint`),
 * one WebCodecs VideoDecoder per track key, each decoded frame drawn into every canvas
 * attached for its key. This module uses browser APIs only; the endpoint's URL comes from
 * the service module.
 */
import { mediaEndpoint } from './studyhall';
import { parseVideoMessage, type VideoMessage } from './videoMessage';

/** How often canvases' `data-frames` and the tracks' live flags are refreshed. */
const REFRESH_MS = 250;
/** A track that drew nothing for this long is no longer live (its tile shows the avatar). */
const STALE_MS = 2000;
/** More queued chunks than this: the decoder cannot keep up; start again at a keyframe. */
const MAX_DECODE_QUEUE = 24;
const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 5000;
/** Keep the socket open this long after the last canvas went away (tiles remount). */
const IDLE_CLOSE_MS = 3000;

type DecoderLike = Pick<VideoDecoder, 'configure' | 'decode' | 'close' | 'state' | 'decodeQueueSize'>;

export type VideoHubOptions = {
  endpoint: () => Promise<string>;
  createSocket?: (url: string) => WebSocket;
  createDecoder?: (init: VideoDecoderInit) => DecoderLike;
  createChunk?: (init: EncodedVideoChunkInit) => EncodedVideoChunk;
  now?: () => number;
};

type Track = {
  decoder: DecoderLike | null;
  /** Delta frames are skipped until a keyframe arrives. */
  waitingForKeyframe: boolean;
  framesDrawn: number;
  lastDrawnAt: number;
  live: boolean;
};

export class VideoHub {
  private readonly options: Required<VideoHubOptions>;
  private readonly tracks = new Map<string, Track>();
  private readonly canvases = new Map<string, Set<HTMLCanvasElement>>();
  private readonly contexts = new WeakMap<HTMLCanvasElement, CanvasRenderingContext2D | null>();
  private readonly listeners = new Map<string, Set<() => void>>();
  private socket: WebSocket | null = null;
  private connecting = false;
  private reconnectDelay = RECONNECT_MIN_MS;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private idleTimer: ReturnType<typeof setTimeout> | null = null;
  private refreshTimer: ReturnType<typeof setInterval> | null = null;
  private closed = false;
  private warnedNoDecoder = false;

  constructor(options: VideoHubOptions) {
    this.options = {
      createSocket: (url) => new WebSocket(url),
      createDecoder: (init) => new VideoDecoder(init),
      createChunk: (init) => new EncodedVideoChunk(init),
      now: () => performance.now(),
      ...options,
    };
  }

  /** Draw `key`'s frames into `canvas` until the returned function is called. */
  attach(key: string, canvas: HTMLCanvasElement): () => void {
    let set = this.canvases.get(key);
    if (!set) {
      set = new Set();
      this.canvases.set(key, set);
    }
    set.add(canvas);
    canvas.dataset.frames = String(this.framesDrawn(key));
    canvas.dataset.track = key;
    this.closed = false;
    if (this.idleTimer !== null) {
      clearTimeout(this.idleTimer);
      this.idleTimer = null;
    }
    this.ensureRunning();
    return () => {
      set.delete(canvas);
      if (set.size === 0) this.canvases.delete(key);
      if (this.canvases.size === 0) this.scheduleIdleClose();
    };
  }

  /** Call `listener` when `isLive(key)` may have changed. */
  subscribe(key: string, listener: () => void): () => void {
    let set = this.listeners.get(key);
    if (!set) {
      set = new Set();
      this.listeners.set(key, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(key);
    };
  }

  /** Whether `key` drew a frame in the last couple of seconds. */
  isLive(key: string): boolean {
    return this.tracks.get(key)?.live ?? false;
  }

  /** Frames of `key` drawn into a canvas so far. */
  framesDrawn(key: string): number {
    return this.tracks.get(key)?.framesDrawn ?? 0;
  }

  /** Handles one binary message from the socket (public for tests). */
  handleMessage(buffer: ArrayBuffer): void {
    let message: VideoMessage;
    try {
      message = parseVideoMessage(buffer);
    } catch (error) {
      console.warn('dropped a video message:', error);
      return;
    }
    const track = this.track(message.key);
    if (track.waitingForKeyframe && !message.keyframe) return;
    try {
      if (!track.decoder || track.decoder.state === 'closed') {
        if (!message.keyframe) {
          track.waitingForKeyframe = true;
          return;
        }
        track.decoder = this.newDecoder(message.key, track);
      }
      if (track.decoder.decodeQueueSize > MAX_DECODE_QUEUE) {
        this.resetTrack(track);
        if (!message.keyframe) return;
        track.decoder = this.newDecoder(message.key, track);
      }
      track.waitingForKeyframe = false;
      track.decoder.decode(
        this.options.createChunk({
          type: message.keyframe ? 'key' : 'delta',
          timestamp: Math.round(message.timestampUs),
          data: message.data,
        }),
      );
    } catch (error) {
      if (error instanceof ReferenceError && !this.warnedNoDecoder) {
        this.warnedNoDecoder = true;
        console.error('This webview cannot decode video (no WebCodecs VideoDecoder).');
      } else if (!(error instanceof ReferenceError)) {
        console.warn(`video decoder for ${message.key} failed; waiting for a keyframe`, error);
      }
      this.resetTrack(track);
    }
  }

  /** Closes the socket and every decoder. */
  close(): void {
    this.closed = true;
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    if (this.refreshTimer !== null) clearInterval(this.refreshTimer);
    this.reconnectTimer = this.idleTimer = this.refreshTimer = null;
    const socket = this.socket;
    this.socket = null;
    socket?.close();
    for (const track of this.tracks.values()) this.resetTrack(track);
  }

  private track(key: string): Track {
    let track = this.tracks.get(key);
    if (!track) {
      track = { decoder: null, waitingForKeyframe: true, framesDrawn: 0, lastDrawnAt: 0, live: false };
      this.tracks.set(key, track);
    }
    return track;
  }

  private newDecoder(key: string, track: Track): DecoderLike {
    const decoder = this.options.createDecoder({
      output: (frame) => this.draw(key, track, frame),
      error: (error) => {
        console.warn(`video decoder for ${key} failed; waiting for a keyframe`, error);
        if (track.decoder === decoder) this.resetTrack(track);
      },
    });
    decoder.configure({ codec: 'vp8' });
    return decoder;
  }

  private resetTrack(track: Track): void {
    const decoder = track.decoder;
    track.decoder = null;
    track.waitingForKeyframe = true;
    if (decoder && decoder.state !== 'closed') {
      try {
        decoder.close();
      } catch {
        // already closed by its own error
      }
    }
  }

  private draw(key: string, track: Track, frame: VideoFrame): void {
    try {
      const canvases = this.canvases.get(key);
      if (!canvases || canvases.size === 0) return;
      for (const canvas of canvases) {
        const width = frame.displayWidth;
        const height = frame.displayHeight;
        if (canvas.width !== width) canvas.width = width;
        if (canvas.height !== height) canvas.height = height;
        let context = this.contexts.get(canvas);
        if (context === undefined) {
          context = canvas.getContext('2d');
          this.contexts.set(canvas, context);
        }
        context?.drawImage(frame, 0, 0, width, height);
      }
      track.framesDrawn += 1;
      track.lastDrawnAt = this.options.now();
      if (!track.live) {
        track.live = true;
        this.notify(key);
      }
    } finally {
      frame.close();
    }
  }

  private notify(key: string): void {
    for (const listener of this.listeners.get(key) ?? []) listener();
  }

  private refresh = (): void => {
    const now = this.options.now();
    for (const [key, canvases] of this.canvases) {
      const frames = String(this.framesDrawn(key));
      for (const canvas of canvases) {
        if (canvas.dataset.frames !== frames) canvas.dataset.frames = frames;
      }
    }
    for (const [key, track] of this.tracks) {
      if (track.live && now - track.lastDrawnAt > STALE_MS) {
        track.live = false;
        this.notify(key);
      }
    }
  };

  private ensureRunning(): void {
    this.refreshTimer ??= setInterval(this.refresh, REFRESH_MS);
    if (!this.socket && !this.connecting && this.reconnectTimer === null) void this.connect();
  }

  private scheduleIdleClose(): void {
    if (this.idleTimer !== null) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.canvases.size === 0) this.close();
    }, IDLE_CLOSE_MS);
  }

  private async connect(): Promise<void> {
    this.connecting = true;
    let url: string;
    try {
      url = await this.options.endpoint();
    } catch (error) {
      this.connecting = false;
      console.warn('no video endpoint yet:', error);
      this.scheduleReconnect();
      return;
    }
    this.connecting = false;
    if (this.closed) return;
    let socket: WebSocket;
    try {
      socket = this.options.createSocket(url);
    } catch (error) {
      console.warn('could not open the video socket:', error);
      this.scheduleReconnect();
      return;
    }
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    socket.onopen = () => {
      this.reconnectDelay = RECONNECT_MIN_MS;
    };
    socket.onmessage = (event: MessageEvent) => {
      if (event.data instanceof ArrayBuffer) this.handleMessage(event.data);
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      // A new connection starts every track at a keyframe again.
      for (const track of this.tracks.values()) this.resetTrack(track);
      this.scheduleReconnect();
    };
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer !== null) return;
    const delay = this.reconnectDelay;
    this.reconnectDelay = Math.min(this.reconnectDelay * 2, RECONNECT_MAX_MS);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.closed && !this.socket) void this.connect();
    }, delay);
  }
}

let shared: VideoHub | null = null;

/** The app's one video hub, connected to `media_endpoint()`. */
export function videoHub(): VideoHub {
  shared ??= new VideoHub({ endpoint: mediaEndpoint });
  return shared;
}
