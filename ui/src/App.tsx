import { useEffect, useState } from 'react';
import { describeError, getAppInfo, type AppInfo } from './services/studyhall';

type AppInfoState =
  | { status: 'loading' }
  | { status: 'ready'; info: AppInfo }
  | { status: 'failed'; message: string };

/** Start screen: who we are and which versions are running. */
export function App() {
  const [appInfo, setAppInfo] = useState<AppInfoState>({ status: 'loading' });

  useEffect(() => {
    // Ignore a reply that arrives after unmount (StrictMode mounts effects twice).
    let current = true;
    getAppInfo().then(
      (info) => {
        if (current) setAppInfo({ status: 'ready', info });
      },
      (error: unknown) => {
        if (current) setAppInfo({ status: 'failed', message: describeError(error) });
      },
    );
    return () => {
      current = false;
    };
  }, []);

  return (
    <main className="start">
      <div className="start__card">
        <BookMark />
        <h1 className="start__title">Studyhall</h1>
        <p className="start__tagline">Study together on video</p>
      </div>
      <footer className="start__footer">
        <AppInfoLine state={appInfo} />
      </footer>
    </main>
  );
}

function AppInfoLine({ state }: { state: AppInfoState }) {
  switch (state.status) {
    case 'loading':
      return <p className="muted">Connecting to the app…</p>;
    case 'ready':
      return (
        <p className="muted">
          Version {state.info.version} · protocol {state.info.protocol_version}
        </p>
      );
    case 'failed':
      return (
        <p className="error" role="alert">
          Could not reach the Studyhall app: {state.message} Open this screen from the
          Studyhall desktop app.
        </p>
      );
  }
}

/** The app icon's open book, drawn inline so it follows the colour scheme. */
function BookMark() {
  return (
    <svg className="start__mark" viewBox="0 0 64 64" aria-hidden="true">
      <rect x="2" y="2" width="60" height="60" rx="13" className="start__mark-tile" />
      <path d="M13 14 L31 18 L31 46 L13 46 Z M33 18 L51 14 L51 46 L33 46 Z" />
      <rect x="19" y="49" width="26" height="2.5" />
    </svg>
  );
}
