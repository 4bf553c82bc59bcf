// whisper, kokoro and a `command` service beside LiveKit, end to end: the built `vm` against a
// real systemd user manager, the stand-ins for whisper-server and Kokoro-FastAPI (test/fixtures,
// they answer as the real ones do), a model served with its sha256 by the local release server,
// and a tiny HTTP program as the command. Steps build on each other, in order.

import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReleaseServer, type ModelFile, type ReleaseServer } from '../helpers/release-server.js';
import { startUserManager, userManagerAvailable, type UserManager } from '../helpers/systemd.js';
import {
  commandEntry,
  freePorts,
  kokoroEntry,
  livekitEntry,
  makeWhisperModel,
  runVm,
  servicesFile,
  spawnVm,
  standinScript,
  waitFor,
  whisperEntry,
  writeKokoroCheckout,
  writeWhisperStandin,
  type KokoroCheckout,
  type KokoroOptions,
  type WhisperOptions,
} from '../kit/index.js';

const SECRET = 'voice-services-secret-0123456789abcdefghij';

let um: UserManager;
let rel: ReleaseServer;
let env: Record<string, string>;
let ports: { lk: number; tcp: number; whisper: number; kokoro: number; llm: number };
let home: string;
let specPath: string;
let model: ModelFile;
let badModel: ModelFile;
let kokoro: KokoroCheckout;
let whisperBin: string;
let llmBin: string;

/** The four services; each entry's fields in `o` replace or add to its own. */
function spec(o: { whisper?: Partial<WhisperOptions>; kokoro?: Partial<KokoroOptions> } = {}): string {
  return servicesFile({
    livekit: livekitEntry({
      version: '1.9.0',
      install: { method: 'release', base_url: rel.baseUrl },
      port: ports.lk,
      rtcRange: [51200, 51300],
      tcpPort: ports.tcp,
      keys: { apikey1: SECRET },
      health: '15s',
    }),
    whisper: whisperEntry({ install: { method: 'path', path: whisperBin }, model, port: ports.whisper, threads: 2, health: '20s', ...o.whisper }),
    kokoro: kokoroEntry({ install: { method: 'path', path: kokoro.root }, port: ports.kokoro, env: { USE_GPU: 'false' }, health: '20s', ...o.kokoro }),
    'my-llm': commandEntry({ command: [llmBin, '--port', String(ports.llm)], port: ports.llm, healthPath: '/health', health: '10s' }),
  });
}

const vm = (...args: string[]) => runVm(args, env);

async function get(port: number, path: string): Promise<string> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2_000) });
    return `${r.status} ${await r.text()}`;
  } catch {
    return 'down';
  }
}

async function mainPid(unit: string): Promise<number> {
  const r = await um.systemctl('show', unit, '-p', 'MainPID', '--value');
  return Number(r.stdout.trim());
}

describe.skipIf(!userManagerAvailable())('whisper, kokoro and a command service beside LiveKit', () => {
  beforeAll(async () => {
    um = await startUserManager();
    home = um.env.HOME;
    const [lk, tcp, whisper, kokoroPort, llm] = (await freePorts(5)) as [number, number, number, number, number];
    ports = { lk, tcp, whisper, kokoro: kokoroPort, llm };
    rel = await startReleaseServer({ releases: [{ version: '1.9.0', binary: standinScript({ version: '1.9.0', readyAfterMs: 300 }) }] });
    model = rel.addModel({ path: '/models/ggml-tiny.bin', body: makeWhisperModel(1024 * 1024) });
    badModel = rel.addModel({ path: '/models/ggml-bad.bin', body: makeWhisperModel(256 * 1024), corrupt: true });
    whisperBin = `${home}/opt/whisper/whisper-server`;
    await writeWhisperStandin(whisperBin, { loadDelayMs: 500 });
    kokoro = await writeKokoroCheckout(`${home}/src/Kokoro-FastAPI`, { warmupMs: 500 });
    llmBin = `${home}/bin/tiny-http`;
    await mkdir(`${home}/bin`, { recursive: true });
    await writeFile(
      llmBin,
      [
        `#!${process.execPath}`,
        "const http = require('node:http');",
        "const port = Number(process.argv[process.argv.indexOf('--port') + 1]);",
        "process.on('SIGTERM', () => process.exit(0));",
        "http.createServer((q, r) => { r.writeHead(q.url === '/health' ? 200 : 404); r.end(q.url === '/health' ? 'ok' : 'no'); }).listen(port, '127.0.0.1');",
        '',
      ].join('\n'),
    );
    await chmod(llmBin, 0o755);
    env = { ...um.env };
    specPath = `${home}/dotfiles/voicemode.services.yaml`;
    await mkdir(`${home}/dotfiles`, { recursive: true });
    await writeFile(specPath, spec());
    env['VOICEMODE_SERVICES_FILE'] = specPath;
  });

  afterAll(async () => {
    for (const u of ['livekit', 'whisper', 'kokoro', 'my-llm']) await um?.systemctl('stop', `voicemode-${u}.service`);
    await um?.stop();
    await rel?.close();
  });

  it('plan lists each service under its own heading, with the model download and no start script', async () => {
    const r = await vm('plan');
    expect(r.code).toBe(0);
    for (const s of ['livekit:', 'whisper:', 'kokoro:', 'my-llm:']) expect(r.stdout).toContain(`\n${s}\n`);
    expect(r.stdout).toContain(`download ${model.url} and check its sha256`);
    expect(r.stdout).toMatch(/Plan: \d+ steps for livekit, whisper, kokoro, my-llm/);
  });

  it('a fresh apply brings all four up, each healthy on loopback only', async () => {
    const r = await vm('apply', '--yes');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await get(ports.whisper, '/health')).toBe('200 {"status":"ok"}');
    expect(await get(ports.kokoro, '/health')).toBe('200 {"status":"healthy"}');
    expect(await get(ports.llm, '/health')).toBe('200 ok');
    // The downloaded model is in vm's models directory, and vm ran whisper with the file's flags.
    const modelFile = `${home}/.voicemode/services/whisper/models/ggml-tiny.bin`;
    expect((await stat(modelFile)).size).toBe(model.size);
    const unit = await readFile(`${um.unitDir}/voicemode-whisper.service`, 'utf8');
    expect(unit).toContain(`"--host" "127.0.0.1" "--port" "${ports.whisper}" "--model" "${modelFile}"`);
    expect(unit).toContain('"--inference-path" "/v1/audio/transcriptions"');
    // Kokoro ran from its checkout with its own uvicorn, never through start-cpu.sh (0.0.0.0).
    const kunit = await readFile(`${um.unitDir}/voicemode-kokoro.service`, 'utf8');
    expect(kunit).toContain(`ExecStart="${kokoro.uvicorn}" "api.src.main:app" "--host" "127.0.0.1" "--port" "${ports.kokoro}"`);
    expect(kunit).toContain(`WorkingDirectory=${kokoro.root}`);
    expect(kunit).toContain('"MODEL_DIR=src/models"');
    expect(existsSync(kokoro.startScriptMarker)).toBe(false);
    // Logs land under ~/.voicemode/logs/NAME/.
    expect((await readFile(`${home}/.voicemode/logs/kokoro/kokoro.log`, 'utf8')).length).toBeGreaterThan(0);
  });

  it('then a second apply touches nothing, and plan is converged', async () => {
    const pids = await Promise.all(['whisper', 'kokoro', 'my-llm', 'livekit'].map((u) => mainPid(`voicemode-${u}.service`)));
    const r = await vm('apply', '--yes');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('No changes');
    expect(await Promise.all(['whisper', 'kokoro', 'my-llm', 'livekit'].map((u) => mainPid(`voicemode-${u}.service`)))).toEqual(pids);
    expect((await vm('plan', '--detailed-exitcode')).code).toBe(0);
    expect(rel.modelRequests.filter((q) => q.path === '/models/ggml-tiny.bin' && q.method === 'GET')).toHaveLength(1);
  });

  it('status shows every service; logs prints whisper\'s own log', async () => {
    const st = await vm('status', '--json');
    const services = (JSON.parse(st.stdout) as { services: Record<string, { healthy: boolean; url: string }> }).services;
    expect(Object.keys(services)).toEqual(['livekit', 'whisper', 'kokoro', 'my-llm']);
    expect(Object.values(services).every((s) => s.healthy)).toBe(true);
    expect(services['whisper']?.url).toBe(`http://127.0.0.1:${ports.whisper}/health`);
    // vm env hands Voice Mode its provider lists beside LiveKit's three values.
    const envJson = JSON.parse((await vm('env', '--format', 'json')).stdout) as Record<string, string>;
    expect(envJson['VOICEMODE_STT_BASE_URLS']).toBe(`http://127.0.0.1:${ports.whisper}/v1`);
    expect(envJson['VOICEMODE_TTS_BASE_URLS']).toBe(`http://127.0.0.1:${ports.kokoro}/v1`);
    expect(envJson['LIVEKIT_URL']).toBe(`ws://127.0.0.1:${ports.lk}`);
    const logs = await vm('logs', 'whisper', '-n', '200');
    expect(logs.code).toBe(0);
    expect(logs.stdout).toContain('whisper server listening at');
  });

  it('a service dropped from the file is left running, and status says so, whatever its name', async () => {
    const pid = await mainPid('voicemode-my-llm.service');
    const full = spec();
    await writeFile(specPath, full.replace(/\n {2}my-llm:\n(?: {4}.*\n)+/, '\n'));
    try {
      const s = await vm('status');
      expect(s.stdout).toMatch(new RegExp(`my-llm  \\(not in the file; .*\\)\\n  running  yes, pid ${pid}\\n  files    .*voicemode-my-llm\\.service`));
      expect((await vm('plan')).stdout).toContain(`my-llm is not in the file but is still running (pid ${pid}, systemd); vm leaves it alone`);
      expect((await vm('apply', '--yes')).code).toBe(0);
    } finally {
      await writeFile(specPath, full);
    }
    expect(await mainPid('voicemode-my-llm.service')).toBe(pid);
    expect((await vm('plan', '--detailed-exitcode')).code).toBe(0);
  });

  it('drift of each is healed by one apply: killed whisper, hand-edited kokoro unit, stopped command', async () => {
    const lkPid = await mainPid('voicemode-livekit.service');
    process.kill(await mainPid('voicemode-whisper.service'), 'SIGKILL');
    const unitFile = `${um.unitDir}/voicemode-kokoro.service`;
    await writeFile(unitFile, (await readFile(unitFile, 'utf8')).replace('RestartSec=2', 'RestartSec=9'));
    await um.systemctl('stop', 'voicemode-my-llm.service');
    const p = await vm('plan');
    expect(p.stdout).toContain('unit changed');
    expect(p.stdout).toMatch(/my-llm:\n\s+> running\s+start/);
    const r = await vm('apply', '--yes');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await get(ports.whisper, '/health')).toBe('200 {"status":"ok"}');
    expect(await get(ports.kokoro, '/health')).toBe('200 {"status":"healthy"}');
    expect(await get(ports.llm, '/health')).toBe('200 ok');
    expect(await readFile(unitFile, 'utf8')).toContain('RestartSec=2');
    expect((await readdir(`${um.unitDir}`)).some((f) => f.includes('vm-backup'))).toBe(true); // the hand edit is kept
    expect(await mainPid('voicemode-livekit.service')).toBe(lkPid);
    expect((await vm('plan', '--detailed-exitcode')).code).toBe(0);
  });

  it('a model whose checksum does not match installs nothing, and says so', async () => {
    const before = await mainPid('voicemode-whisper.service');
    await writeFile(specPath, spec({ whisper: { model: badModel } }));
    const r = await vm('apply', '--yes');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('does not match the declared');
    expect(r.stderr).not.toContain('rolled back to');
    const models = await readdir(`${home}/.voicemode/services/whisper/models`);
    expect(models).toEqual(['ggml-tiny.bin']); // no partial or temp file, the old model untouched
    expect(await mainPid('voicemode-whisper.service')).toBe(before);
    await writeFile(specPath, spec());
  });

  it('a whisper that never gets healthy is rolled back, and LiveKit and kokoro are left alone', async () => {
    const lkPid = await mainPid('voicemode-livekit.service');
    const kPid = await mainPid('voicemode-kokoro.service');
    // A new binary path whose whisper-server never finishes loading its model.
    const stuck = `${home}/opt/whisper-stuck/whisper-server`;
    await writeWhisperStandin(stuck, { mode: 'never-ready' });
    await writeFile(specPath, spec({ whisper: { install: { method: 'path', path: stuck }, health: '3s' } }));
    const r = await vm('apply', '--yes');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('whisper healthy wait-healthy failed');
    expect(r.stderr).toContain('rolled back to its previous unit');
    expect(await get(ports.whisper, '/health')).toBe('200 {"status":"ok"}');
    expect(await readFile(`${um.unitDir}/voicemode-whisper.service`, 'utf8')).toContain(whisperBin);
    expect(await mainPid('voicemode-livekit.service')).toBe(lkPid);
    expect(await mainPid('voicemode-kokoro.service')).toBe(kPid);
    await writeFile(specPath, spec());
    expect((await vm('plan', '--detailed-exitcode')).code).toBe(0);
  });

  it('vm watch holds back only whisper’s failed change: a kokoro stopped meanwhile is started again', async () => {
    // The file whose whisper failed its health check and was rolled back (the test above).
    const stuck = `${home}/opt/whisper-stuck/whisper-server`;
    await writeFile(specPath, spec({ whisper: { install: { method: 'path', path: stuck }, health: '3s' } }));
    const lkPid = await mainPid('voicemode-livekit.service');
    expect((await um.systemctl('stop', 'voicemode-kokoro.service')).code).toBe(0);
    expect(await get(ports.kokoro, '/health')).toBe('down');
    const w = spawnVm(['watch', '--json', '--interval', '1s'], env);
    const events = () => w.stdout().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { event: string; service?: string; ok?: boolean });
    try {
      await waitFor('the watch to say whisper is held back', () => events().some((e) => e.event === 'held_back' && e.service === 'whisper'), 60_000);
      await waitFor('kokoro healthy again', async () => (await get(ports.kokoro, '/health')) === '200 {"status":"healthy"}', 60_000);
      await waitFor('a reconcile that ends well', () => events().some((e) => e.event === 'reconcile_done' && e.ok === true), 60_000);
      // whisper still runs the binary that worked; LiveKit was not touched.
      expect(await readFile(`${um.unitDir}/voicemode-whisper.service`, 'utf8')).toContain(whisperBin);
      expect(await get(ports.whisper, '/health')).toBe('200 {"status":"ok"}');
      expect(await mainPid('voicemode-livekit.service')).toBe(lkPid);
      expect(events().filter((e) => e.event === 'held_back')).toHaveLength(1);
    } finally {
      w.signal('SIGTERM');
      await w.done;
    }
    await writeFile(specPath, spec());
    expect((await vm('plan', '--detailed-exitcode')).code).toBe(0);
  });

  it('discover finds the managed services, an unmanaged kokoro on 8880, and lists exactly the healthy local endpoints', async () => {
    // Stop vm's kokoro and run another one by hand on Kokoro's well-known port 8880.
    await writeFile(specPath, spec({ kokoro: { state: 'stopped' } }));
    expect((await vm('apply', '--yes')).code).toBe(0);
    expect(await get(8880, '/health'), 'port 8880 must be free for this test').toBe('down');
    const other = spawn(kokoro.uvicorn, ['api.src.main:app', '--host', '127.0.0.1', '--port', '8880'], { cwd: kokoro.root, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...kokoro.env }, stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => other.once('exit', () => resolve()));
    try {
      await waitFor('the unmanaged kokoro on 8880', async () => (await get(8880, '/health')) === '200 {"status":"healthy"}');
      const d = await runVm(['discover', '--json'], { ...env, VOICEMODE_STT_BASE_URLS: 'https://api.openai.com/v1' });
      expect(d.code).toBe(0);
      const j = JSON.parse(d.stdout) as { services: Array<{ name: string; healthy: boolean; managed: boolean; url: string | null }>; env: Record<string, string> };
      expect(j.services.map((s) => [s.name, s.managed, s.healthy])).toEqual([
        ['livekit', true, true],
        ['whisper', true, true],
        ['kokoro', true, false],
        ['my-llm', true, true],
        ['kokoro', false, true],
      ]);
      expect(j.services.at(-1)?.url).toBe('http://127.0.0.1:8880/v1');
      // Healthy managed endpoints first, then healthy unmanaged local ones, then the environment's.
      expect(j.env['VOICEMODE_STT_BASE_URLS']).toBe(`http://127.0.0.1:${ports.whisper}/v1,https://api.openai.com/v1`);
      expect(j.env['VOICEMODE_TTS_BASE_URLS']).toBe('http://127.0.0.1:8880/v1');
      const human = await vm('discover');
      expect(human.stdout).toContain('unmanaged: something answers like kokoro on 8880');
      expect(human.stdout).toContain(`VOICEMODE_STT_BASE_URLS='http://127.0.0.1:${ports.whisper}/v1'`);
    } finally {
      other.kill('SIGTERM');
      await exited;
    }
    await writeFile(specPath, spec());
    expect((await vm('apply', '--yes')).code).toBe(0);
  });

  it('state: absent removes whisper\'s unit and the model vm downloaded, and never the binary it was pointed at', async () => {
    await writeFile(specPath, spec({ whisper: { state: 'absent' } }));
    const r = await vm('apply', '--yes');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(existsSync(`${um.unitDir}/voicemode-whisper.service`)).toBe(false);
    expect(existsSync(`${home}/.voicemode/services/whisper/models`)).toBe(false);
    expect(existsSync(whisperBin)).toBe(true);
    expect(await get(ports.whisper, '/health')).toBe('down');
    const st = await vm('status');
    expect(st.stdout).toMatch(/whisper .*declared state: absent/);
    expect(st.stdout).toMatch(/unit\s+removed/);
    expect((await vm('plan', '--detailed-exitcode')).code).toBe(0);
  });
});
