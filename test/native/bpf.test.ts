// The in-kernel BPF stand-ins: every program loads, attaches to its
// tracepoint and finds and calls its callee once per request (counted by
// the callee, for this process only), on two rings in turn so that a lookup
// keyed by the ring must tell them apart, and only through the fds named;
// every program runs (the kernel's run_cnt); the no-program shapes call
// nothing; and without the right to load BPF the lane skips with a reason
// that names root.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readKernelBtf } from '../../lib/btf.js';
import { bpfAddon, bpfBtf, checkBpfStandins } from '../../native/bpf.js';
import { probeKernel } from '../../native/index.js';

const REQUESTS = 20;

function prerequisites(): string | null {
  const k = probeKernel();
  if (!k.available) return k.reason;
  if (!bpfAddon().ok) return 'native addon not built';
  const btf = readKernelBtf();
  if (!btf.ok) return btf.reason;
  return null;
}

const missing = prerequisites();

describe('BPF stand-ins', { skip: missing ?? false }, () => {
  it('load, attach and call their callee once per request', (t) => {
    if (process.getuid?.() !== 0) return t.skip('loading BPF programs needs root');
    const addon = bpfAddon();
    const btf = readKernelBtf();
    assert.ok(addon.ok && btf.ok);
    const facts = bpfBtf(btf.btf);
    assert.ok(facts.ok, facts.ok ? '' : facts.reason);
    const check = checkBpfStandins(addon.addon, facts.btf, REQUESTS);
    assert.ok(check.ok, check.ok ? '' : check.reason);
    const both = 2 * REQUESTS;
    assert.deepEqual(Object.fromEntries(check.counts), {
      none: 0,
      empty: 0,
      array: both,
      hash: both,
      // Each ring's first request registers its (ring, op) entry; every later one finds it.
      // A key that did not tell the rings apart would find the first ring's entry: both - 1.
      'per-ring': both - 2,
      'tail-call': both,
      'file-none': 0,
      'file-array': both,
    });
    // The tracepoints fire for every process's requests: at least ours.
    for (const [shape, runs] of check.runs) {
      if (['none', 'file-none'].includes(shape)) assert.equal(runs, 0, shape);
      else assert.ok(runs >= both, `${shape}: ${runs} runs for ${both} requests`);
    }
  });

  it('says root is needed when the process may not load BPF', (t) => {
    if (process.getuid?.() !== 0) return t.skip('needs root to drop to another user');
    const script = `
      import { readKernelBtf } from './lib/btf.js';
      import { bpfAddon, bpfBtf, checkBpfStandins } from './native/bpf.js';
      const a = bpfAddon(); const b = readKernelBtf();
      const facts = bpfBtf(b.btf);
      const r = checkBpfStandins(a.addon, facts.btf, 1);
      console.log(JSON.stringify(r.ok ? { ok: true } : r));`;
    const dist = fileURLToPath(new URL('../../', import.meta.url));
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: dist,
      uid: 65534,
      gid: 65534,
      encoding: 'utf8',
    });
    if (run.status !== 0 && /EACCES|permission/i.test(run.stderr))
      return t.skip(`the unprivileged user cannot read the build: ${run.stderr.split('\n')[0]}`);
    assert.equal(run.status, 0, run.stderr);
    const r = JSON.parse(run.stdout) as { ok: boolean; reason?: string };
    assert.equal(r.ok, false);
    assert.match(r.reason ?? '', /needs root \(or CAP_BPF and CAP_PERFMON\)$/);
  });
});
