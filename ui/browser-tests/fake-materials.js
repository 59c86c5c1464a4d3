// The materials of the fake Tauri shell (fake-tauri.js imports this module in the page):
// the room's shared files as the relay keeps them (protocol `materials.rs`, relay
// `room/features/materials.rs`: who may upload, share and delete, the limits, each
// refused with a message naming it) and the app's transfers (`upload_material`,
// `download_material`, `cancel_transfer`, `material_preview`, `pick_material_file`),
// which report progress as `material-transfer` events, as the app does.
//
// A transfer moves on by itself, `transferSteps` reports `transferStepMs` apart (config),
// unless the test holds it (`hold = true`, then `step(id)`); it ends in `done`, or in
// `failed` with the relay's message, or in `cancelled`.
//
// Config (window.__FAKE_CONFIG__): materials (the room's MaterialsState, partly:
// {items, anyone_uploads, max_file_bytes, quota_bytes, uploads_at_once}; and previews:
// what `material_preview` answers for a file, by id, e.g. a PDF's bytes as a
// `data:application/pdf;base64,…` URL), files (the
// local files the app can read: {path: size}), picks (what the file picker answers, in
// turn; then null), saveDir (where the save dialog saves; null: the user cancels it),
// transferSteps, transferStepMs.
// Test-only: never part of the app bundle.

const MAX_PREVIEW_BYTES = 8 * 1024 * 1024;
/** A 1×1 PNG: what `material_preview` answers for a picture. */
const PIXEL_PNG =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

/** A blank page: what `material_preview` answers for a PDF the test gave no bytes for. */
const BLANK_PDF = `data:application/pdf;base64,${btoa(
  [
    '%PDF-1.4',
    '1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj',
    '2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj',
    '3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >> endobj',
    'trailer << /Root 1 0 R >>',
    '%%EOF',
  ].join('\n'),
)}`;

/** The type the relay would find in the content: here, from the name. */
const TYPES = {
  pdf: 'application/pdf',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  txt: 'text/plain',
  md: 'text/markdown',
  zip: 'application/zip',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
};

const baseName = (path) => path.split(/[/\\]/).filter(Boolean).at(-1) ?? path;
const hex = (n) => Array.from(crypto.getRandomValues(new Uint8Array(n)), (b) => b.toString(16).padStart(2, '0')).join('');

/**
 * The materials of a fake room. `shell` is what the shell shares: `me`, `myName()`,
 * `host()` (whether the page hosts), `presents(identity)` (a host or a presenter now),
 * `nameOf(identity)`, `tell(event)` (a feature event to the page), `transfer(t)` (a
 * `material-transfer` event) and `chat(message)` (a chat message the relay posts, its
 * `seq` filled in).
 */
export function fakeMaterials(shell, config = {}) {
  const { me, myName, host, presents, nameOf, tell, transfer, chat } = shell;
  const given = config.materials || {};
  const room = {
    items: structuredClone(given.items || []),
    anyone_uploads: given.anyone_uploads ?? false,
    max_file_bytes: given.max_file_bytes ?? 104_857_600,
    quota_bytes: given.quota_bytes ?? 1_073_741_824,
    uploads_at_once: given.uploads_at_once ?? 2,
  };
  const previews = { ...(given.previews || {}) };
  const files = { ...(config.files || {}) };
  const picks = [...(config.picks || [])];
  const saveDir = config.saveDir === undefined ? '/home/ada/Downloads' : config.saveDir;
  const steps = config.transferSteps ?? 4;
  const stepMs = config.transferStepMs ?? 80;
  /** Transfers under way, by id: {t (the last event), timer, finish()}. */
  const running = new Map();
  const used = () => room.items.reduce((n, m) => n + m.size, 0);

  const api = {
    /** While true, transfers wait for `step(id)`. */
    hold: false,
    snapshot: () => ({ ...structuredClone(room), used_bytes: used() }),
  };

  /** Posts a file's chat message, then tells everyone (the sharer's copy with `requestId`). */
  function shareFile(material, requestId) {
    chat({
      from: material.by,
      name: material.by_name,
      text: material.name,
      ts: Date.now(),
      clientMsgId: `material-${material.id}`,
      deleted: false,
      attachment: { id: material.id, name: material.name, size: material.size, mime: material.mime },
    });
    const event = { type: 'material_added', material: structuredClone(material), used_bytes: used() };
    if (requestId) event.request_id = requestId;
    tell(event);
  }

  function report(id, fields) {
    const entry = running.get(id);
    if (!entry) return;
    entry.t = { ...entry.t, ...fields };
    transfer(structuredClone(entry.t));
  }

  /** Moves a transfer on by one step; the last one ends it. */
  function step(id) {
    const entry = running.get(id);
    if (!entry) return false;
    clearTimeout(entry.timer);
    entry.count += 1;
    if (entry.count >= steps) {
      running.delete(id);
      entry.finish();
      return true;
    }
    report(id, { done: Math.floor((entry.t.total * entry.count) / steps) });
    schedule(id);
    return true;
  }

  function schedule(id) {
    const entry = running.get(id);
    if (!entry || api.hold) return;
    entry.timer = setTimeout(() => step(id), stepMs);
  }

  /**
   * Starts a transfer that ends with `finish(id, t)` after its steps; or, refused (the
   * relay's message), fails after its first step's time.
   */
  function start(base, finish, refusal = null) {
    const id = `t${hex(6)}`;
    const t = { id, done: 0, error: null, material: null, path: null, state: 'running', ...base };
    const end = refusal === null ? () => finish(id, t) : () => fail(id, t, refusal);
    running.set(id, { t, count: refusal === null ? 0 : steps - 1, timer: null, finish: end });
    transfer(structuredClone(t));
    schedule(id);
    return id;
  }

  function fail(id, t, error) {
    transfer({ ...t, state: 'failed', error });
  }

  /** What the relay answers an upload of `size` bytes by the page (null: it takes it). */
  function uploadRefusal(size) {
    if (!presents(me) && !room.anyone_uploads) {
      return '403 forbidden: only the host and presenters upload files to this room (a host can allow everyone)';
    }
    if (size > room.max_file_bytes) {
      return `the file is ${size} bytes; the limit is ${room.max_file_bytes} (max_upload_bytes)`;
    }
    if (used() + size > room.quota_bytes) {
      return `the room's files take ${used()} bytes; ${size} more would pass its quota of ${room.quota_bytes} (room_materials_quota_bytes)`;
    }
    const uploading = [...running.values()].filter((e) => e.t.kind === 'upload').length;
    if (uploading >= room.uploads_at_once) {
      return `${uploading} uploads of yours are under way; the limit is ${room.uploads_at_once} at once (uploads_at_once)`;
    }
    return null;
  }

  const commands = {
    pick_material_file: () => picks.shift() ?? null,
    upload_material: ({ path }) => {
      if (!Object.hasOwn(files, path)) {
        throw { kind: 'invalidInput', message: `Cannot read ${path}: No such file or directory (os error 2)` };
      }
      const size = files[path];
      const name = baseName(path);
      // The relay answers at once (the size is in the request's headers); the app tells of
      // it as the transfer's failure.
      const refusal = uploadRefusal(size);
      return start(
        { kind: 'upload', name, total: size, path },
        (tid, t) => {
          const ext = /\.([a-z0-9]+)$/i.exec(name)?.[1]?.toLowerCase();
          const material = {
            id: hex(16),
            name,
            size,
            mime: TYPES[ext] || 'application/octet-stream',
            sha256: hex(32),
            by: me,
            by_name: myName(),
            at: Date.now(),
          };
          room.items.push(material);
          // The app shares it (`material_share`): the chat message, then `material_added`.
          shareFile(material, `share-${material.id}`);
          transfer({ ...t, done: size, total: size, state: 'done', material });
        },
        refusal,
      );
    },
    download_material: ({ material, directory }) => {
      const dir = directory ?? saveDir;
      if (dir === null) return null;
      const to = `${dir}/${material.name}`;
      return start({ kind: 'download', name: material.name, total: material.size, material, path: to }, (tid, t) => {
        if (!room.items.some((m) => m.id === material.id)) {
          return fail(tid, t, `404 not_found: no file \`${material.id}\` in this room`);
        }
        transfer({ ...t, done: material.size, state: 'done' });
      });
    },
    cancel_transfer: ({ id, kind, name }) => {
      const entry = running.get(id);
      if (!entry) return false;
      clearTimeout(entry.timer);
      running.delete(id);
      transfer({ id, kind, name, done: 0, total: 0, state: 'cancelled', error: null, material: null, path: null });
      return true;
    },
    // As the app: a picture or a PDF (by the type the relay found) of at most 8 MiB.
    material_preview: ({ material }) => {
      const pdf = material.mime === 'application/pdf';
      if (!(material.mime.startsWith('image/') || pdf) || material.size > MAX_PREVIEW_BYTES) return null;
      if (Object.hasOwn(previews, material.id)) return previews[material.id];
      return pdf ? BLANK_PDF : PIXEL_PNG;
    },
  };

  const requests = {
    material_delete: ({ id }) => {
      const m = room.items.find((x) => x.id === id);
      if (!m) throw { kind: 'refused', message: `not_found: no file \`${id}\` in this room` };
      if (!presents(me) && m.by !== me) {
        throw { kind: 'refused', message: 'forbidden: only the host, presenters and whoever shared a file can delete it' };
      }
      room.items = room.items.filter((x) => x.id !== id);
      tell({ type: 'material_removed', id, by: me, used_bytes: used() });
    },
    materials_options: ({ anyone_uploads }) => {
      if (!host()) throw { kind: 'refused', message: 'forbidden: `materials_options` needs the `host` grant' };
      room.anyone_uploads = !!anyone_uploads;
      tell({ type: 'materials_access', anyone_uploads: room.anyone_uploads, by: me });
    },
  };

  return Object.assign(api, {
    commands,
    requests,
    /** Moves a held transfer on by one report (the last ends it). */
    step,
    /** Lets held transfers move on by themselves again. */
    release() {
      api.hold = false;
      for (const id of running.keys()) schedule(id);
    },
    /** Another participant (`by`) shares a file: `{name, size, mime}`; returns its id. */
    share(file, by, name = nameOf(by)) {
      const material = {
        id: hex(16),
        size: 1000,
        mime: 'application/pdf',
        sha256: hex(32),
        at: Date.now(),
        ...file,
        by,
        by_name: name,
      };
      room.items.push(material);
      shareFile(material);
      return material.id;
    },
    /** Another host or presenter (`by`) deletes a file. */
    remove(id, by) {
      room.items = room.items.filter((x) => x.id !== id);
      tell({ type: 'material_removed', id, by, used_bytes: used() });
    },
    /** The files as stored, and the transfers under way (ids). */
    stored: () => structuredClone(room.items),
    running: () => [...running.keys()],
  });
}
