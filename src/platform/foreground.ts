// Runs a program in the foreground, as a shell would: stdio shared, SIGINT/SIGTERM/SIGHUP passed
// on to it (vm itself does not die of them while it runs), and its end reported as a shell does:
// its exit code, or 128+N when signal N ended it.

import { spawn } from 'node:child_process';
import { constants } from 'node:os';

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Resolves with the exit status; 127 (not found) or 126 (not executable) when it cannot start. */
export function runForeground(file: string, args: readonly string[], env: Readonly<Record<string, string | undefined>>, onStartError: (message: string) => void): Promise<number> {
  return new Promise((resolve) => {
    // Handlers first: the child runs as soon as it is forked, and whoever sees it start may
    // signal vm at once — before a handler, that would end vm instead of reaching the child.
    let child: ReturnType<typeof spawn> | undefined;
    let early: NodeJS.Signals | undefined;
    const forward = (sig: NodeJS.Signals) => () => {
      // `kill PID` or a supervisor reaches vm alone: pass it on. (A terminal's Ctrl-C reaches
      // the child directly too, being in the same process group so it can read the terminal;
      // it may then see it twice, as under tini or `npm exec`.)
      if (child === undefined) early = sig;
      else if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    };
    const handlers = FORWARDED.map((sig) => [sig, forward(sig)] as const);
    for (const [sig, h] of handlers) process.on(sig, h);
    // The secret is in `env` only: never in argv, where `ps` shows it to every user.
    child = spawn(file, args, { stdio: 'inherit', env: env as NodeJS.ProcessEnv });
    if (early !== undefined) child.kill(early);
    const done = (code: number) => {
      for (const [sig, h] of handlers) process.off(sig, h);
      resolve(code);
    };
    child.once('error', (e: NodeJS.ErrnoException) => {
      onStartError(`${file}: ${e.code === 'ENOENT' ? 'command not found' : e.code === 'EACCES' ? 'permission denied' : (e.code ?? e.message)}`);
      done(e.code === 'ENOENT' ? 127 : 126);
    });
    child.once('exit', (code, signal) => {
      if (signal !== null) done(128 + (constants.signals[signal] ?? 0));
      else done(code ?? 1);
    });
  });
}
