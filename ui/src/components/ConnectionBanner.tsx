import { Spinner } from './Dialog';

/** The room's connection trouble: reconnecting, or lost with Rejoin and Back to start. */
export function ConnectionBanner({
  state,
  message,
  rejoining,
  rejoinError,
  onRejoin,
  onBack,
}: {
  state: 'reconnecting' | 'lost';
  message: string | null;
  rejoining: boolean;
  rejoinError: string | null;
  onRejoin: () => void;
  onBack: () => void;
}) {
  if (state === 'reconnecting') {
    return (
      <div className="banner banner--warning" role="status" data-testid="banner-reconnecting">
        <Spinner />
        <span>Connection lost — reconnecting…</span>
      </div>
    );
  }
  return (
    <div className="banner banner--error" role="alert" data-testid="banner-lost">
      <span>
        <strong>Disconnected from the room.</strong> {message ?? 'The connection could not be restored.'}
        {rejoinError && (
          <span className="banner__detail" data-testid="rejoin-error">
            {rejoinError}
          </span>
        )}
      </span>
      <span className="banner__actions">
        <button className="button button--primary button--small" onClick={onRejoin} disabled={rejoining} data-testid="rejoin">
          {rejoining && <Spinner />}
          Rejoin
        </button>
        <button className="button button--small" onClick={onBack} data-testid="back-to-start">
          Back to start
        </button>
      </span>
    </div>
  );
}
