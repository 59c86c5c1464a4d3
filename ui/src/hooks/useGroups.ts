import { useCallback, useEffect, useState } from 'react';
import { describeError, groupsView, onGroupsChanged, type GroupsChanged } from '../services/studyhall';

export type GroupsState =
  | { status: 'loading' }
  | { status: 'ready'; view: GroupsChanged }
  | { status: 'failed'; message: string };

/**
 * The groups as the app last told of them: asked for once, then each `groups-changed`
 * event (which carries the whole view) replaces them. `update` puts in a view a command
 * answered with ahead of its event; `retry` asks again after a failure.
 */
export function useGroups(): { state: GroupsState; update: (view: GroupsChanged) => void; retry: () => void } {
  const [state, setState] = useState<GroupsState>({ status: 'loading' });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let current = true;
    let heard = false;
    const stop = onGroupsChanged((view) => {
      heard = true;
      setState({ status: 'ready', view });
    });
    groupsView().then(
      // An event that came first is newer than this answer.
      (view) => current && !heard && setState({ status: 'ready', view }),
      (error: unknown) => current && !heard && setState({ status: 'failed', message: describeError(error) }),
    );
    return () => {
      current = false;
      stop();
    };
  }, [attempt]);

  const update = useCallback((view: GroupsChanged) => setState({ status: 'ready', view }), []);
  const retry = useCallback(() => {
    setState({ status: 'loading' });
    setAttempt((n) => n + 1);
  }, []);
  return { state, update, retry };
}
