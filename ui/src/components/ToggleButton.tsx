import { Spinner } from './Dialog';

/**
 * A toolbar on/off button (mic, camera, screen); disabled with a spinner while pending,
 * and disabled with `locked` as its tooltip while it may not be turned on.
 */
export function ToggleButton({
  testId,
  on,
  pending,
  locked = null,
  onClick,
  labelOn,
  labelOff,
  iconOn,
  iconOff,
  offIsNormal,
}: {
  testId: string;
  on: boolean;
  pending: boolean;
  /** Why it may not be turned on now; null when it may. */
  locked?: string | null;
  onClick: () => void;
  labelOn: string;
  labelOff: string;
  iconOn: React.ReactNode;
  iconOff: React.ReactNode;
  offIsNormal?: boolean;
}) {
  const warn = !on && !offIsNormal;
  return (
    <button
      className={`tool ${warn ? 'tool--off' : ''} ${on && offIsNormal ? 'tool--active' : ''} ${locked ? 'tool--locked' : ''}`}
      onClick={onClick}
      aria-pressed={on}
      aria-busy={pending}
      disabled={pending || locked !== null}
      data-testid={testId}
      data-on={on}
      data-pending={pending}
      data-locked={locked !== null}
      title={locked ?? (on ? labelOn : labelOff)}
    >
      {pending ? <Spinner /> : on ? iconOn : iconOff}
      <span>{on ? labelOn : labelOff}</span>
    </button>
  );
}
