// The run stamps (quick, too few CPUs for the threads, steal, TCG) and the
// environment block: on hand-made environments, so no assertion depends on
// this machine.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CpuTimes } from '../../bench/proc.js';
import { type Environment, type Results, validateResults } from '../../bench/results.js';
import { appendixReport } from '../../reports/appendix.js';
import {
  largestThreadCount,
  runCaveatList,
  runCaveats,
  runStealPercent,
  STEAL_CAVEAT_PERCENT,
  TCG_CAVEAT,
  threadsCouldRunInParallel,
  usableCpus,
} from '../../reports/caveats.js';
import {
  activeMitigations,
  environmentGroups,
  environmentLines,
  runCommit,
  timingParams,
} from '../../reports/environment-view.js';
import { textReport } from '../../reports/text.js';
import { sampleResults } from './fixtures.js';

const TIMES: CpuTimes = {
  user: 1000,
  nice: 0,
  system: 500,
  idle: 8000,
  iowait: 0,
  irq: 0,
  softirq: 0,
  steal: 0,
};

/** CPU times `ticks` later, `steal` of them stolen and the rest busy. */
function later(ticks: number, steal: number): CpuTimes {
  return { ...TIMES, user: TIMES.user + ticks - steal, steal: TIMES.steal + steal };
}

const BEFORE = {
  at: '2026-12-02T10:00:00.000Z',
  loadavg: { one: 0.5, five: 0.4, fifteen: 0.3, running: 1, tasks: 200 },
  cpuTimes: TIMES,
};

const CMDLINE =
  'BOOT_IMAGE=/boot/vmlinuz-6.18.0-1-generic root=UUID=0b6c2a4e-7c1d-4f0e-9d55-0e3c1c2a9f11 ro mitigations=auto,nosmt page_reporting.page_reporting_order=11 rcupdate.rcu_cpu_stall_cputime=1 -- --init-only';

/** A full environment as bench/environment.ts writes it; `over` replaces fields. */
function fullEnv(over: Partial<Environment> = {}): Environment {
  return {
    kernel: { release: '6.18.0-1-generic', version: '#1 SMP PREEMPT_DYNAMIC', machine: 'x86_64' },
    cpu: { model: 'AMD EPYC 9R14 96-Core Processor', count: 4 },
    cpuId: {
      vendor: 'AuthenticAMD',
      family: 25,
      model: 17,
      stepping: 1,
      microcode: '0xa101148',
      modelName: 'AMD EPYC 9R14 96-Core Processor',
      processors: 4,
      hypervisorFlag: true,
    },
    affinity: [0, 1, 2, 3],
    availableParallelism: 4,
    cgroupCpus: null,
    kernelConfig: {
      source: '/proc/config.gz',
      preempt: 'none',
      preemptDynamic: true,
      hz: 250,
      noHzFull: false,
      sanitizers: [],
      lockdep: false,
      debug: ['DEBUG_LIST'],
      mitigations: ['RETPOLINE', 'SRSO'],
      bpfJitAlwaysOn: true,
    },
    cmdline: CMDLINE,
    mitigations: {
      meltdown: 'Not affected',
      spec_rstack_overflow: 'Mitigation: Safe RET',
      spectre_v2:
        'Mitigation: Retpolines; STIBP: disabled; RSB filling; PBRSB-eIBRS: Not affected; BHI: Not affected',
      tsa: 'Not affected',
    },
    bpfJit: 'on',
    hypervisor: 'kvm',
    load: {
      before: BEFORE,
      after: {
        at: '2026-12-02T10:10:00.000Z',
        loadavg: { one: 2.1, five: 1.2, fifteen: 0.6, running: 3, tasks: 201 },
        cpuTimes: later(10_000, 100),
      },
    },
    node: 'v20.19.0',
    gitCommit: '0123456789abcdef0123456789abcdef01234567+dirty',
    git: { commit: '0123456789abcdef0123456789abcdef01234567', dirty: true },
    ...over,
  };
}

async function withEnv(env: Environment | null, quick = false): Promise<Results> {
  const r = await sampleResults({ quick });
  return { ...r, environment: env as never };
}

describe('run stamps', () => {
  it('a full run on enough CPUs with little steal has none', async () => {
    const r = await withEnv(fullEnv());
    assert.equal(largestThreadCount(r), 2);
    assert.deepEqual(runCaveats(r), []);
    assert.equal((runStealPercent(r) ?? -1).toFixed(1), '1.0');
  });

  it('a quick run says it is not citable, with its rounds and sample length', async () => {
    const r = await withEnv(fullEnv(), true);
    const r2 = { ...r, options: { quick: true, rounds: 5, durationMs: 10 } };
    assert.deepEqual(runCaveatList(r2), [
      {
        kind: 'quick',
        text: 'quick run (5 rounds of 10 ms samples): a smoke check, not citable',
      },
    ]);
    // One line of report.txt: it is quoted whole.
    assert.equal(
      textReport(r2).split('\n')[0],
      'CAVEAT: quick run (5 rounds of 10 ms samples): a smoke check, not citable',
    );
  });

  it('an affinity mask smaller than the largest thread count stamps the run', async () => {
    const r = await withEnv(fullEnv({ affinity: [3] }));
    assert.deepEqual(usableCpus(r), { count: 1, limit: 'affinity 3' });
    assert.deepEqual(runCaveats(r), [
      'up to 2 threads ran on 1 usable CPU (affinity 3): results with more than 1 thread measure time-sharing, not parallel sharing',
    ]);
    assert.equal(threadsCouldRunInParallel(r, 1), true);
    assert.equal(threadsCouldRunInParallel(r, 2), false);
    // The machine's count (cpu.count 4) is not what limits the run.
    assert.equal(runCaveats(await withEnv(fullEnv({ affinity: [0, 1] }))).length, 0);
  });

  it('--cpus pinning every worker to one CPU stamps it, counted within the affinity mask', async () => {
    const base = await withEnv(fullEnv());
    const pinned = { ...base, options: { cpus: [2, 2] } };
    assert.deepEqual(usableCpus(pinned), { count: 1, limit: '--cpus 2,2' });
    assert.equal(runCaveatList(pinned)[0]?.kind, 'cpus');
    // Pinned to 0 and 7 with only 0-3 allowed: one usable CPU.
    const outside = { ...base, options: { cpus: [0, 7] } };
    assert.equal(usableCpus(outside)?.count, 1);
    assert.equal(runCaveats({ ...base, options: { cpus: [0, 1] } }).length, 0);
    // The patched lane pins too (its runner takes the placement); a lane without threads is unlimited by --cpus.
    assert.equal(usableCpus(pinned, 'patched')?.count, 1);
    assert.equal(threadsCouldRunInParallel(pinned, 2, 'patched'), false);
    assert.equal(usableCpus(pinned, 'registration')?.count, 4);
  });

  it('a run with one usable CPU says so in every report, also with one thread', async () => {
    const base = await withEnv(fullEnv({ affinity: [0] }));
    const one = {
      ...base,
      options: { ...(base.options as object), threads: [1] },
      lanes: base.lanes.map((l) => ({
        ...l,
        metrics: l.metrics.filter((m) => m.labels.threads === undefined || m.labels.threads === 1),
      })),
    };
    assert.deepEqual(runCaveats(one), [
      'the run had one usable CPU (affinity 0): every lane ran one thread, so nothing here measures rings in parallel or the cost of sharing',
    ]);
    assert.match(textReport(one), /^CAVEAT: the run had one usable CPU \(affinity 0\)/);
    assert.match(environmentLines(one).join('\n'), /4 online, 1 usable \(affinity 0\)/);
    assert.doesNotMatch(environmentLines(one).join('\n'), / x4/);
  });

  it('--oversubscribe is named in the stamp of the threads it crowded', async () => {
    const base = await withEnv(fullEnv({ affinity: [0] }));
    const over = { ...base, options: { ...(base.options as object), oversubscribe: true } };
    assert.match(
      runCaveats(over)[0] ?? '',
      /^up to 2 threads ran on 1 usable CPU \(affinity 0, --oversubscribe\)/,
    );
  });

  it('a cgroup quota below the thread count stamps it, fractions kept', async () => {
    const r = await withEnv(fullEnv({ cgroupCpus: 1.5 }));
    assert.deepEqual(runCaveats(r), [
      'up to 2 threads ran on 1.5 usable CPUs (cgroup cpu.max 1.5 CPU): results with more than 1 thread measure time-sharing, not parallel sharing',
    ]);
    assert.deepEqual(runCaveats(await withEnv(fullEnv({ cgroupCpus: 2 }))), []);
  });

  it(`steal over ${STEAL_CAVEAT_PERCENT} % of the run's CPU time stamps it; at or under, not`, async () => {
    const load = (steal: number) => ({
      before: BEFORE,
      after: { at: 'x', loadavg: null, cpuTimes: later(10_000, steal) },
    });
    const high = await withEnv(fullEnv({ load: load(520) }));
    assert.deepEqual(runCaveatList(high), [
      {
        kind: 'steal',
        text: "steal time was 5.2 % of this run's CPU time (/proc/stat): the hypervisor ran others on its CPUs, so timings are inflated and noisy",
      },
    ]);
    assert.deepEqual(runCaveats(await withEnv(fullEnv({ load: load(300) }))), []);
    // No after sample (an older or a crashed writer): nothing claimed either way.
    const none = await withEnv(fullEnv({ load: { before: load(0).before, after: null } }));
    assert.equal(runStealPercent(none), null);
    assert.deepEqual(runCaveats(none), []);
  });

  it('prints every stamp at the top of report.txt, TCG first, each within 80 columns', async () => {
    const r = await withEnv(
      fullEnv({
        virtualization: 'tcg',
        affinity: [0],
        load: { before: BEFORE, after: { at: 'x', loadavg: null, cpuTimes: later(1000, 100) } },
      }),
      true,
    );
    const kinds = runCaveatList(r).map((c) => c.kind);
    assert.deepEqual(kinds, ['tcg', 'quick', 'cpus', 'steal']);
    const lines = textReport(r).split('\n');
    assert.equal(lines[0], `CAVEAT: ${TCG_CAVEAT}`);
    assert.match(lines[1] ?? '', /^CAVEAT: quick run/);
    const top = lines.slice(0, lines.indexOf(''));
    assert.equal(top.filter((l) => l.startsWith('CAVEAT: ')).length, 4);
    for (const l of lines) assert.ok(l.length <= 80, l);
  });

  it('results written before these fields have no stamps beyond the old ones', async () => {
    const old = await sampleResults();
    assert.equal(usableCpus(old), null);
    assert.equal(runStealPercent(old), null);
    assert.equal(threadsCouldRunInParallel(old, 64), true);
    assert.deepEqual(runCaveats(old), []);
    assert.deepEqual(runCaveats(await withEnv(null)), []);
  });
});

describe('environment block', () => {
  it('fits 80 columns and cuts no parameter, path or number', async () => {
    const r = await withEnv(fullEnv());
    const lines = environmentLines(r);
    for (const l of lines) assert.ok(l.length <= 80, l);
    const words = new Set(lines.join(' ').split(/\s+/));
    // The command line's timing parameters here, whole; all of it in the appendix.
    assert.ok(words.has('mitigations=auto,nosmt'));
    assert.ok(!words.has('BOOT_IMAGE=/boot/vmlinuz-6.18.0-1-generic'));
    assert.match(lines.join(' '), /\(\+5 others and init arguments: appendix\)/);
    const appendix = new Set(appendixReport(r).split(/\s+/));
    for (const w of CMDLINE.split(' ')) assert.ok(appendix.has(w), w);
    assert.ok(words.has('0xa101148)'), 'the microcode number whole');
    assert.ok(!words.has('--init-only'), 'init arguments are left to the appendix and HTML');
  });

  it('keeps only the boot parameters that bear on timing', () => {
    assert.deepEqual(
      timingParams('BOOT_IMAGE=/x ro quiet isolcpus=1 nohz_full=1 intel_idle.max_cstate=0 psi=1'),
      { shown: ['isolcpus=1', 'nohz_full=1', 'intel_idle.max_cstate=0'], others: 4 },
    );
  });

  it('names the run, the commit and its dirty flag, CPU identity, affinity, config, JIT, load and steal', async () => {
    // Continuation lines joined back, so the checks do not depend on where lines break.
    const text = environmentLines(await withEnv(fullEnv()))
      .join('\n')
      .replaceAll(/\n {9}/g, ' ');
    assert.match(text, /^run: +\S+ \S+-\S+ UTC, complete; suite \S+, node \S+$/m);
    // The commit and its dirty flag head the reproduce block beside it.
    const reproduce = textReport(await withEnv(fullEnv()));
    assert.match(reproduce, /^reproduce \(tree was DIRTY: uncommitted changes/m);
    assert.match(reproduce, /^ {2}git checkout 0123456789ab/m);
    assert.match(
      text,
      /^cpu: +AMD EPYC 9R14 96-Core Processor \(AuthenticAMD family 25 model 17 stepping 1 microcode 0xa101148\) 4 online, 4 usable \(affinity 0-3\), hypervisor kvm$/m,
    );
    assert.match(text, /^config: +PREEMPT_NONE \(dynamic\), HZ=250, no sanitizers, no lockdep,/m);
    assert.match(text, /^bpf jit: on \(CONFIG_BPF_JIT_ALWAYS_ON\)$/m);
    const booted = environmentLines(await withEnv(fullEnv({ cmdline: 'quiet preempt=full' })));
    assert.match(booted.join(' '), /PREEMPT_NONE \(dynamic; preempt=full at boot\)/);
    assert.match(text, /^load: +1-min average 0\.50 before, 2\.10 after; steal 1\.0 %/m);
  });

  it('lists every vulnerability file that is not "Not affected" in full, one each', async () => {
    const e = fullEnv();
    assert.deepEqual(
      activeMitigations(e).map(([k]) => k),
      ['spec_rstack_overflow', 'spectre_v2'],
    );
    const lines = environmentLines(await withEnv(e));
    const at = lines.findIndex((l) => l.startsWith('vulns:'));
    assert.equal(lines[at], 'vulns:   spec_rstack_overflow: Mitigation: Safe RET');
    assert.match(lines[at + 1] ?? '', /^ {9}spectre_v2: Mitigation: Retpolines; STIBP: disabled;/);
    assert.match(lines[at + 2] ?? '', /^ {11}\S/, 'a continuation is indented past the names');
    assert.equal(lines[at + 3], '         2 others: Not affected');
  });

  it('reads the commit of older results from their "+dirty" suffix', async () => {
    const r = await withEnv({ gitCommit: 'abc+dirty' });
    assert.deepEqual(runCommit(r), { commit: 'abc', dirty: true });
    assert.deepEqual(runCommit(await withEnv({ gitCommit: 'abc' })), {
      commit: 'abc',
      dirty: false,
    });
    assert.equal(runCommit(await withEnv({ gitCommit: null })), null);
  });

  it('gives the HTML every field in full, grouped', async () => {
    const groups = environmentGroups(await withEnv(fullEnv()));
    assert.deepEqual(
      groups.map((g) => g.title),
      ['Run', 'Kernel', 'CPU', 'Load'],
    );
    const rows = new Map(groups.flatMap((g) => g.rows));
    assert.equal(rows.get('init arguments'), '--init-only');
    assert.equal(rows.get('vulnerabilities/meltdown'), 'Not affected');
    assert.equal(rows.get('affinity (CPUs this process may use)'), '0-3');
    assert.equal(rows.get('steal over the run'), '1.00 %');
    assert.equal(rows.get('tree'), 'dirty (tracked files differ)');
    // Older results: no Load group, no config rows.
    const old = environmentGroups(await sampleResults());
    assert.deepEqual(
      old.map((g) => g.title),
      ['Run', 'Kernel', 'CPU'],
    );
  });
});

describe('environment schema', () => {
  it('accepts the new fields, older environments and null', async () => {
    for (const env of [fullEnv(), { kernel: { release: 'x' } }, null]) {
      const r = await withEnv(env as Environment | null);
      const checked = validateResults(JSON.parse(JSON.stringify(r)));
      assert.equal(checked.ok, true, checked.ok ? '' : checked.error);
    }
  });

  it('rejects a new field of the wrong type, naming it', async () => {
    const cases: [Partial<Environment>, RegExp][] = [
      [{ affinity: ['0-3'] as never }, /environment\.affinity\[0\] must be a finite number/],
      [{ bpfJit: 'maybe' as never }, /environment\.bpfJit must be one of off, on, on, debug/],
      [{ git: { commit: 'abc' } as never }, /environment\.git\.dirty must be true or false/],
      [
        {
          load: {
            before: { at: 'x', loadavg: null, cpuTimes: { steal: 1 } as never },
            after: null,
          },
        },
        /environment\.load\.before\.cpuTimes\.user must be a finite number/,
      ],
    ];
    for (const [over, message] of cases) {
      const checked = validateResults(JSON.parse(JSON.stringify(await withEnv(fullEnv(over)))));
      assert.equal(checked.ok, false);
      assert.match(checked.ok ? '' : checked.error, message);
    }
  });
});
