// The document's polling window, shared by the poller and its progress model.

/** The document's window: "Poll every 2-5 seconds". */
export const MIN_POLL_INTERVAL_MS = 2_000;
export const MAX_POLL_INTERVAL_MS = 5_000;
export const DEFAULT_POLL_INTERVAL_MS = 3_000;
