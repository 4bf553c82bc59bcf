// argv → command. The only module that knows about argv and exit codes; commands are loaded on
// demand so `vm plan` never pays for what only `vm apply` needs.

import { Command, CommanderError } from 'commander';
import { EXIT, reportError } from './exit.js';
import { hinter, invocation } from './invocation.js';
import type { CliIo } from './io.js';

// bin/vm.cjs decides colour with this before calling main.
export { colorWanted } from './color.js';

export async function main(argv: readonly string[], given: CliIo): Promise<number> {
  // Hints ("run `vm plan`") name the command that works here (invocation.ts); `--json` stays
  // data and says `vm`.
  const io: CliIo = { ...given, hint: given.hint ?? hinter(() => (given.script === undefined ? 'vm' : invocation(given.script, given.env, given.cwd))) };
  const hint = io.hint ?? ((s: string) => s);
  let code: number = EXIT.ok;
  const run = (fn: () => Promise<number>) => async () => {
    code = await fn();
  };
  const program = new Command('vm')
    .description('Keeps Voice Mode services (LiveKit, whisper, kokoro, …) exactly as voicemode.services.yaml says.')
    .version(VERSION, '-V, --version')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(hint(s)), writeErr: (s) => io.stderr.write(hint(s)) })
    .showHelpAfterError('(run `vm --help` for usage)');
  const file = ['-f, --file <path>', 'the desired-state file (default: search, see README)'] as const;

  program
    .command('plan')
    .description('show the steps apply would take, and why')
    .option(...file)
    .option('--json', 'print the plan as JSON')
    .option('--detailed-exitcode', 'exit 2 when changes are pending')
    .option('--force', 'plan as `apply --force` would: overwrite files vm never wrote (keeping backups)')
    .action(async (o: { file?: string; json?: boolean; detailedExitcode?: boolean; force?: boolean }) => {
      await run(async () => (await import('./commands/plan.js')).planCommand(io, o))();
    });
  program
    .command('apply')
    .description('take the steps: install, configure, start, and wait until healthy')
    .option(...file)
    .option('--json', 'print the result as JSON')
    .option('-y, --yes', 'do not ask for confirmation (required without a terminal)')
    .option('--no-rollback', 'when a change fails, leave it as it is (for debugging) instead of going back')
    .option('--force', 'overwrite files at managed paths that vm never wrote (each kept as NAME.vm-backup-TIMESTAMP)')
    .option('--lock-timeout <duration>', 'how long to wait for another vm that is applying (500ms, 30s, 2m)', '30s')
    .option('--watch', 'keep reconciling: the same as `vm watch`')
    .action(async (o: { file?: string; json?: boolean; yes?: boolean; rollback?: boolean; force?: boolean; lockTimeout?: string; watch?: boolean }) => {
      if (o.watch === true) {
        await run(async () => (await import('./commands/watch.js')).watchCommand(io, { ...(o.file === undefined ? {} : { file: o.file }), json: o.json === true, lockTimeout: o.lockTimeout ?? '30s' }))();
        return;
      }
      await run(async () => (await import('./commands/apply.js')).applyCommand(io, o))();
    });
  program
    .command('watch')
    .description('keep reconciling: on every save of the file, and every --interval to heal drift')
    .option(...file)
    .option('--json', 'one JSON event per line')
    .option('--interval <duration>', 'how often to observe everything and heal drift', '30s')
    .option('--debounce <duration>', 'wait this long after a save before reconciling', '200ms')
    .option('--max-failures <n>', 'give up on a change after this many failures in a row, until the next edit', '5')
    .option('--lock-timeout <duration>', 'how long to wait for another vm that is applying', '30s')
    .option('--install-service', 'run `vm watch` itself as a user service (systemd or launchd), at login')
    .option('--uninstall-service', 'remove that service (LiveKit keeps running)')
    .action(async (o: import('./commands/watch.js').WatchFlags) => {
      await run(async () => (await import('./commands/watch.js')).watchCommand(io, o))();
    });
  program
    .command('status')
    .description('show each service: binary, config, unit, running, healthy')
    .option(...file)
    .option('--json', 'print the status as JSON')
    .action(async (o: { file?: string; json?: boolean }) => {
      await run(async () => (await import('./commands/status.js')).statusCommand(io, o))();
    });
  program
    .command('discover')
    .description("show what answers here (declared services and the well-known ports), and Voice Mode's provider lists")
    .option(...file)
    .option('--json', 'print it as JSON')
    .action(async (o: { file?: string; json?: boolean }) => {
      await run(async () => (await import('./commands/discover.js')).discoverCommand(io, o))();
    });
  program
    .command('validate')
    .description('check the desired-state file and exit')
    .option(...file)
    .action(async (o: { file?: string }) => {
      await run(async () => (await import('./commands/validate.js')).validateCommand(io, o))();
    });
  program
    .command('render')
    .description('print the desired state a host gets from the file (its hosts: entries applied), secrets (sensitive); changes and observes nothing')
    .option(...file)
    .option('--host <name>', 'the host name to match hosts: entries against (default: this one, or VOICEMODE_HOSTNAME)')
    .option('--json', 'print it as JSON')
    .action(async (o: { file?: string; host?: string; json?: boolean }) => {
      await run(async () => (await import('./commands/render.js')).renderCommand(io, o))();
    });
  program
    .command('init')
    .description('write the default desired-state file, with comments')
    .option('-f, --file <path>', 'where to write it', 'voicemode.services.yaml')
    .option('--force', 'overwrite an existing file')
    .action(async (o: { file: string; force?: boolean }) => {
      await run(async () => (await import('./commands/init.js')).initCommand(io, o))();
    });
  const target = ['--target <target>', 'which server: auto (local when healthy, else the fallback), local or fallback', 'auto'] as const;
  program
    .command('env')
    .description('print LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET for a client (eval "$(vm env)")')
    .argument('[service]', 'the service (default: the first with API keys, livekit)')
    .option(...file)
    .option(...target)
    .option('--format <format>', 'sh, dotenv, json or fish', 'sh')
    .option('--remote', "the URL for your other devices: LiveKit on the tailnet (expose: in the file)")
    .action(async (service: string | undefined, o: import('./commands/env.js').EnvFlags) => {
      await run(async () => (await import('./commands/env.js')).envCommand(io, service, o))();
    });
  program
    .command('exec')
    .description('run COMMAND with LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET in its environment')
    .usage('[options] -- COMMAND [ARGS...]')
    .argument('<command...>', 'the program and its arguments, after --')
    .option(...file)
    .option(...target)
    .action(async (command: string[], o: { file?: string; target?: string }) => {
      await run(async () => (await import('./commands/exec.js')).execCommand(io, command, o))();
    });
  program
    .command('token')
    .description("mint an access token with the chosen server's key (the JWT alone, or --json)")
    .option(...file)
    .option('--room <name>', 'the room it may join (required for join and admin)')
    .option('--identity <id>', 'the participant identity (default vm-USER-XXXX)')
    .option('--name <name>', 'the participant name shown to others')
    .option('--ttl <duration>', 'how long it is valid: 30s, 10m, 6h (at most 24h)', '6h')
    .option('--grant <list>', 'comma-separated: join, publish, subscribe, publish-data, list, create, admin', 'join,publish,subscribe,publish-data')
    .option(...target)
    .option('--json', 'print access_token, url, identity, name, room, grants, expires_at')
    .option('--remote', "the URL for your other devices: LiveKit on the tailnet (expose: in the file)")
    .action(async (o: import('../ops/token.js').TokenFlags & { file?: string; target?: string; json?: boolean; remote?: boolean }) => {
      await run(async () => (await import('./commands/token.js')).tokenCommand(io, o))();
    });
  program
    .command('rooms')
    .description("list the chosen server's rooms through its room API (proves the keys work)")
    .option(...file)
    .option(...target)
    .option('--json', 'print them as JSON')
    .action(async (o: { file?: string; target?: string; json?: boolean }) => {
      await run(async () => (await import('./commands/rooms.js')).roomsCommand(io, o))();
    });
  program
    .command('web')
    .description('serve a local page (127.0.0.1) showing LiveKit, its connection settings and a test room; prints its URL with a key')
    .option(...file)
    .option('--port <port>', 'the port on 127.0.0.1 (0: any free one)', '7890')
    .option('--open', 'open it in the browser (the default on a terminal)')
    .option('--no-open', 'do not open a browser')
    .action(async (o: import('./commands/web.js').WebFlags) => {
      await run(async () => (await import('./commands/web.js')).webCommand(io, o))();
    });
  program
    .command('logs')
    .description("print a service's log from its file (and the rotated copies); -f follows it")
    .argument('[service]', 'the service: livekit when none is named, or whisper, kokoro, another declared name')
    .option('-n, --lines <n>', 'how many of the last lines to print', '50')
    .option('-f, --follow', 'then print lines as they are written, like `tail -F`, until Ctrl-C')
    .option('--file <path>', 'accepted and ignored: the log does not depend on the file (here -f is --follow)')
    .action(async (service: string | undefined, o: import('./commands/logs.js').LogsFlags) => {
      await run(async () => (await import('./commands/logs.js')).logsCommand(io, service, o))();
    });

  for (const [verb, what] of [
    ['start', 'set state: running in the file, then apply'],
    ['stop', 'set state: stopped in the file, then apply'],
    ['enable', 'set autostart: true in the file (start at login), then apply'],
    ['disable', 'set autostart: false in the file, then apply'],
    ['install', 'set state: running in the file (install, configure, start), then apply'],
    ['uninstall', 'set state: absent in the file (remove what vm installed), then apply'],
  ] as const) {
    const cmd = program
      .command(verb)
      .description(what)
      .argument('[service]', 'the service (default: livekit)')
      .option(...file)
      .option('-y, --yes', 'do not ask for confirmation (required without a terminal)')
      .option('--json', 'print the edit and the apply result as JSON')
      .option('--lock-timeout <duration>', 'how long to wait for another vm that is applying', '30s');
    if (verb === 'uninstall') cmd.option('--remove-data', 'also set remove_data: true (delete the logs)');
    cmd.action(async (service: string | undefined, o: import('./commands/verbs.js').VerbFlags) => {
      await run(async () => (await import('./commands/verbs.js')).verbCommand(io, verb, service, o))();
    });
  }
  program
    .command('restart')
    .description('restart a service once (the file is not edited) and wait until it is healthy')
    .argument('[service]', 'the service (default: livekit)')
    .option(...file)
    .option('--json', 'print the result as JSON')
    .option('--lock-timeout <duration>', 'how long to wait for another vm that is applying', '30s')
    .action(async (service: string | undefined, o: import('./commands/verbs.js').VerbFlags) => {
      await run(async () => (await import('./commands/verbs.js')).restartCommand(io, service, o))();
    });
  program
    .command('mcp')
    .description('serve vm as an MCP server over stdio (for Claude Code, Claude Desktop, …)')
    .option(...file)
    .option('--print-config', 'print the mcpServers entry to paste into an MCP client, and exit')
    .action(async (o: { file?: string; printConfig?: boolean }) => {
      await run(async () => (await import('./commands/mcp.js')).mcpCommand(io, o))();
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here with exit code 0; usage errors were already printed.
      return e.exitCode === 0 ? EXIT.ok : EXIT.error;
    }
    return reportError(e, io.stderr, hint);
  }
}

declare const __VM_VERSION__: string | undefined;
const VERSION = typeof __VM_VERSION__ === 'string' ? __VM_VERSION__ : '0.0.0-dev';
