// What a person would see asking LiveKit whether it is up: "200 OK", "406 Not Ready…", or "down".

export async function livekitHealth(port: number): Promise<string> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/`);
    return `${r.status} ${(await r.text()).trim()}`;
  } catch {
    return 'down';
  }
}
