// Who called a command. The extension's own UI (the palette, its trees, notifications and the preview)
// wants an error shown and then forgotten; a script or another extension wants it back as a rejection, and
// shown too. Arguments our UI passes are marked here when they are made, so the guard never has to guess
// from their shape.
const fromOurUi = new WeakSet<object>();

/** Marks an argument the extension's own UI passes to a command (a tree node, a notification's button). */
export function uiArgument<T extends object>(argument: T): T {
  fromOurUi.add(argument);
  return argument;
}

/**
 * Whether a command was called by the extension's own UI: with no argument (the palette, a keybinding, a
 * walkthrough link) or with an argument marked by uiArgument. Anything else is a programmatic call.
 */
export function isUiCall(args: readonly unknown[]): boolean {
  const [first] = args;
  if (first === undefined) return true;
  return typeof first === 'object' && first !== null && fromOurUi.has(first);
}
