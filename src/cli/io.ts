// Everything the CLI touches of the outside world, passed in so tests can drive `main` directly.

export interface Output {
  write(s: string): unknown;
}

export interface CliIo {
  readonly stdout: Output;
  readonly stderr: Output;
  /**
   * Reads one line from the terminal (for confirmation): undefined at end of input (Ctrl-D),
   * `{ interrupted: true }` on Ctrl-C. Never rejects.
   */
  readonly prompt?: (question: string) => Promise<string | undefined | { readonly interrupted: true }>;
  /** Both stdin and stdout are terminals: we may ask, and may draw progress. */
  readonly isTTY: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}
