import { createContext, useCallback, useContext, useMemo, useRef, useState } from 'react';

type Tone = 'info' | 'error';
type Toast = { id: number; text: string; tone: Tone };
type Push = (text: string, tone?: Tone) => void;

const ToastContext = createContext<Push>(() => {});

const TOAST_MS = 5000;

/** Short messages in a corner (notices, failed actions); they go away by themselves. */
export function ToastProvider({ children }: { children: React.ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const nextId = useRef(1);

  const dismiss = useCallback((id: number) => {
    setToasts((all) => all.filter((t) => t.id !== id));
  }, []);

  const push = useCallback<Push>(
    (text, tone = 'info') => {
      const id = nextId.current++;
      setToasts((all) => [...all.slice(-3), { id, text, tone }]);
      setTimeout(() => dismiss(id), TOAST_MS);
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
