// Keeps a long-running watch's memory flat. Not a leak: what one cycle leaves behind is garbage.
// But a watch runs for months, and left to its defaults V8 (1) doubles its young generation each
// time enough objects outlive a scavenge, which every cycle has in flight while it waits on
// systemctl and HTTP, and (2) lets promoted garbage pile up in the old generation, raising its
// limit as it goes. Measured over the first thousand cycles (bench/watch.ts): RSS +30 MB.
// So: the young generation stays at its starting size, and when the heap has grown a few MB past
// what was live after the last full collection, the watch collects while it is idle anyway.

import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const SLACK_BYTES = 2 * 1024 * 1024;

/** Call once at start; call the returned function after each reconcile (an idle moment). */
export function heapKeeper(): () => void {
  setFlagsFromString('--semi-space-growth-factor=1');
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as unknown;
  if (typeof gc !== 'function') return () => undefined;
  let floor = getHeapStatistics().used_heap_size;
  return () => {
    if (getHeapStatistics().used_heap_size < floor + SLACK_BYTES) return;
    (gc as () => void)();
    floor = getHeapStatistics().used_heap_size;
  };
}
