import type { TileRef } from '../hooks/useViewReport';
import { useVideoTrack } from '../hooks/useVideoTrack';
import type { Participant } from '../services/types';
import type { LinkSignal } from '../state/linkQuality';
import { initials, isolate } from '../state/text';
import { CameraOffIcon, MicOffIcon } from './Icons';

/**
 * One person's camera, or their initials when the camera is off or no frames came yet.
 * `speaking`: the room's active speaker, highlighted; `talking`: speaking now (the relay's
 * `speakers`), marked more quietly.
 * `badges` (e.g. the room features' badges) go in the tile's top left corner; `link`,
 * bars for a connection that is not good, in the top right one. `viewRef` takes the tile
 * while the camera is on, to tell the relay it is on screen (hooks/useViewReport.ts).
 */
export function VideoTile({
  participant,
  speaking,
  talking = false,
  compact,
  badges,
  link = null,
  viewRef,
}: {
  participant: Participant;
  speaking: boolean;
  talking?: boolean;
  compact?: boolean;
  badges?: React.ReactNode;
  link?: LinkSignal | null;
  viewRef?: TileRef;
}) {
  const trackKey = `${participant.you ? 'self' : participant.identity}:camera`;
  const { ref, live } = useVideoTrack(participant.media.camera ? trackKey : null);
  const showVideo = participant.media.camera && live;
  const away = participant.presence !== 'active';
  return (
    <figure
      ref={participant.media.camera ? viewRef : undefined}
      className={`tile ${talking ? 'tile--talking' : ''} ${speaking ? 'tile--speaking' : ''} ${compact ? 'tile--compact' : ''}`}
      data-testid={participant.you ? 'tile-self' : `tile-${participant.identity}`}
      data-identity={participant.identity}
      data-speaking={speaking}
      data-talking={talking}
      data-camera={participant.media.camera}
      data-mic={participant.media.mic}
    >
      {participant.media.camera && (
        <canvas
          ref={ref}
          className={`tile__video ${showVideo ? 'is-live' : ''} ${participant.you ? 'tile__video--mirror' : ''}`}
          aria-label={`${participant.name}'s camera`}
        />
      )}
      {!showVideo && (
        <div className="tile__placeholder">
          <span className="avatar" aria-hidden="true">
            {initials(participant.name)}
          </span>
        </div>
      )}
      {badges && <div className="tile__badges">{badges}</div>}
      {link && <LinkBars signal={link} />}
      <figcaption className="tile__label">
        <span className="tile__name" title={participant.name}>
          <bdi data-testid="tile-name">{participant.name}</bdi>
          {participant.you && ' (you)'}
        </span>
        {participant.host && (
          <span className="badge badge--host" data-testid="host-badge">
            Host
          </span>
        )}
        {participant.presenter && (
          <span className="badge badge--presenter" data-testid="presenter-badge">
            Presenter
          </span>
        )}
        {away && <span className="badge">{participant.presence === 'on_break' ? 'On a break' : 'Away'}</span>}
        {!participant.media.mic && (
          <span className="tile__icon" title="Microphone off" data-testid="mic-off">
            <MicOffIcon />
          </span>
        )}
        {!participant.media.camera && (
          <span className="tile__icon" title="Camera off" data-testid="camera-off">
            <CameraOffIcon />
          </span>
        )}
      </figcaption>
    </figure>
  );
}

/** Signal bars, lit as the link is good for: two of three when fair, one when poor. */
function LinkBars({ signal }: { signal: LinkSignal }) {
  return (
    <span
      className={`link-bars link-bars--${signal.quality}`}
      role="img"
      aria-label={signal.label}
      title={signal.detail}
      data-testid="link-quality"
      data-quality={signal.quality}
    >
      <span className="link-bars__bar" />
      <span className="link-bars__bar" />
      <span className="link-bars__bar" />
    </span>
  );
}

/**
 * Someone's shared screen, large; `badges` as on their tile, `overlay` over the picture
 * (the room features' layers: annotations); `viewRef` as for a tile.
 */
export function ScreenStage({
  participant,
  badges,
  overlay,
  viewRef,
}: {
  participant: Participant;
  badges?: React.ReactNode;
  overlay?: React.ReactNode;
  viewRef?: TileRef;
}) {
  const key = `${participant.you ? 'self' : participant.identity}:screen`;
  const { ref, live } = useVideoTrack(key);
  return (
    <figure ref={viewRef} className="stage" data-testid="screen-stage" data-identity={participant.identity}>
      <canvas ref={ref} className={`stage__video ${live ? 'is-live' : ''}`} aria-label={`${participant.name}'s screen`} />
      {!live && (
        <div className="stage__placeholder muted">
          Waiting for {participant.you ? 'your' : `${isolate(participant.name)}'s`} screen…
        </div>
      )}
      {overlay && <div className="stage__overlay">{overlay}</div>}
      {badges && <div className="tile__badges">{badges}</div>}
      <figcaption className="tile__label">
        <span className="tile__name" title={participant.you ? undefined : participant.name}>
          {participant.you ? 'You are sharing your screen' : `${isolate(participant.name)}'s screen`}
        </span>
      </figcaption>
    </figure>
  );
}
