// What a person would see asking LiveKit whether it is up: "200 OK", "406 Not Ready…" (the first
// line of the body), or "down" (refused, or no answer within 2 s: a hung server fails the
// assertion instead of the test's own timeout).

export async function livekitHealth(port: number): Promise<string> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2_000) });
    return `${r.status} ${(await r.text()).trim().split('\n')[0]}`;
  } catch {
    return 'down';
  }
}
