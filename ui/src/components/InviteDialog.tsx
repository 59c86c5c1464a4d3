import type { Invite } from '../services/types';
import { CopyField } from './CopyField';
import { Dialog } from './Dialog';

/** The hosted room's invite link and code, to copy. */
export function InviteDialog({ invite, onClose }: { invite: Invite; onClose: () => void }) {
  return (
    <Dialog
      title="Invite people"
      onClose={onClose}
      testId="invite-dialog"
      actions={
        <button className="button button--primary" onClick={onClose} data-autofocus>
          Done
        </button>
      }
    >
      <p className="muted">Anyone on your network can join with the link or the code.</p>
      <CopyField label="Invite link" value={invite.link} testId="invite-link" />
      <CopyField label="Code" value={invite.code} testId="invite-code" />
      <p className="muted small">Valid until {new Date(invite.expiresAt).toLocaleString()}.</p>
    </Dialog>
  );
}
