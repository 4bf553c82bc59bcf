// The whisper-server and Kokoro (uvicorn) stand-ins and the release server's model route: they must
// answer as the real programs do (test/fixtures/STANDINS.md), or tests built on them prove nothing.

import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startReleaseServer, type ReleaseServer } from './helpers/release-server.js';
import { freePort, type KokoroCheckout, makeWhisperModel, waitFor, writeKokoroCheckout, writeWhisperStandin } from './kit/index.js';

interface Proc {
  child: ChildProcess;
  out: { stdout: string; stderr: string };
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<Proc>();
let dir = '';

function start(path: string, args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Proc {
  const child = spawn(path, args, {
    cwd: opts.cwd ?? dir,
    env: { PATH: '/usr/bin:/bin', HOME: dir, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  child.stdout?.setEncoding('utf8').on('data', (s: string) => (out.stdout += s));
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (out.stderr += s));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  const proc = { child, out, exited };
  running.add(proc);
  void exited.then(() => running.delete(proc));
  return proc;
}

/** The kit's waitFor, ended at once if `p` exits first; either way the message carries its output. */
function waitWhileRunning(p: Proc, what: string, cond: () => boolean | Promise<boolean>): Promise<void> {
  const said = () => `${what}\nstdout: ${p.out.stdout}\nstderr: ${p.out.stderr}`;
  return waitFor(said, async () => {
    if (await cond()) return true;
    if (!running.has(p)) throw new Error(`the process exited while waiting for ${said()}`);
    return false;
  });
}

/** `status body`, or "down" when nothing answers (refused, or no answer within 3 s). */
async function probe(url: string): Promise<string> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(3_000) });
    return `${r.status} ${await r.text()}`;
  } catch {
    return 'down';
  }
}

/** A 0.25 s 16 kHz mono PCM WAV of silence. */
function wav(): Buffer {
  const pcm = Buffer.alloc(8000);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(36 + pcm.length, 4);
  h.write('WAVEfmt ', 8, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(16000, 24);
  h.writeUInt32LE(32000, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(pcm.length, 40);
  return Buffer.concat([h, pcm]);
}

async function transcribe(url: string, fields: Record<string, string | Blob>): Promise<{ status: number; type: string; body: string }> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v, ...(typeof v === 'string' ? [] : ['clip.wav']));
  const r = await fetch(url, { method: 'POST', body: form, signal: AbortSignal.timeout(5_000) });
  return { status: r.status, type: r.headers.get('content-type') ?? '', body: await r.text() };
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

afterEach(async () => {
  const procs = [...running];
  for (const p of procs) p.child.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
});

beforeAll(async () => {
  dir = await mkdtemp('/tmp/vmt-standins-');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('whisper-server stand-in', () => {
  let bin = '';
  let slow = '';
  let model = '';

  beforeAll(async () => {
    bin = join(dir, 'whisper', 'whisper-server');
    slow = join(dir, 'whisper-slow', 'whisper-server');
    model = join(dir, 'ggml-base.en.bin');
    await writeWhisperStandin(bin, { version: '1.9.3', loadDelayMs: 100 });
    await writeWhisperStandin(slow, { version: '1.9.3', loadDelayMs: 2_500 });
    await writeFile(model, makeWhisperModel(64 * 1024));
  });

  /** Starts it on a free port and waits until /health says ok. */
  async function serving(path: string, extra: string[] = []): Promise<{ p: Proc; base: string }> {
    const port = await freePort();
    const p = start(path, ['-m', model, '--host', '127.0.0.1', '--port', String(port), ...extra]);
    const base = `http://127.0.0.1:${port}`;
    await waitWhileRunning(p, '/health ok', async () => (await probe(`${base}/health`)) === '200 {"status":"ok"}');
    return { p, base };
  }

  it('has no --version: it is an unknown argument, printed with the usage on stderr, exit 0', async () => {
    const p = start(bin, ['--version']);
    expect(await p.exited).toEqual({ code: 0, signal: null });
    expect(p.out.stderr).toMatch(/^error: unknown argument: --version\n/);
    expect(p.out.stderr).toContain('usage: ');
    expect(p.out.stdout).toBe('');
  });

  it('a number flag that is not a number aborts like an uncaught std::stoi error', async () => {
    const p = start(bin, ['-m', model, '--port', 'eighty']);
    expect(await p.exited).toEqual({ code: null, signal: 'SIGABRT' });
    expect(p.out.stderr).toContain("terminate called after throwing an instance of 'std::invalid_argument'");
  });

  it('an unknown language is refused with exit 0; "auto" and full names are accepted', async () => {
    const p = start(bin, ['-m', model, '-l', 'klingon']);
    expect(await p.exited).toEqual({ code: 0, signal: null });
    expect(p.out.stderr).toMatch(/^error: unknown language 'klingon'\n/);
    const { base } = await serving(bin, ['-l', 'auto', '-t', '2', '-ng']);
    expect(await probe(`${base}/health`)).toBe('200 {"status":"ok"}');
    const q = start(bin, ['-m', model, '-l', 'german', '--port', String(await freePort())]);
    await waitWhileRunning(q, 'listening', () => q.out.stdout.includes('listening'));
  });

  it('--convert without ffmpeg on PATH says so on stdout and exits 0', async () => {
    const p = start(bin, ['-m', model, '--convert'], { env: { PATH: dir } });
    expect(await p.exited).toEqual({ code: 0, signal: null });
    expect(p.out.stdout).toContain('ffmpeg is not found.');
  });

  it('refuses a missing model file: the library lines on stderr, exit 3, nothing listened', async () => {
    const port = await freePort();
    const missing = join(dir, 'no-such-model.bin');
    const p = start(bin, ['-m', missing, '--port', String(port)]);
    expect(await p.exited).toEqual({ code: 3, signal: null });
    expect(p.out.stderr).toContain(`whisper_init_from_file_with_params_no_state: failed to open '${missing}'`);
    expect(p.out.stderr).toContain('error: failed to initialize whisper context');
    expect(p.out.stdout).not.toContain('listening');
  });

  it('refuses a file that is not a ggml model (bad magic), exit 3', async () => {
    const bad = join(dir, 'not-a-model.bin');
    await writeFile(bad, '<html>404</html>');
    const p = start(bin, ['-m', bad, '--port', String(await freePort())]);
    expect(await p.exited).toEqual({ code: 3, signal: null });
    expect(p.out.stderr).toContain('whisper_model_load: invalid model data (bad magic)');
  });

  it('nothing listens while the model loads; the listening line comes with a healthy /health', async () => {
    const port = await freePort();
    const p = start(slow, ['-m', model, '--port', String(port)]);
    const base = `http://127.0.0.1:${port}`;
    await waitWhileRunning(p, 'model load to begin', () => p.out.stderr.includes('loading model from'));
    expect(await probe(`${base}/health`)).toBe('down');
    await waitWhileRunning(p, 'listening line', () => p.out.stdout.includes(`whisper server listening at http://127.0.0.1:${port}`));
    expect(await probe(`${base}/health`)).toBe('200 {"status":"ok"}');
  });

  it('with listenWhileLoading, /health answers 503 {"status":"loading model"} until loaded', async () => {
    const early = join(dir, 'whisper-early', 'whisper-server');
    await writeWhisperStandin(early, { loadDelayMs: 1_500, listenWhileLoading: true });
    const port = await freePort();
    const p = start(early, ['-m', model, '--port', String(port)]);
    const base = `http://127.0.0.1:${port}`;
    await waitWhileRunning(p, 'a first answer', async () => (await probe(`${base}/health`)) !== 'down');
    expect(await probe(`${base}/health`)).toBe('503 {"status":"loading model"}');
    await waitWhileRunning(p, '/health ok', async () => (await probe(`${base}/health`)) === '200 {"status":"ok"}');
  });

  it('binds only --host: 127.0.0.2 answers, 127.0.0.1 on the same port does not', async () => {
    const port = await freePort();
    const p = start(bin, ['-m', model, '--host', '127.0.0.2', '--port', String(port)]);
    await waitWhileRunning(p, '/health ok on 127.0.0.2', async () => (await probe(`http://127.0.0.2:${port}/health`)).startsWith('200'));
    expect(await probe(`http://127.0.0.1:${port}/health`)).toBe('down');
  });

  it('a host beyond loopback, or a port in use, is a bind failure: exit 1', async () => {
    const p = start(bin, ['-m', model, '--host', '0.0.0.0', '--port', String(await freePort())]);
    expect(await p.exited).toEqual({ code: 1, signal: null });
    expect(p.out.stderr).toMatch(/couldn't bind to server socket: hostname=0\.0\.0\.0 port=\d+/);

    const port = await freePort();
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', resolve));
    try {
      const q = start(bin, ['-m', model, '--port', String(port)]);
      expect(await q.exited).toEqual({ code: 1, signal: null });
      expect(q.out.stderr).toContain(`couldn't bind to server socket: hostname=127.0.0.1 port=${port}`);
    } finally {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
  });

  it('POST /inference with a multipart file answers {"text": ...} as json, text and verbose_json', async () => {
    const { base } = await serving(bin);
    const file = new Blob([wav()], { type: 'audio/wav' });
    const json = await transcribe(`${base}/inference`, { file, response_format: 'json' });
    expect(json).toMatchObject({ status: 200, type: 'application/json' });
    expect(JSON.parse(json.body)).toEqual({ text: ' Hello from the whisper stand-in.\n' });
    const text = await transcribe(`${base}/inference`, { file, response_format: 'text' });
    expect(text).toEqual({ status: 200, type: 'text/html; charset=utf-8', body: ' Hello from the whisper stand-in.\n' });
    const verbose = JSON.parse((await transcribe(`${base}/inference`, { file, response_format: 'verbose_json' })).body);
    expect(verbose).toMatchObject({ task: 'transcribe', language: 'english', duration: 0.25 });
    expect(verbose.segments).toHaveLength(1);
  });

  it('inference errors: no file field → 400, undecodable audio → 400, other paths → 404 "File Not Found"', async () => {
    const { base } = await serving(bin);
    expect(await transcribe(`${base}/inference`, { response_format: 'json' })).toMatchObject({ status: 400, body: `{"error":"no 'file' field in the request"}` });
    expect(await transcribe(`${base}/inference`, { file: new Blob(['not audio']) })).toMatchObject({ status: 400, body: '{"error":"failed to read audio data"}' });
    expect(await probe(`${base}/v1/audio/transcriptions`)).toBe('404 File Not Found (/v1/audio/transcriptions)');
  });

  it('--inference-path moves the endpoint (the default one is then 404)', async () => {
    const { base } = await serving(bin, ['--inference-path', '/v1/audio/transcriptions']);
    const r = await transcribe(`${base}/v1/audio/transcriptions`, { file: new Blob([wav()]) });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).text).toContain('Hello');
    expect((await transcribe(`${base}/inference`, { file: new Blob([wav()]) })).status).toBe(404);
  });

  it('a failed POST /load leaves /health at 503 until a good one, as upstream', async () => {
    const { base } = await serving(bin);
    expect((await transcribe(`${base}/load`, { model: join(dir, 'missing.bin') })).body).toBe('{"error":"model not found!"}');
    expect(await probe(`${base}/health`)).toBe('503 {"status":"loading model"}');
    expect(await transcribe(`${base}/load`, { model })).toMatchObject({ status: 200, body: 'Load was successful!' });
    expect(await probe(`${base}/health`)).toBe('200 {"status":"ok"}');
  });

  it('SIGTERM once serving: "Caught signal 15, shutting down gracefully...", exit 0', async () => {
    const { p } = await serving(bin);
    p.child.kill('SIGTERM');
    expect(await p.exited).toEqual({ code: 0, signal: null });
    expect(p.out.stdout).toContain('Caught signal 15, shutting down gracefully...');
  });

  it('SIGTERM while the model loads kills it by the signal (no handler yet), as upstream', async () => {
    const p = start(slow, ['-m', model, '--port', String(await freePort())]);
    await waitWhileRunning(p, 'model load to begin', () => p.out.stderr.includes('loading model from'));
    p.child.kill('SIGTERM');
    expect(await p.exited).toEqual({ code: null, signal: 'SIGTERM' });
  });

  it('crash mode aborts while loading; never-ready mode never listens', async () => {
    const crash = join(dir, 'whisper-crash', 'whisper-server');
    const never = join(dir, 'whisper-never', 'whisper-server');
    await writeWhisperStandin(crash, { mode: 'crash' });
    await writeWhisperStandin(never, { mode: 'never-ready' });
    const c = start(crash, ['-m', model, '--port', String(await freePort())]);
    expect(await c.exited).toEqual({ code: null, signal: 'SIGABRT' });
    expect(c.out.stderr).toContain('GGML_ASSERT');
    const port = await freePort();
    const n = start(never, ['-m', model, '--port', String(port)]);
    await waitWhileRunning(n, 'model load to begin', () => n.out.stderr.includes('loading model from'));
    await new Promise((r) => setTimeout(r, 800));
    expect(await probe(`http://127.0.0.1:${port}/health`)).toBe('down');
    expect(n.child.exitCode).toBeNull();
  });
});

describe('Kokoro-FastAPI checkout with the uvicorn stand-in', () => {
  let k: KokoroCheckout;

  beforeAll(async () => {
    k = await writeKokoroCheckout(join(dir, 'Kokoro-FastAPI'), { version: '0.8.1', warmupMs: 1_200 });
  });

  function uvicorn(args: string[], opts: { cwd?: string; env?: Record<string, string>; bin?: string } = {}): Proc {
    return start(opts.bin ?? k.uvicorn, args, { cwd: opts.cwd ?? k.root, env: { ...k.env, ...opts.env } });
  }

  async function serving(extra: string[] = []): Promise<{ p: Proc; base: string }> {
    const port = await freePort();
    const p = uvicorn([k.app, '--host', '127.0.0.1', '--port', String(port), ...extra]);
    const base = `http://127.0.0.1:${port}`;
    await waitWhileRunning(p, 'Uvicorn running', () => p.out.stderr.includes(`Uvicorn running on ${base}`));
    return { p, base };
  }

  it('the checkout has upstream start scripts (0.0.0.0:8880); run, they leave a marker and fail the bind', async () => {
    const script = await readFile(k.startCpu, 'utf8');
    expect(script).toContain('--host 0.0.0.0 --port 8880');
    expect(existsSync(k.startScriptMarker)).toBe(false);
    const p = start(k.startCpu, [], { cwd: k.root });
    expect(await p.exited).toEqual({ code: 1, signal: null });
    expect(p.out.stderr).toContain("error while attempting to bind on address ('0.0.0.0', 8880)");
    expect(existsSync(k.startScriptMarker)).toBe(true);
    await rm(k.startScriptMarker);
  });

  it('warms up before binding: nothing listens until "Uvicorn running on http://H:P", which comes last', async () => {
    const port = await freePort();
    const p = uvicorn([k.app, '--host', '127.0.0.1', '--port', String(port)]);
    const base = `http://127.0.0.1:${port}`;
    await waitWhileRunning(p, 'startup to begin', () => p.out.stderr.includes('Waiting for application startup.'));
    expect(await probe(`${base}/health`)).toBe('down');
    await waitWhileRunning(p, 'Uvicorn running', () => p.out.stderr.includes('Uvicorn running on'));
    expect(await probe(`${base}/health`)).toBe('200 {"status":"healthy"}');
    const lines = p.out.stderr.trim().split('\n');
    expect(lines.map((l) => l.replace(/\[\d+\]/, '[PID]'))).toEqual([
      'INFO:     Started server process [PID]',
      'INFO:     Waiting for application startup.',
      'INFO:     Application startup complete.',
      `INFO:     Uvicorn running on ${base} (Press CTRL+C to quit)`,
    ]);
    expect(p.out.stdout).toContain('Model warmed up on cpu: kokoro_v1');
    expect(p.out.stdout).toContain('5 voice packs loaded');
  });

  it('serves /v1/models, /v1/audio/voices and /openapi.json (version from VERSION)', async () => {
    const { base } = await serving();
    const models = (await (await fetch(`${base}/v1/models`)).json()) as { object: string; data: { id: string }[] };
    expect(models.object).toBe('list');
    expect(models.data.map((m) => m.id)).toEqual(['tts-1', 'tts-1-hd', 'kokoro', 'gpt-4o-mini-tts']);
    const voices = (await (await fetch(`${base}/v1/audio/voices`)).json()) as { voices: unknown };
    expect(voices.voices).toEqual(['af_bella', 'af_heart', 'am_adam', 'bf_emma', 'bm_george'].map((id) => ({ id, name: id })));
    expect(((await (await fetch(`${base}/openapi.json`)).json()) as { info: { version: string } }).info.version).toBe('0.8.1');
    expect(await probe(`${base}/nope`)).toBe('404 {"detail":"Not Found"}');
  });

  it('POST /v1/audio/speech returns audio of the asked format; bad voice 400, missing input 422', async () => {
    const { base, p } = await serving();
    const speak = (body: unknown) =>
      fetch(`${base}/v1/audio/speech`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const w = await speak({ model: 'kokoro', input: 'Hello.', voice: 'af_heart', response_format: 'wav', stream: false });
    expect(w.status).toBe(200);
    expect(w.headers.get('content-type')).toBe('audio/wav');
    expect(w.headers.get('content-disposition')).toBe('attachment; filename=speech.wav');
    const audio = Buffer.from(await w.arrayBuffer());
    expect(audio.toString('latin1', 0, 4)).toBe('RIFF');
    expect(audio.toString('latin1', 8, 12)).toBe('WAVE');
    expect(Number(w.headers.get('content-length'))).toBe(audio.length);

    const m = await speak({ input: 'Hello.', voice: 'alloy' }); // defaults: kokoro, mp3, streamed
    expect(m.headers.get('content-type')).toBe('audio/mpeg');
    expect(m.headers.get('content-length')).toBeNull();
    const mp3 = Buffer.from(await m.arrayBuffer());
    expect([mp3[0], (mp3[1] ?? 0) & 0xe0]).toEqual([0xff, 0xe0]);

    const bad = await speak({ input: 'x', voice: 'zz_nobody' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { detail: unknown }).detail).toMatchObject({ error: 'validation_error', type: 'invalid_request_error' });
    expect((await speak({ voice: 'af_heart' })).status).toBe(422);
    expect(p.out.stdout).toMatch(/INFO: {5}127\.0\.0\.1:\d+ - "POST \/v1\/audio\/speech HTTP\/1\.1" 200 OK/);
  });

  it('`.venv/bin/python -m uvicorn` runs the same entry', async () => {
    const port = await freePort();
    const p = uvicorn(['-m', 'uvicorn', k.app, '--host', '127.0.0.1', `--port=${port}`, '--workers', '1', '--log-level', 'info'], { bin: k.python });
    await waitWhileRunning(p, 'healthy', async () => (await probe(`http://127.0.0.1:${port}/health`)).startsWith('200'));
  });

  it('refuses to start outside the checkout or without the app module: exit 1', async () => {
    const p = uvicorn([k.app, '--port', String(await freePort())], { cwd: dir });
    expect(await p.exited).toEqual({ code: 1, signal: null });
    expect(p.out.stderr).toContain('ERROR:    Error loading ASGI app. Could not import module "api.src.main".');
    const q = uvicorn(['api.src.nothere:app', '--port', String(await freePort())]);
    expect(await q.exited).toEqual({ code: 1, signal: null });
    expect(q.out.stderr).toContain('Could not import module "api.src.nothere".');
  });

  it('without MODEL_DIR it looks in /app (the container path): startup fails, exit 3', async () => {
    const p = uvicorn([k.app, '--port', String(await freePort())], { env: { MODEL_DIR: '' } });
    expect(await p.exited).toEqual({ code: 3, signal: null });
    expect(p.out.stdout).toContain('Model files not found!');
    expect(p.out.stderr).toContain('ERROR:    Application startup failed. Exiting.');
  });

  it('click usage errors exit 2; --version names uvicorn 0.34.0', async () => {
    const a = uvicorn([k.app, '--bogus']);
    expect(await a.exited).toEqual({ code: 2, signal: null });
    expect(a.out.stderr).toBe("Usage: uvicorn [OPTIONS] APP\nTry 'uvicorn --help' for help.\n\nError: No such option: --bogus\n");
    const b = uvicorn([k.app, '--port', 'abc']);
    expect(await b.exited).toEqual({ code: 2, signal: null });
    expect(b.out.stderr).toContain("Error: Invalid value for '--port': 'abc' is not a valid integer.");
    const c = uvicorn(['--port', '1']);
    expect(await c.exited).toEqual({ code: 2, signal: null });
    expect(c.out.stderr).toContain("Error: Missing argument 'APP'.");
    const v = uvicorn(['--version']);
    expect(await v.exited).toEqual({ code: 0, signal: null });
    expect(v.out.stdout).toMatch(/^Running uvicorn 0\.34\.0 with CPython/);
  });

  it('binds only --host: 127.0.0.3 answers, 127.0.0.1 does not; 0.0.0.0 is refused (exit 1)', async () => {
    const port = await freePort();
    const p = uvicorn([k.app, '--host', '127.0.0.3', '--port', String(port)]);
    await waitWhileRunning(p, 'Uvicorn running', () => p.out.stderr.includes('Uvicorn running on http://127.0.0.3'));
    expect((await probe(`http://127.0.0.3:${port}/health`)).startsWith('200')).toBe(true);
    expect(await probe(`http://127.0.0.1:${port}/health`)).toBe('down');
    const q = uvicorn([k.app, '--host', '0.0.0.0', '--port', String(await freePort())]);
    expect(await q.exited).toEqual({ code: 1, signal: null });
  });

  it('SIGTERM: shutdown lines, then it dies by SIGTERM (uvicorn re-raises it); SIGINT exits 0', async () => {
    const { p } = await serving();
    p.child.kill('SIGTERM');
    expect(await p.exited).toEqual({ code: null, signal: 'SIGTERM' });
    expect(p.out.stderr).toContain('INFO:     Shutting down\n');
    expect(p.out.stderr).toMatch(/INFO: {5}Finished server process \[\d+\]\n$/);
    const { p: q } = await serving();
    q.child.kill('SIGINT');
    expect(await q.exited).toEqual({ code: 0, signal: null });
  });

  it('with --workers 2 the socket is bound and "Uvicorn running" printed before the warm-up ends', async () => {
    const { p, base } = await serving(['--workers', '2']);
    expect(await probe(`${base}/health`)).toBe('200 {"status":"healthy"}'); // held until warmed up
    const at = (line: string): number => p.out.stderr.indexOf(line);
    expect(at('Application startup complete.')).toBeGreaterThan(at('Uvicorn running on'));
    expect(at('Uvicorn running on')).toBeLessThan(at('Waiting for application startup.'));
  });

  it('crash mode fails the startup with exit 3; never-ready never listens', async () => {
    const crash = await writeKokoroCheckout(join(dir, 'kokoro-crash'), { mode: 'crash', warmupMs: 0 });
    const c = start(crash.uvicorn, [crash.app, '--port', String(await freePort())], { cwd: crash.root, env: crash.env });
    expect(await c.exited).toEqual({ code: 3, signal: null });
    const never = await writeKokoroCheckout(join(dir, 'kokoro-never'), { mode: 'never-ready' });
    const port = await freePort();
    const n = start(never.uvicorn, [never.app, '--port', String(port)], { cwd: never.root, env: never.env });
    await waitWhileRunning(n, 'startup to begin', () => n.out.stderr.includes('Waiting for application startup.'));
    await new Promise((r) => setTimeout(r, 800));
    expect(await probe(`http://127.0.0.1:${port}/health`)).toBe('down');
    expect(n.child.exitCode).toBeNull();
  });
});

describe('release server model route', () => {
  let server: ReleaseServer;
  const body = Buffer.concat([Buffer.from('lmgg'), Buffer.alloc(2 * 1024 * 1024 - 4, 7)]);
  for (let i = 0; i < body.length; i += 4093) body[i] = i % 251;

  beforeAll(async () => {
    server = await startReleaseServer();
  });

  afterAll(async () => {
    await server.close();
  });

  /** GET with node:http: the bytes that arrived and whether the body was complete. */
  function rawGet(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer; complete: boolean }> {
    return new Promise((resolve, reject) => {
      const req = request(url, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        const done = (): void => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), complete: res.complete });
        res.on('end', done);
        res.on('error', done);
        res.on('aborted', done);
      });
      req.on('error', reject);
      req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
      req.end();
    });
  }

  it('serves the file whole with its sha256 (ETag and a .sha256 file), and byte ranges with 206', async () => {
    const m = server.addModel({ path: '/models/ggml-base.en.bin', body });
    expect(m).toEqual({ url: `${server.baseUrl}/models/ggml-base.en.bin`, sha256: sha(body), size: body.length });
    const whole = await rawGet(m.url);
    expect(whole.status).toBe(200);
    expect(sha(whole.body)).toBe(m.sha256);
    expect(whole.headers['accept-ranges']).toBe('bytes');
    expect(whole.headers.etag).toBe(`"${m.sha256}"`);
    expect((await rawGet(`${m.url}.sha256`)).body.toString()).toBe(`${m.sha256}  ggml-base.en.bin\n`);

    const tail = await rawGet(m.url, { range: 'bytes=1000-' });
    expect(tail.status).toBe(206);
    expect(tail.headers['content-range']).toBe(`bytes 1000-${body.length - 1}/${body.length}`);
    expect(tail.body.equals(body.subarray(1000))).toBe(true);
    expect((await rawGet(m.url, { range: 'bytes=-10' })).body.equals(body.subarray(-10))).toBe(true);
    const beyond = await rawGet(m.url, { range: `bytes=${body.length}-` });
    expect(beyond.status).toBe(416);
    expect(beyond.headers['content-range']).toBe(`bytes */${body.length}`);
    expect((await rawGet(m.url, { range: 'bytes=5-', 'if-range': '"other"' })).status).toBe(200);
  });

  it('corrupt serves the same length with other bytes: the sha256 does not match', async () => {
    const m = server.addModel({ path: '/models/corrupt.bin', body, corrupt: true });
    const got = await rawGet(m.url);
    expect(got.status).toBe(200);
    expect(got.body.length).toBe(m.size);
    expect(sha(got.body)).not.toBe(m.sha256);
  });

  it('cutOnceAfterBytes cuts the first download short; a Range request resumes it to the right sha256', async () => {
    const m = server.addModel({ path: '/models/cut.bin', body, cutOnceAfterBytes: 700_000 });
    const first = await rawGet(m.url);
    expect(first.complete).toBe(false);
    expect(first.body.length).toBeLessThan(body.length);
    const rest = await rawGet(m.url, { range: `bytes=${first.body.length}-` });
    expect(rest.status).toBe(206);
    expect(sha(Buffer.concat([first.body, rest.body]))).toBe(m.sha256);
    const log = server.modelRequests.filter((r) => r.path === '/models/cut.bin');
    expect(log.map((r) => [r.status, r.range])).toEqual([[200, undefined], [206, `bytes=${first.body.length}-`]]);
    expect(log[0]?.bytes).toBe(700_000);
  });
});
