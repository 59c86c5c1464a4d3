import type { Participant } from '../services/types';
import { initials } from '../state/text';
import { CameraIcon, CameraOffIcon, MicIcon, MicOffIcon } from './Icons';

const NOBODY: ReadonlySet<string> = new Set();

/**
 * Everyone in the room, one row each; a host can remove the others. The active speaker's
 * avatar (`speakingIdentity`) is highlighted, those speaking now (`talking`) are marked
 * more quietly. `badges` adds what else a row shows (e.g. the room features' badges);
 * `actions` the controls under the name of everyone but hosts (make someone a presenter,
 * let them speak).
 */
export function PeopleList({
  people,
  isHost,
  speakingIdentity,
  talking = NOBODY,
  onKick,
  badges,
  actions,
}: {
  people: Participant[];
  isHost: boolean;
  speakingIdentity: string | null;
  talking?: ReadonlySet<string>;
  onKick: (p: Participant) => void;
  badges?: (p: Participant) => React.ReactNode;
  actions?: (p: Participant) => React.ReactNode;
}) {
  return (
    <ul className="people" data-testid="people-list">
      {people.map((p) => (
        <li key={p.identity} className="person" data-testid={`person-${p.you ? 'self' : p.identity}`}>
          <span
            className={`avatar avatar--small ${talking.has(p.identity) ? 'avatar--talking' : ''} ${speakingIdentity === p.identity ? 'avatar--speaking' : ''}`}
            data-speaking={speakingIdentity === p.identity}
            data-talking={talking.has(p.identity)}
          >
            {initials(p.name)}
          </span>
          <span className="person__main">
            <span className="person__name" title={p.name}>
              <bdi data-testid="person-name">{p.name}</bdi>
              {p.you && <span className="muted"> (you)</span>}
              {p.host && <span className="badge badge--host">Host</span>}
              {p.presenter && (
                <span className="badge badge--presenter" data-testid="presenter-badge">
                  Presenter
                </span>
              )}
            </span>
            {badges && <span className="person__badges">{badges(p)}</span>}
            {actions && !p.host && <span className="person__actions">{actions(p)}</span>}
          </span>
          <span className="person__icons">
            {p.media.mic ? <MicIcon className="icon icon--muted" /> : <MicOffIcon className="icon icon--warn" />}
            {p.media.camera ? <CameraIcon className="icon icon--muted" /> : <CameraOffIcon className="icon icon--warn" />}
          </span>
          {isHost && !p.you && (
            <button className="button button--small button--danger-text" onClick={() => onKick(p)} data-testid={`kick-${p.identity}`}>
              Remove
            </button>
          )}
        </li>
      ))}
    </ul>
  );
}
