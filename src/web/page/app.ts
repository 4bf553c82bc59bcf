// The page's script (bundled with livekit-client into dist/web/app.js by scripts/build.mjs).
// It holds no secret: the launch key (taken from ?key= on the first load, then kept in
// sessionStorage and dropped from the address bar) and tokens minted by vm web for a test room.

import { Room, RoomEvent, type LocalTrackPublication } from 'livekit-client';

const KEY_STORE = 'vm-web-key';
const REFRESH_MS = 3_000;

interface Connection {
  readonly ok: boolean;
  readonly target?: 'local' | 'fallback';
  readonly url?: string;
  readonly api_key?: string;
  readonly why?: string;
  readonly warning?: string;
  readonly reason?: string;
  readonly todo?: string;
}

interface Status {
  readonly file: string | null;
  readonly title?: string;
  readonly local: null | { state: 'healthy' | 'starting' | 'down'; detail: string; version: string | null; url: string; api_key: string | null; api: string | null; declared_state: string };
  readonly fallback: null | { url: string; api_key: string; answers: boolean | null; detail: string | null };
  readonly connection: Connection;
  readonly livekit_urls: readonly string[];
}

interface Token {
  readonly access_token: string;
  readonly url: string;
  readonly api_key: string;
  readonly room: string | null;
  readonly identity: string;
  readonly expires_at: string;
  readonly target: 'local' | 'fallback';
}

const $ = (id: string): HTMLElement => {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`#${id} is missing from the page`);
  return el;
};
const setText = (id: string, text: string) => {
  $(id).textContent = text;
};

function takeKey(): string | null {
  const params = new URLSearchParams(location.search);
  const fromUrl = params.get('key');
  if (fromUrl !== null && fromUrl !== '') {
    sessionStorage.setItem(KEY_STORE, fromUrl);
    // The key stays out of the address bar, history and bookmarks from now on.
    history.replaceState(null, '', location.pathname);
  }
  return sessionStorage.getItem(KEY_STORE);
}

const key = takeKey();
let token: Token | undefined;
let status: Status | undefined;
let minting = false;
let room: Room | undefined;

class KeyRefused extends Error {}

async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  if (key === null) throw new KeyRefused('no key');
  const res = await fetch(path, { ...init, headers: { ...(init.headers as Record<string, string> | undefined), 'X-VM-Key': key }, cache: 'no-store' });
  const body = (await res.json().catch(() => ({}))) as T & { error?: string };
  if (res.status === 401) throw new KeyRefused(body.error ?? 'key refused');
  if (!res.ok) throw new Error(body.error ?? `${res.status} ${res.statusText}`);
  return body;
}

function showKeyProblem(): void {
  const m = $('key-message');
  m.hidden = false;
  m.textContent = 'This page needs the key vm web printed: open the URL it printed (http://127.0.0.1:PORT/?key=…). A new `vm web` has a new key.';
}

/** `ws(s)://host` → `http(s)://host`: LiveKit's HTTP endpoints live on the same port. */
export function httpBase(url: string): string {
  const u = new URL(url);
  u.protocol = u.protocol === 'wss:' ? 'https:' : u.protocol === 'ws:' ? 'http:' : u.protocol;
  return u.origin;
}

/** The LiveKit URLs this page's CSP lets it reach (the server wrote them into the page). */
const allowedUrls = (document.querySelector('meta[name="vm-livekit-urls"]')?.getAttribute('content') ?? '').split(' ').filter((u) => u !== '');

/** The file names a LiveKit URL this page may not reach: reload once for a new CSP. */
function reloadForNewUrls(s: Status): boolean {
  const missing = s.livekit_urls.filter((u) => !allowedUrls.includes(u));
  if (missing.length === 0) return false;
  const mark = missing.join(' ');
  if (sessionStorage.getItem('vm-web-reloaded-for') === mark) return false;
  sessionStorage.setItem('vm-web-reloaded-for', mark);
  location.reload();
  return true;
}

function render(s: Status): void {
  if (reloadForNewUrls(s)) return;
  const title = s.title ?? 'LiveKit';
  setText('local-h', `Local ${title}`);
  setText('file', s.file ?? 'built-in default (no voicemode.services.yaml found)');
  const pill = $('local-state');
  if (s.local === null) {
    pill.dataset['state'] = 'down';
    pill.textContent = 'not declared';
  } else {
    pill.dataset['state'] = s.local.state;
    pill.textContent = s.local.state;
    setText('local-detail', s.local.detail);
    setText('local-version', s.local.version ?? 'not installed');
    setText('local-url', s.local.url);
    setText('local-key', s.local.api_key ?? '–');
    setText('local-api', s.local.api ?? '–');
  }
  const c = s.connection;
  const using = $('using');
  if (!c.ok) {
    using.hidden = false;
    using.className = 'banner bad';
    using.textContent = `No ${title} to connect to: ${c.reason ?? 'unknown'}. To fix: ${c.todo ?? 'run `vm apply`'}.`;
  } else if (c.target === 'fallback') {
    using.hidden = false;
    using.className = 'banner warn';
    using.textContent = `The local ${title} is ${s.local?.state ?? 'down'}: using the fallback ${c.url ?? ''}. Every value below is the fallback's.`;
  } else {
    using.hidden = c.warning === undefined;
    using.className = 'banner warn';
    using.textContent = c.warning ?? '';
  }
  setText('conn-target', !c.ok ? 'none' : c.target === 'fallback' ? 'fallback' : 'local');
  setText('conn-why', c.ok ? `(${c.why ?? ''})` : '');
  setText('conn-url', c.ok ? (c.url ?? '') : '–');
  setText('conn-key', c.ok ? (c.api_key ?? '') : '–');
  for (const id of ['new-token', 'test-button', 'join-button']) ($(id) as HTMLButtonElement).disabled = !c.ok;
  // Every value shown is the chosen server's: a token minted for another server goes.
  if (token !== undefined && (!c.ok || token.url !== c.url || token.target !== c.target)) {
    token = undefined;
    ($('token') as HTMLTextAreaElement).value = '';
    setText('token-meta', '');
    setText('test-result', '');
  }
  if (c.ok && token === undefined) void mint();
}

async function refresh(): Promise<void> {
  try {
    status = await api<Status>('/api/status');
    render(status);
    setText('refreshed', `updated ${new Date().toLocaleTimeString()}`);
  } catch (e) {
    if (e instanceof KeyRefused) return showKeyProblem();
    setText('refreshed', `vm web does not answer: ${(e as Error).message}`);
  }
}

async function mint(): Promise<void> {
  if (minting) return;
  minting = true;
  try {
    token = await api<Token>('/api/token', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    ($('token') as HTMLTextAreaElement).value = token.access_token;
    setText('token-meta', `room ${token.room ?? '–'}, identity ${token.identity}, valid until ${new Date(token.expires_at).toLocaleTimeString()}`);
    setText('test-result', '');
  } catch (e) {
    if (e instanceof KeyRefused) showKeyProblem();
    else setText('token-meta', `no token: ${(e as Error).message}`);
  } finally {
    minting = false;
  }
}

async function testConnection(): Promise<void> {
  const out = $('test-result');
  out.className = '';
  if (token === undefined) await mint();
  const t = token;
  if (t === undefined) {
    out.textContent = 'no token to test';
    return;
  }
  out.textContent = `asking ${t.url}…`;
  try {
    const res = await fetch(`${httpBase(t.url)}/rtc/validate?access_token=${encodeURIComponent(t.access_token)}`, { cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer' });
    const text = (await res.text()).trim();
    if (res.ok) {
      out.className = 'good';
      out.textContent = `token accepted by LiveKit at ${t.url}`;
    } else {
      out.className = 'bad-text';
      out.textContent = `LiveKit at ${t.url} refused the token: ${res.status} ${text}`;
    }
  } catch (e) {
    out.className = 'bad-text';
    out.textContent = `could not reach LiveKit at ${t.url}: ${(e as Error).message} (is it running? does the browser reach it?)`;
  }
}

// Join a test room: publish the microphone and draw its level. Needs a real LiveKit (a media
// server): vm's tests cannot exercise this part (see README).
async function join(): Promise<void> {
  const out = $('join-result');
  if (token === undefined) await mint();
  const t = token;
  if (t === undefined) return;
  out.textContent = `joining ${t.room ?? ''} at ${t.url}…`;
  const r = new Room({ adaptiveStream: false, dynacast: false });
  room = r;
  r.on(RoomEvent.Disconnected, () => {
    out.textContent = 'left the room';
    ($('join-button') as HTMLButtonElement).hidden = false;
    $('leave-button').hidden = true;
    ($('level') as HTMLMeterElement).value = 0;
  });
  try {
    await r.connect(t.url, t.access_token);
    const pub = await r.localParticipant.setMicrophoneEnabled(true);
    out.textContent = `in room ${r.name} as ${r.localParticipant.identity}, publishing the microphone`;
    ($('join-button') as HTMLButtonElement).hidden = true;
    $('leave-button').hidden = false;
    if (pub !== undefined) meter(pub, r);
  } catch (e) {
    out.textContent = `could not join: ${(e as Error).message}`;
    await r.disconnect();
  }
}

function meter(pub: LocalTrackPublication, r: Room): void {
  const track = pub.track?.mediaStreamTrack;
  if (track === undefined) return;
  const ctx = new AudioContext();
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 512;
  ctx.createMediaStreamSource(new MediaStream([track])).connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  const level = $('level') as HTMLMeterElement;
  const draw = () => {
    if (room !== r || r.state === 'disconnected') {
      void ctx.close();
      return;
    }
    analyser.getFloatTimeDomainData(samples);
    let sum = 0;
    for (const v of samples) sum += v * v;
    level.value = Math.min(1, Math.sqrt(sum / samples.length) * 4);
    requestAnimationFrame(draw);
  };
  draw();
}

async function copy(id: string, button: HTMLButtonElement): Promise<void> {
  const el = $(id);
  const text = el instanceof HTMLTextAreaElement ? el.value : (el.textContent ?? '');
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // No clipboard permission: select it so Ctrl-C copies it.
    if (el instanceof HTMLTextAreaElement) el.select();
  }
  const was = button.textContent;
  button.textContent = 'Copied';
  setTimeout(() => (button.textContent = was), 1200);
}

function start(): void {
  for (const b of document.querySelectorAll<HTMLButtonElement>('button[data-copy]')) b.addEventListener('click', () => void copy(b.dataset['copy'] ?? '', b));
  $('new-token').addEventListener('click', () => {
    token = undefined;
    void mint();
  });
  $('test-button').addEventListener('click', () => void testConnection());
  $('join-button').addEventListener('click', () => void join());
  $('leave-button').addEventListener('click', () => void room?.disconnect());
  if (key === null) return showKeyProblem();
  void refresh();
  setInterval(() => void refresh(), REFRESH_MS);
}

start();
