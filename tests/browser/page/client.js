// A small Studyhall browser client, written only from docs/protocol.md.
//
// window.studyhall.run({url, room, token}) joins the room over the signaling WebSocket
// (url is the full WebSocket URL, ws://HOST:PORT/ws), publishes the fake camera and
// microphone on the publish PeerConnection, and answers the relay's subscribe offers on the
// subscribe PeerConnection. window.studyhall.stats() reports what is flowing.
'use strict';

(() => {
  const t0 = performance.now();
  const now = () => Math.round(performance.now() - t0);

  const state = {
    ws: null,
    wsState: 'idle',
    closeInfo: null,
    joined: null, // the `joined` frame (without chat)
    participants: new Map(), // identity -> Participant
    pub: null, // RTCPeerConnection (publish)
    pubTracks: [], // [{mid, source, kind, trackId}]
    pubAnswered: false,
    sub: null, // RTCPeerConnection (subscribe)
    subOffers: 0,
    subAnswers: 0,
    subTracks: [], // tracks list of the latest subscribe_offer: [{mid, identity, source}]
    ontrack: [], // one record per ontrack event
    log: [], // signaling messages and errors
    errors: [], // error frames and local failures
    docMismatches: [], // things that did not behave as docs/protocol.md says
    speakingSeen: new Set(), // every identity a `speakers` frame named as speaking
    activeSeen: new Set(), // every identity a `speakers` frame named as the active speaker
    layersTold: {}, // mid → active, from the latest `publish_layers` naming it
  };

  function log(entry) {
    const e = { t: now(), ...entry };
    state.log.push(e);
    if (state.log.length > 500) state.log.splice(0, state.log.length - 500);
    const pre = document.getElementById('log');
    if (pre) pre.textContent += JSON.stringify(e) + '\n';
  }

  function fail(where, err) {
    const e = { where, message: String((err && err.message) || err) };
    state.errors.push(e);
    log({ dir: 'local', type: 'failure', ...e });
  }

  function mismatch(what) {
    state.docMismatches.push(what);
    log({ dir: 'local', type: 'doc_mismatch', what });
  }

  /** Summary of a frame for the log: SDP bodies are replaced by their size. */
  function summarize(msg) {
    const out = {};
    for (const [k, v] of Object.entries(msg)) {
      if (k === 'sdp' && typeof v === 'string') out.sdp_bytes = v.length;
      else if (k === 'token') out.token = '…';
      else if (k === 'chat') out.chat = { messages: (v.messages || []).length, has_more: v.has_more };
      else out[k] = v;
    }
    return out;
  }

  function send(msg) {
    log({ dir: 'out', ...summarize(msg) });
    state.ws.send(JSON.stringify(msg));
  }

  // ------------------------------------------------------------------ helpers

  /** "`tracks` lists every m-line that carries media now ... each with the `track_id` of
   *  its `a=msid`" (docs/protocol.md, subscribe_offer): find whose a track is. */
  function listedTrack(trackId, mid) {
    return (
      state.subTracks.find((t) => t.track_id === trackId) ||
      state.subTracks.find((t) => t.mid === mid) ||
      null
    );
  }

  /** Wait until ICE gathering is complete ("no trickle" in docs/protocol.md). */
  function gatheringComplete(pc, timeoutMs = 5000) {
    if (pc.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        pc.removeEventListener('icegatheringstatechange', check);
        reject(new Error(`ICE gathering not complete after ${timeoutMs} ms (state ${pc.iceGatheringState})`));
      }, timeoutMs);
      function check() {
        if (pc.iceGatheringState === 'complete') {
          clearTimeout(timer);
          pc.removeEventListener('icegatheringstatechange', check);
          resolve();
        }
      }
      pc.addEventListener('icegatheringstatechange', check);
    });
  }

  /** The ICE credentials and DTLS fingerprint of an SDP: they identify the remote endpoint. */
  function endpointOf(sdp) {
    const pick = (re) => {
      const m = re.exec(sdp || '');
      return m ? m[1].trim() : '';
    };
    return [pick(/^a=ice-ufrag:(.*)$/m), pick(/^a=fingerprint:(.*)$/m)].join(' ');
  }

  function candidatesIn(sdp) {
    return (sdp.match(/^a=candidate:.*$/gm) || []).map((l) => l.slice('a=candidate:'.length));
  }

  function watchPc(pc, name) {
    pc.addEventListener('connectionstatechange', () => log({ dir: 'local', type: `${name}_connection`, state: pc.connectionState }));
    pc.addEventListener('iceconnectionstatechange', () => log({ dir: 'local', type: `${name}_ice`, state: pc.iceConnectionState }));
  }

  // Pending replies, keyed by request_id.
  const waiters = new Map();
  function waitReply(requestId, timeoutMs) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(requestId);
        reject(new Error(`no reply to request ${requestId} within ${timeoutMs} ms`));
      }, timeoutMs);
      waiters.set(requestId, {
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  // ------------------------------------------------------------------ subscribe side

  let subChain = Promise.resolve();

  function ensureSub() {
    if (state.sub) return state.sub;
    const pc = new RTCPeerConnection({ iceServers: [] });
    watchPc(pc, 'sub');
    pc.ontrack = (ev) => {
      const track = ev.track;
      const mid = ev.transceiver ? ev.transceiver.mid : null;
      const listed = listedTrack(track.id, mid);
      const rec = {
        t: now(),
        kind: track.kind,
        trackId: track.id,
        mid,
        streamIds: ev.streams.map((s) => s.id),
        identity: listed ? listed.identity : null,
        source: listed ? listed.source : null,
        fromOffer: listed,
      };
      state.ontrack.push(rec);
      log({ dir: 'local', type: 'ontrack', ...rec });
      if (!listed) mismatch(`ontrack track id ${JSON.stringify(track.id)} (mid ${mid}) is in no subscribe_offer tracks list`);
      if (listed && listed.track_id !== track.id)
        mismatch(`track id ${track.id} differs from the offer's track_id ${listed.track_id} for mid ${mid}`);
      // Give the track a sink, like a real page would.
      const el = document.createElement(track.kind === 'video' ? 'video' : 'audio');
      el.muted = true;
      el.autoplay = true;
      el.playsInline = true;
      el.srcObject = new MediaStream([track]);
      el.dataset.trackId = track.id;
      document.getElementById('remote').appendChild(el);
      el.play().catch(() => {});
    };
    state.sub = pc;
    return pc;
  }

  async function onSubscribeOffer(msg) {
    state.subOffers++;
    state.subTracks = Array.isArray(msg.tracks) ? msg.tracks : [];
    // Different ICE credentials or DTLS fingerprint mean the relay made a new subscribe
    // connection (after a media_failed, "the relay creates a new one with the next change"):
    // answer it with a new RTCPeerConnection rather than renegotiating the old one.
    if (state.sub && state.sub.remoteDescription) {
      const before = endpointOf(state.sub.remoteDescription.sdp);
      const after = endpointOf(msg.sdp);
      if (before !== after) {
        log({ dir: 'local', type: 'sub_new_connection', before, after });
        state.sub.close();
        state.sub = null;
        state.subAnswers = 0;
      }
    }
    const pc = ensureSub();
    const first = state.subAnswers === 0;
    await pc.setRemoteDescription({ type: 'offer', sdp: msg.sdp });
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    // "wait for ICE gathering to complete before sending an offer or answer". When every
    // m-line is stopped (port 0; e.g. the last other publisher left), there is no transport
    // left to gather on, and the gathering state stays "new".
    const live = pc.getTransceivers().some((t) => t.currentDirection !== 'stopped' && !t.stopped);
    if (live) await gatheringComplete(pc);
    const sdp = pc.localDescription.sdp;
    log({ dir: 'local', type: 'sub_answer_ready', first, candidates: candidatesIn(sdp) });
    send({ type: 'subscribe_answer', sdp });
    state.subAnswers++;
    // Check the offer's `tracks` against its m-lines.
    const mids = new Set(pc.getTransceivers().map((t) => t.mid));
    for (const t of state.subTracks) if (!mids.has(t.mid)) mismatch(`subscribe_offer lists mid ${t.mid} that is not in the SDP`);
  }

  // ------------------------------------------------------------------ publish side

  async function publish() {
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: true,
      video: { width: 640, height: 480, frameRate: 30 },
    });
    const local = document.createElement('video');
    local.muted = true;
    local.autoplay = true;
    local.srcObject = stream;
    document.getElementById('local').appendChild(local);

    const pc = new RTCPeerConnection({ iceServers: [] });
    watchPc(pc, 'pub');
    state.pub = pc;
    const mic = stream.getAudioTracks()[0];
    const cam = stream.getVideoTracks()[0];
    if (!mic || !cam) throw new Error('getUserMedia gave no audio or no video track');
    // "The publish connection carries the client's own tracks (all sendonly)."
    const micT = pc.addTransceiver(mic, { direction: 'sendonly', streams: [stream] });
    const camT = pc.addTransceiver(cam, { direction: 'sendonly', streams: [stream] });
    // docs/protocol.md, "Two layers of the camera": the camera again at half its width
    // and height and a low bitrate, as a track of its own with `layer: "small"`.
    const smallT = pc.addTransceiver(cam.clone(), {
      direction: 'sendonly',
      streams: [stream],
      sendEncodings: [{ scaleResolutionDownBy: 2, maxBitrate: 90_000 }],
    });
    await pc.setLocalDescription(await pc.createOffer());
    await gatheringComplete(pc);
    const sdp = pc.localDescription.sdp;
    state.pubTracks = [
      { mid: micT.mid, source: 'microphone', kind: 'audio', trackId: mic.id },
      { mid: camT.mid, source: 'camera', kind: 'video', trackId: cam.id },
      { mid: smallT.mid, source: 'camera', layer: 'small', kind: 'video', trackId: smallT.sender.track.id },
    ];
    log({ dir: 'local', type: 'pub_offer_ready', candidates: candidatesIn(sdp) });
    const reply = waitReply('p1', 10000);
    send({
      type: 'publish_offer',
      request_id: 'p1',
      sdp,
      tracks: state.pubTracks.map(({ mid, source, layer }) => ({ mid, source, layer })),
    });
    const answer = await reply;
    if (answer.type !== 'publish_answer') throw new Error(`publish_offer answered with ${JSON.stringify(summarize(answer))}`);
    await pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
    state.pubAnswered = true;
    log({ dir: 'local', type: 'pub_answer_applied', relayCandidates: candidatesIn(answer.sdp) });
  }

  // ------------------------------------------------------------------ signaling

  function onMessage(ev) {
    if (typeof ev.data !== 'string') {
      fail('ws', 'relay sent a non-text frame');
      return;
    }
    let msg;
    try {
      msg = JSON.parse(ev.data);
    } catch (e) {
      fail('ws', `relay sent non-JSON: ${ev.data.slice(0, 200)}`);
      return;
    }
    log({ dir: 'in', ...summarize(msg) });
    switch (msg.type) {
      case 'joined':
        state.joined = { ...msg, chat: undefined };
        for (const p of msg.participants || []) state.participants.set(p.identity, p);
        break;
      case 'participant_joined':
      case 'participant_updated':
        state.participants.set(msg.participant.identity, msg.participant);
        break;
      case 'participant_left':
        state.participants.delete(msg.identity);
        break;
      case 'subscribe_offer':
        subChain = subChain.then(() => onSubscribeOffer(msg)).catch((e) => fail('subscribe_offer', e));
        break;
      case 'speakers': {
        // docs/protocol.md, `speakers`: `speaking` is a sorted list of identities; `active`
        // an identity, or absent.
        const speaking = msg.speaking;
        if (!Array.isArray(speaking) || speaking.some((s) => typeof s !== 'string')) {
          mismatch(`speakers.speaking is not a list of identities: ${JSON.stringify(speaking)}`);
          break;
        }
        if (speaking.some((s, i) => i > 0 && speaking[i - 1] >= s)) mismatch(`speakers.speaking is not sorted: ${JSON.stringify(speaking)}`);
        if (msg.active !== undefined && msg.active !== null && typeof msg.active !== 'string') mismatch(`speakers.active is not an identity: ${JSON.stringify(msg.active)}`);
        for (const s of speaking) state.speakingSeen.add(s);
        if (typeof msg.active === 'string') state.activeSeen.add(msg.active);
        break;
      }
      case 'publish_layers': {
        // docs/protocol.md, `publish_layers`: which of our published video tracks anyone
        // receives, by the mids of our publish_offer.
        const tracks = msg.tracks;
        if (!Array.isArray(tracks) || tracks.some((t) => typeof t.mid !== 'string' || typeof t.active !== 'boolean')) {
          mismatch(`publish_layers.tracks is not a list of {mid, active}: ${JSON.stringify(tracks)}`);
          break;
        }
        const video = new Set(state.pubTracks.filter((t) => t.kind === 'video').map((t) => t.mid));
        for (const t of tracks) {
          if (!video.has(t.mid)) mismatch(`publish_layers names mid ${t.mid}, not one of our video tracks`);
          state.layersTold[t.mid] = t.active;
        }
        break;
      }
      case 'error':
        state.errors.push({ where: 'relay', code: msg.code, message: msg.message, fatal: msg.fatal, request_id: msg.request_id });
        break;
      default:
        break;
    }
    if (msg.request_id && waiters.has(msg.request_id)) {
      const w = waiters.get(msg.request_id);
      waiters.delete(msg.request_id);
      w.resolve(msg);
    }
  }

  function connect(url) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      state.ws = ws;
      state.wsState = 'connecting';
      ws.onopen = () => {
        state.wsState = 'open';
        resolve(ws);
      };
      ws.onerror = () => {
        if (state.wsState === 'connecting') reject(new Error(`WebSocket to ${url} failed`));
      };
      ws.onclose = (ev) => {
        state.wsState = 'closed';
        state.closeInfo = { code: ev.code, reason: ev.reason, t: now() };
        log({ dir: 'local', type: 'ws_closed', code: ev.code, reason: ev.reason });
        for (const w of waiters.values()) w.reject(new Error(`WebSocket closed (${ev.code})`));
        waiters.clear();
      };
      ws.onmessage = onMessage;
    });
  }

  async function run({ url, room, token }) {
    await connect(url);
    const joinReply = waitReply('j1', 10000);
    send({
      type: 'join',
      room,
      token,
      protocol: 1,
      media: { mic: true, camera: true, screen: false },
      request_id: 'j1',
    });
    const joined = await joinReply;
    if (joined.type !== 'joined') throw new Error(`join answered with ${JSON.stringify(summarize(joined))}`);
    await publish();
    return { identity: joined.you.identity, participants: [...state.participants.keys()] };
  }

  // ------------------------------------------------------------------ stats

  function sourceOfPublishMid(mid) {
    const t = state.pubTracks.find((x) => x.mid === mid);
    return t ? t.source : null;
  }

  async function stats() {
    const out = {
      t: now(),
      ws: state.wsState,
      close: state.closeInfo,
      joined: !!state.joined,
      participants: [...state.participants.values()].map((p) => ({ identity: p.identity, media: p.media })),
      publish: null,
      subscribe: null,
      subTracks: state.subTracks,
      subOffers: state.subOffers,
      subAnswers: state.subAnswers,
      ontrack: state.ontrack,
      errors: state.errors,
      docMismatches: state.docMismatches,
      speakingSeen: [...state.speakingSeen].sort(),
      activeSeen: [...state.activeSeen].sort(),
      layersTold: state.layersTold,
    };
    if (state.pub) {
      const rep = await state.pub.getStats();
      const outbound = [];
      rep.forEach((s) => {
        if (s.type !== 'outbound-rtp') return;
        outbound.push({
          kind: s.kind,
          mid: s.mid,
          source: sourceOfPublishMid(s.mid),
          packetsSent: s.packetsSent,
          bytesSent: s.bytesSent,
          framesEncoded: s.framesEncoded,
          keyFramesEncoded: s.keyFramesEncoded,
          pliCount: s.pliCount,
          nackCount: s.nackCount,
          frameWidth: s.frameWidth,
          frameHeight: s.frameHeight,
          encoderImplementation: s.encoderImplementation,
        });
      });
      out.publish = {
        answered: state.pubAnswered,
        connectionState: state.pub.connectionState,
        iceConnectionState: state.pub.iceConnectionState,
        tracks: state.pubTracks,
        outbound,
      };
    }
    if (state.sub) {
      const rep = await state.sub.getStats();
      const codecs = new Map();
      rep.forEach((s) => {
        if (s.type === 'codec') codecs.set(s.id, s.mimeType);
      });
      const inbound = [];
      rep.forEach((s) => {
        if (s.type !== 'inbound-rtp') return;
        const listed = listedTrack(s.trackIdentifier, s.mid);
        inbound.push({
          kind: s.kind,
          mid: s.mid,
          trackIdentifier: s.trackIdentifier,
          identity: listed ? listed.identity : null,
          source: listed ? listed.source : null,
          listed: !!listed,
          codec: codecs.get(s.codecId) || null,
          packetsReceived: s.packetsReceived,
          packetsLost: s.packetsLost,
          bytesReceived: s.bytesReceived,
          framesDecoded: s.framesDecoded,
          keyFramesDecoded: s.keyFramesDecoded,
          framesDropped: s.framesDropped,
          frameWidth: s.frameWidth,
          frameHeight: s.frameHeight,
          framesPerSecond: s.framesPerSecond,
          nackCount: s.nackCount,
          pliCount: s.pliCount,
          totalSamplesReceived: s.totalSamplesReceived,
          concealedSamples: s.concealedSamples,
          jitter: s.jitter,
        });
      });
      out.subscribe = {
        connectionState: state.sub.connectionState,
        iceConnectionState: state.sub.iceConnectionState,
        inbound,
      };
    }
    return out;
  }

  function leave() {
    if (state.ws && state.wsState === 'open') send({ type: 'leave' });
  }

  // docs/protocol.md, `set_view`: the video tracks shown, by the mid of the subscribe
  // connection, with the tile's size in device pixels. `tiles` name them by identity and
  // source; the reply (`ack` or `error`) is returned.
  let views = 0;
  async function setView(tiles) {
    const tracks = [];
    for (const t of tiles) {
      const listed = state.subTracks.find((x) => x.identity === t.identity && x.source === t.source);
      if (!listed) throw new Error(`no forwarded track of ${t.identity}'s ${t.source} to show`);
      tracks.push({ mid: listed.mid, width: t.width, height: t.height });
    }
    const request_id = `v${++views}`;
    send({ type: 'set_view', request_id, tracks });
    const reply = await waitReply(request_id, 5000);
    if (reply.type !== 'ack' && reply.type !== 'error') mismatch(`set_view answered with ${reply.type}, not ack or error`);
    return reply;
  }

  window.studyhall = {
    run,
    stats,
    leave,
    setView,
    log: () => state.log,
    sdp: () => ({
      pubLocal: state.pub && state.pub.localDescription && state.pub.localDescription.sdp,
      pubRemote: state.pub && state.pub.remoteDescription && state.pub.remoteDescription.sdp,
      subRemote: state.sub && state.sub.remoteDescription && state.sub.remoteDescription.sdp,
      subLocal: state.sub && state.sub.localDescription && state.sub.localDescription.sdp,
    }),
  };
})();
