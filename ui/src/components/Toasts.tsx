import { createContext, useCallback, useContext, useMemo, useRef, useState } from 'react';

type Tone = 'info' | 'error';
/** A button on a toast (Join a session's room); pressing it closes the toast. */
export type ToastAction = { label: string; onClick: () => void; testId?: string };
type ToastOptions = { action?: ToastAction; durationMs?: number };
type Toast = { id: number; text: string; tone: Tone; action: ToastAction | null };
type Push = (text: string, tone?: Tone, options?: ToastOptions) => void;

const ToastContext = createContext<Push>(() => {});

const TOAST_MS = 5000;
/** A toast with a button stays longer: there is something to do with it. */
const ACTION_TOAST_MS = 60_000;

/** Short messages in a corner (notices, failed actions); they go away by themselves. */
export function ToastProvider({ children }: { children: React.ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const nextId = useRef(1);

  const dismiss = useCallback((id: number) => {
    setToasts((all) => all.filter((t) => t.id !== id));
  }, []);

  const push = useCallback<Push>(
    (text, tone = 'info', options = {}) => {
      const id = nextId.current++;
      const action = options.action ?? null;
      setToasts((all) => [...all.slice(-3), { id, text, tone, action }]);
      setTimeout(() => dismiss(id), options.durationMs ?? (action ? ACTION_TOAST_MS : TOAST_MS));
    },
    [dismiss],
  );

  const value = useMemo(() => push, [push]);
  return (
    <ToastContext.Provider value={value}>
      {children}
      <div className="toasts" aria-live="polite">
        {toasts.map((t) => (
          <div
            key={t.id}
            className={`toast toast--${t.tone}`}
            role={t.tone === 'error' ? 'alert' : 'status'}
            data-testid="toast"
          >
            <span>{t.text}</span>
            {t.action && (
              <button
                className="button button--small button--primary toast__action"
                onClick={() => {
                  dismiss(t.id);
                  t.action?.onClick();
                }}
                data-testid={t.action.testId ?? 'toast-action'}
              >
                {t.action.label}
              </button>
            )}
            <button className="toast__close" aria-label="Dismiss" onClick={() => dismiss(t.id)}>
              ×
            </button>
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}

/** Shows a toast. */
export function useToast(): Push {
  return useContext(ToastContext);
}
