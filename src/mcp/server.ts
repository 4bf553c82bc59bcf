// `vm mcp`: vm's operations as MCP tools, over stdio. A thin adapter over src/ops/: each tool
// returns the same object as the CLI's `--json` (structuredContent) plus one short line of
// text; a refusal comes back as an isError result with the CLI's one-line message.
//
// Everything that changes the machine goes through the one locked-apply flow (or, for restart,
// the same apply lock), so two calls at once are serialised like two `vm apply` runs.

import { randomBytes } from 'node:crypto';
import { isSystemError, SpecError, UserError } from '../errors.js';
import type { DesiredState } from '../model.js';
import { runApply } from '../ops/apply.js';
import { connectionInfo, TARGETS, type Target } from '../ops/connection.js';
import { MAX_LOG_LINES, readServiceLog } from '../ops/logs.js';
import { planReport } from '../ops/plan.js';
import { restartService, runVerb, VERBS, type Verb } from '../ops/service-verbs.js';
import { DEFAULT_SERVICE } from '../services/registry.js';
import { statusReport } from '../ops/status.js';
import { mintToken } from '../ops/token.js';
import type { Host } from '../platform/host.js';
import { planContext } from '../reconcile.js';
import { loadDesired, loadDesiredForReading } from '../spec/load.js';
import type { Env } from '../spec/normalise.js';

export interface McpContext {
  readonly host: Host;
  readonly env: Env;
  readonly cwd: string;
  /** -f/--file given to `vm mcp`. */
  readonly file?: string;
  readonly version: string;
}

/** How long a changing tool waits for another vm that is applying. */
const LOCK_TIMEOUT_MS = 120_000;
const ACTIONS = ['status', ...VERBS, 'restart', 'logs'] as const;
/** What a service name may look like in a call (the file's own rule is stricter still). */
const SERVICE_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;

interface ToolResult {
  [k: string]: unknown;
  content: Array<{ type: 'text'; text: string }>;
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

const ok = (text: string, data: object): ToolResult => ({ content: [{ type: 'text', text }], structuredContent: data as Record<string, unknown> });
const refused = (text: string, data?: object): ToolResult => ({ content: [{ type: 'text', text }], isError: true, ...(data === undefined ? {} : { structuredContent: data as Record<string, unknown> }) });

/** The CLI's message for an error, on one line, never a stack. */
export function errorText(e: unknown): string {
  if (e instanceof SpecError) {
    const n = e.problems.length;
    return `vm: ${n === 1 ? 'the file has a problem' : `the file has ${n} problems`}; nothing was changed: ${e.message.split('\n').join('; ')}`;
  }
  if (e instanceof UserError) return `vm: ${e.message}${e.hint === undefined ? '' : ` (${e.hint.split('\n').join('; ')})`}`;
  if (isSystemError(e)) return `vm: ${e.message}`;
  return `vm: internal error (this is a bug in vm, please report it): ${e instanceof Error ? e.message : String(e)}`;
}

/** Runs a tool body; any error becomes an isError result. */
async function guarded(fn: () => Promise<ToolResult>): Promise<ToolResult> {
  try {
    return await fn();
  } catch (e) {
    return refused(errorText(e));
  }
}

export async function createServer(c: McpContext) {
  const { McpServer, z } = await import('./sdk.js');
  const server = new McpServer({ name: 'vm', version: c.version }, { instructions: "vm keeps Voice Mode's local services (LiveKit, whisper, kokoro) exactly as voicemode.services.yaml says. Read with status and plan; change with service (it edits the file, then applies) or apply." });
  const where = { ...(c.file === undefined ? {} : { file: c.file }), cwd: c.cwd, env: c.env };
  const load = (): Promise<DesiredState> => loadDesired(where);
  const target = z.enum(TARGETS as unknown as [Target, ...Target[]]);

  server.registerTool(
    'status',
    {
      title: 'Service status',
      description: 'Each declared service: binary, config, unit, running (pid), healthy, URL; for LiveKit the client URL, API key name and checks. The same object as `vm status --json`.',
      inputSchema: {},
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    () =>
      guarded(async () => {
        const r = await statusReport(c.host, await loadDesiredForReading(where));
        const pending = r.snap.plan.steps.length;
        const text = [...r.views.map((v) => v.view.lines[0] ?? v.name), r.secretProblems.length > 0 ? 'a secret cannot be read (see problems)' : pending === 0 ? 'converged' : `${pending} step(s) pending`].join('\n');
        return ok(text, r.json);
      }),
  );

  server.registerTool(
    'plan',
    {
      title: 'Plan',
      description: 'The steps `apply` would take, and why (nothing is changed). The same object as `vm plan --json`.',
      inputSchema: { force: z.boolean().optional().describe('plan as apply --force would: overwrite files vm never wrote (keeping backups)') },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    ({ force }) =>
      guarded(async () => {
        const r = await planReport(c.host, await load(), { force: force === true });
        const n = r.json.steps.length;
        return ok(r.json.blockers.length > 0 ? `blocked: ${r.json.blockers.join('; ')}` : n === 0 ? 'converged: nothing to do' : `${n} step(s): ${r.json.steps.map((s) => `${s.service} ${s.resource} ${s.action}`).join(', ')}`, r.json);
      }),
  );

  server.registerTool(
    'apply',
    {
      title: 'Apply',
      description: 'Take the planned steps (install, configure, start, wait until healthy; roll back on failure), as `vm apply --yes`. Needs confirm: true. The same object as `vm apply --json`.',
      inputSchema: { confirm: z.boolean().describe('must be true: apply changes the machine'), force: z.boolean().optional() },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    ({ confirm, force }) =>
      guarded(async () => {
        if (confirm !== true) return refused('vm: apply changes the machine: call it with confirm: true (see the plan tool first)');
        const desired = await load();
        const r = await runApply({ host: c.host, desired, ctx: planContext({ force: force === true }), lockTimeoutMs: LOCK_TIMEOUT_MS });
        if (!r.ok) {
          const log = r.kind === 'failed' ? (r.failedStep?.logTail ?? []) : [];
          return refused(`${errorText(r.error)}${log.length === 0 ? '' : `\nlog:\n${log.join('\n')}`}`, r.json);
        }
        return ok(r.kind === 'nothing-to-do' ? 'nothing to do: converged' : `applied ${r.json.applied.length} step(s); converged`, r.json);
      }),
  );

  server.registerTool(
    'service',
    {
      title: 'Service',
      description:
        "One service (Voice Mode's shape): status, logs, restart (once, the file is not edited), or start|stop|enable|disable|install|uninstall, which set state/autostart in voicemode.services.yaml (every comment kept) and then apply. uninstall removes what vm installed (remove_data: also the logs).",
      inputSchema: {
        service_name: z.string().regex(SERVICE_NAME, 'a service name: a letter, then letters, digits, - or _').default(DEFAULT_SERVICE),
        action: z.enum(ACTIONS),
        lines: z.number().int().min(0).max(MAX_LOG_LINES).optional().describe(`logs: how many of the last lines (default 50, at most ${MAX_LOG_LINES})`),
        remove_data: z.boolean().optional().describe('uninstall: also delete the logs'),
      },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    },
    ({ service_name: name, action, lines, remove_data: removeData }) =>
      guarded(async () => {
        switch (action) {
          case 'status': {
            const r = await statusReport(c.host, await loadDesiredForReading(where));
            const v = r.views.find((x) => x.name === name);
            if (v === undefined) return refused(`vm: no service named ${JSON.stringify(name)} in the file (declared: ${r.views.map((x) => x.name).join(', ') || 'none'})`);
            return ok(v.view.lines.join('\n'), { service: name, ...v.view.json });
          }
          case 'logs': {
            const log = await readServiceLog(c.env, name, lines ?? 50);
            const all = log.text === undefined ? [] : log.text.split('\n').slice(0, -1);
            return ok(log.text === undefined ? `no log yet at ${log.logFile}` : log.text, { service: name, log_file: log.logFile, lines: all });
          }
          case 'restart': {
            const r = await restartService({ host: c.host, desired: await load(), service: name, lockTimeoutMs: LOCK_TIMEOUT_MS });
            return ok(`${name} restarted (pid ${r.pidBefore ?? '-'} → ${r.pidAfter ?? '-'}) and healthy`, { service: name, action, restarted: true, healthy: true, pid_before: r.pidBefore, pid: r.pidAfter, url: r.url });
          }
          default: {
            if (removeData === true && action !== 'uninstall') return refused('vm: remove_data goes with uninstall only');
            const r = await runVerb({ host: c.host, ...where, service: name, verb: action as Verb, removeData: removeData === true, lockTimeoutMs: LOCK_TIMEOUT_MS });
            const data = { service: name, action, file: r.file, set: r.set, changed: r.changed, diff: r.diff, ...r.applied.json };
            const edit = r.changed ? `${r.file}: services.${name} ${Object.entries(r.set).map(([k, v]) => `${k}: ${String(v)}`).join(', ')}` : `the file already says so`;
            if (!r.applied.ok) return refused(`${errorText(r.applied.error)} (${edit})`, data);
            return ok(`${edit}; ${r.applied.kind === 'nothing-to-do' ? 'nothing to apply' : `applied ${r.applied.json.applied.length} step(s)`}; converged`, data);
          }
        }
      }),
  );

  server.registerTool(
    'livekit_token',
    {
      title: 'LiveKit access token',
      description: "Mint a LiveKit access token with the chosen server's key (local when healthy, else the declared fallback), as `vm token --json`.",
      inputSchema: {
        room: z.string().min(1).max(256),
        identity: z.string().min(1).max(256).optional(),
        name: z.string().max(256).optional(),
        ttl: z.string().max(16).optional().describe('30s, 10m, 6h (default 6h, at most 24h)'),
        grants: z.array(z.string().max(32)).max(16).optional().describe('join, publish, subscribe, publish-data, list, create, admin'),
        target: target.optional(),
      },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    ({ room, identity, name, ttl, grants, target: t }) =>
      guarded(async () => {
        const user = c.env['USER'] ?? c.env['LOGNAME'] ?? 'user';
        const flags = { room, ...(identity === undefined ? {} : { identity }), ...(name === undefined ? {} : { name }), ...(ttl === undefined ? {} : { ttl }), ...(grants === undefined ? {} : { grant: grants.join(',') }) };
        const { json } = await mintToken(c.host, await load(), flags, { target: t ?? 'auto', user, suffix: randomBytes(2).toString('hex') });
        return ok(`token for ${json.identity} in room ${json.room ?? '-'} at ${json.url} (${json.target}), expires ${json.expires_at}`, json);
      }),
  );

  server.registerTool(
    'livekit_connection',
    {
      title: 'LiveKit connection',
      description: 'The URL and API key a LiveKit client connects with, which server (local or fallback) and why. The secret only with include_secret: true.',
      inputSchema: { target: target.optional(), include_secret: z.boolean().default(false) },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    ({ target: t, include_secret: includeSecret }) =>
      guarded(async () => {
        const json = await connectionInfo(c.host, await load(), t ?? 'auto', { includeSecret: includeSecret === true });
        return ok(`${json.url} with key ${json.api_key} (${json.target}: ${json.why})`, json);
      }),
  );

  return server;
}
