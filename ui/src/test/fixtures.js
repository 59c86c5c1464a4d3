// @ts-check
/**
 * What the UI's two stand-ins for the Rust side answer with: the vitest mock of the
 * service module (./serviceMock.ts) and the fake Tauri shell of the browser tests
 * (../../browser-tests/fake-tauri.js, which loads this file in the page). Plain
 * JavaScript so the page can load it as it is; typed with JSDoc and checked by
 * `npm run typecheck`, so a change to the IPC types (ui/src/bindings.ts) shows up here,
 * once, for both.
 *
 * Every builder returns a fresh object; `extra` overrides fields.
 */

/**
 * @import {
 *   AppInfo, ChatPage, DeviceList, FeatureSnapshot, Invite, MediaState, Participant,
 *   RaisedHand, RoomSnapshot, Settings,
 * } from '../services/types'
 */

/**
 * @param {Partial<AppInfo>} [extra]
 * @returns {AppInfo}
 */
export function appInfo(extra = {}) {
  return { name: 'Studyhall', version: '0.1.0', protocolVersion: 1, ...extra };
}

/**
 * The saved profile: the test pattern and tone, no recent rooms.
 * @param {Partial<Settings>} [extra]
 * @returns {Settings}
 */
export function settings(extra = {}) {
  return {
    displayName: 'Ada',
    camera: { kind: 'testPattern' },
    microphone: { kind: 'tone' },
    screen: { kind: 'testPattern' },
    speaker: null,
    recentRooms: [],
    ...extra,
  };
}

/**
 * No devices found (the synthetic ones are always there).
 * @param {Partial<DeviceList>} [extra]
 * @returns {DeviceList}
 */
export function devices(extra = {}) {
  return { cameras: [], microphones: [], screens: [], speakers: [], ...extra };
}

/**
 * Mic and camera on, no screen.
 * @param {Partial<MediaState>} [extra]
 * @returns {MediaState}
 */
export function media(extra = {}) {
  return { mic: true, camera: true, screen: false, ...extra };
}

/**
 * Someone else in the room, present, mic and camera on.
 * @param {string} identity
 * @param {string} name
 * @param {Partial<Participant>} [extra]
 * @returns {Participant}
 */
export function participant(identity, name, extra = {}) {
  return {
    identity,
    name,
    host: false,
    you: false,
    media: media(),
    presence: 'active',
    joinedAt: 1,
    ...extra,
  };
}

/**
 * @param {Partial<ChatPage>} [extra]
 * @returns {ChatPage}
 */
export function chatPage(extra = {}) {
  return { messages: [], hasMore: false, ...extra };
}

/**
 * @param {string} identity
 * @param {number} [raisedAt]
 * @returns {RaisedHand}
 */
export function raisedHand(identity, raisedAt = 1_795_000_000_000) {
  return { identity, raised_at: raisedAt };
}

/**
 * What the room features hold: no hands raised.
 * @param {Partial<FeatureSnapshot>} [extra]
 * @returns {FeatureSnapshot}
 */
export function features(extra = {}) {
  return { hands: [], ...extra };
}

/**
 * A hosted room's invite, as `host_room` returns it.
 * @param {string} relay like `192.168.1.20:7450`
 * @param {string} code like `K7QX-29FD`
 * @param {Partial<Invite>} [extra]
 * @returns {Invite}
 */
export function invite(relay, code, extra = {}) {
  return {
    link: `studyhall://join?relay=${encodeURIComponent(relay)}&code=${code}`,
    code: `${code}@${relay}`,
    relay,
    room: 'r1',
    expiresAt: Date.now() + 3_600_000,
    ...extra,
  };
}

/**
 * The room as `join_room` returns it: Ada (you, the host) and Bob, no chat, no hands.
 * @param {Partial<RoomSnapshot>} [extra]
 * @returns {RoomSnapshot}
 */
export function snapshot(extra = {}) {
  return {
    room: 'r1',
    title: 'Finals week',
    you: participant('ada-1', 'Ada', { you: true, host: true }),
    participants: [participant('bob-2', 'Bob', { joinedAt: 2 })],
    chat: chatPage(),
    hosting: null,
    maxChatBytes: 40,
    features: features(),
    ...extra,
  };
}
