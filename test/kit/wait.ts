// The one wait of the tests. Its own module so that test/helpers can use it without importing the
// whole kit (which re-exports them).

/**
 * Polls `cond` until it holds; fails naming `what` after `timeoutMs`. Tests wait for a condition,
 * never a fixed time: on a loaded machine everything takes longer. `what` may be a function,
 * called only on a timeout, so the message can carry what was seen meanwhile (a process's output,
 * a unit's state). A `cond` that throws ends the wait with its error (a process that exited first).
 */
export async function waitFor(
  what: string | (() => string | Promise<string>),
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
  intervalMs = 50,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : await what()}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
