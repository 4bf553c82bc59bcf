// The connection as text a shell, a dotenv reader or a program takes. Pure. Each format is safe
// for any value a secret may hold (validation refuses newlines and control characters; quotes,
// `$`, backticks and backslashes are all allowed and come out literal).

export type EnvFormat = 'sh' | 'dotenv' | 'json' | 'fish';
export const ENV_FORMATS: readonly EnvFormat[] = ['sh', 'dotenv', 'json', 'fish'];

/** POSIX sh: inside single quotes nothing is special; a quote is closed, escaped, reopened. */
export function shQuote(v: string): string {
  return `'${v.replaceAll("'", `'\\''`)}'`;
}

/** fish: inside single quotes only `\\` and `\'` are escapes. */
export function fishQuote(v: string): string {
  return `'${v.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

/**
 * Voice Mode's reader (≤ v7) takes `KEY=VALUE`, strips the line and one layer of matching quotes,
 * and has no escapes. So a value is written bare unless stripping or a stricter dotenv reader
 * would change it (spaces, `#`, quotes, `$`, backslashes, backticks, or nothing at all): then in
 * single quotes, which that reader removes and leaves the inside as it is.
 */
export function dotenvValue(v: string): string {
  return v === '' || /[\s#'"\\$`]/.test(v) ? `'${v}'` : v;
}

export function formatEnv(vars: ReadonlyArray<readonly [string, string]>, format: EnvFormat, target: string): string {
  switch (format) {
    case 'sh':
      return vars.map(([k, v]) => `export ${k}=${shQuote(v)}\n`).join('');
    case 'fish':
      return vars.map(([k, v]) => `set -gx ${k} ${fishQuote(v)}\n`).join('');
    case 'dotenv':
      return vars.map(([k, v]) => `${k}=${dotenvValue(v)}\n`).join('');
    case 'json':
      return `${JSON.stringify({ ...Object.fromEntries(vars), target })}\n`;
  }
}
