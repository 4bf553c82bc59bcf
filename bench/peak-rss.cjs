// Preloaded with --require by bench/plan.ts: reports this process's peak RSS (VmHWM, KiB) at exit.
const fs = require('node:fs');
process.on('exit', () => {
  const m = /VmHWM:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  fs.writeSync(2, `VMHWM ${m ? m[1] : '?'}\n`);
});
