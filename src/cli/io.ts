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
  /** Colour stdout: it is a terminal, NO_COLOR is unset (or FORCE_COLOR set); see color.ts. */
  readonly color?: boolean;
  /** The terminal's width, when stdout is one: progress lines stay inside it. */
  readonly columns?: number;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** The entry point vm runs from (bin/vm.cjs): hints name how to run it again (invocation.ts). */
  readonly script?: string;
  /** Rewrites "`vm …`" in a hint to the command that works here; main() sets it from `script`. */
  readonly hint?: (text: string) => string;
}
