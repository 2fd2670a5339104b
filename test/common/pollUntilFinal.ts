// For the callers that want to await the end of a run (tests, the bench, the soak): the Poller reports
// through one callback, and the extension's own consumer never waits, so this wrapper lives with the tests.
import {
  isFinalUpdate,
  type FinalPollUpdate,
  type Poller,
  type PollTarget,
  type PollUpdate,
  type TrackOptions,
} from '../../src/core/poller';
import type { RunStatusReply } from '../../src/core/runReplies';

export interface FollowedRun {
  /** Every update of the run so far, in order; the final one last once it came. */
  readonly updates: PollUpdate[];
  /** The final update (completed, failed, gone or stopped). Never settles if the run is untracked first. */
  readonly final: Promise<FinalPollUpdate>;
  /** The final update once it came: for tests that move time by hand and look without awaiting. */
  readonly ended: FinalPollUpdate | undefined;
}

/**
 * Tracks `target` and collects its updates. `options.onUpdate`, when given, still sees each update as it
 * comes (before it is collected). Throws as Poller.track does (a disposed poller, a run tracked twice).
 */
export function followToEnd(
  poller: Poller,
  target: PollTarget,
  options: Omit<TrackOptions, 'onUpdate'> & { onUpdate?: TrackOptions['onUpdate'] } = {},
): FollowedRun {
  const updates: PollUpdate[] = [];
  let ended: FinalPollUpdate | undefined;
  let resolve: (update: FinalPollUpdate) => void = () => undefined;
  const final = new Promise<FinalPollUpdate>((settle) => (resolve = settle));
  const { onUpdate, ...trackOptions } = options;
  poller.track(target, {
    ...trackOptions,
    onUpdate: (update) => {
      onUpdate?.(update);
      updates.push(update);
      if (isFinalUpdate(update)) {
        ended = update;
        resolve(update);
      }
    },
  });
  return {
    updates,
    final,
    get ended() {
      return ended;
    },
  };
}

/** The reply FLORA sent with a final update, or undefined for the poller's own verdicts (gone, stopped). */
export function finalReplyOf(update: FinalPollUpdate | undefined): RunStatusReply | undefined {
  return update?.kind === 'completed' || update?.kind === 'failed' ? update.reply : undefined;
}
