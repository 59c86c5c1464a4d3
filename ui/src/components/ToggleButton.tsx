import { Spinner } from './Dialog';

/** A toolbar on/off button (mic, camera, screen); disabled with a spinner while pending. */
export function ToggleButton({
  testId,
  on,
  pending,
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
      className={`tool ${warn ? 'tool--off' : ''} ${on && offIsNormal ? 'tool--active' : ''}`}
      onClick={onClick}
      aria-pressed={on}
      aria-busy={pending}
      disabled={pending}
      data-testid={testId}
      data-on={on}
      data-pending={pending}
      title={on ? labelOn : labelOff}
    >
      {pending ? <Spinner /> : on ? iconOn : iconOff}
      <span>{on ? labelOn : labelOff}</span>
    </button>
  );
}
