import { useEffect, useState } from 'react';
import { hostUpload, type HostUpload } from '../services/studyhall';
import { HOST_UPLOAD_POLL_MS, uploadNote, uploadText } from '../state/hostUpload';

/**
 * The host's upload, for the room's subtitle: "Your upload: 12.3 of 25 Mbit/s", and a note
 * when the relay turned video down to stay within it. Asks `host_upload` now and every
 * 3 s while mounted (the room screen mounts it while we host). A failed ask changes
 * nothing shown and is only logged; the next one tries again. Nothing shows until an
 * answer came, nor when this machine hosts nothing.
 */
export function HostUploadStatus() {
  const [upload, setUpload] = useState<HostUpload | null>(null);
  useEffect(() => {
    let stopped = false;
    let asking = false;
    const ask = () => {
      // A slow answer is not asked over: one at a time, in order.
      if (asking) return;
      asking = true;
      hostUpload()
        .then(
          (answer) => {
            if (!stopped) setUpload(answer);
          },
          (error: unknown) => console.debug('host_upload failed', error),
        )
        .finally(() => {
          asking = false;
        });
    };
    ask();
    const id = setInterval(ask, HOST_UPLOAD_POLL_MS);
    return () => {
      stopped = true;
      clearInterval(id);
    };
  }, []);

  if (upload === null) return null;
  const note = uploadNote(upload);
  return (
    <span className="host-upload" data-testid="host-upload">
      {' · '}
      <span data-testid="host-upload-rate">{uploadText(upload)}</span>
      {note && (
        <>
          {' · '}
          <span className="host-upload__note" title={note.detail} data-testid="host-upload-note">
            {note.text}
          </span>
        </>
      )}
    </span>
  );
}
