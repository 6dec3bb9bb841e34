import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { metric } from '../../bench/lane.js';
import { appendixReport } from '../../reports/appendix.js';
import { benchstatReport } from '../../reports/benchstat.js';
import { bpfTables } from '../../reports/bpf-view.js';
import { runCaveats, TCG_CAVEAT, virtualizationOf } from '../../reports/caveats.js';
import { renderCharts } from '../../reports/charts.js';
import { findings } from '../../reports/findings.js';
import { esc, htmlReport } from '../../reports/html.js';
import { crossCheck } from '../../reports/native-view.js';
import { terminalSummary } from '../../reports/terminal.js';
import { textReport, wrap } from '../../reports/text.js';
import { sampleResults } from './fixtures.js';

describe('mail text report', () => {
  it('keeps every line within 80 columns, without tabs', async () => {
    const r = await sampleResults({ quick: true });
    const text = textReport(r);
    for (const line of text.split('\n')) {
      assert.ok(line.length <= 80, `too long (${line.length}): ${line}`);
      assert.ok(!line.includes('\t'), `tab in: ${line}`);
    }
    assert.match(text, /^ {2}npm run bench -- --quick$/m);
    assert.match(text, /report\.html/);
  });

  it('wraps long environment strings instead of overflowing', async () => {
    const r = await sampleResults({
      environment: {
        kernel: { release: 'x'.repeat(200), version: 'y '.repeat(90) },
        cpu: { model: 'z'.repeat(120), count: 2 },
      },
    });
    for (const line of textReport(r).split('\n')) assert.ok(line.length <= 80, line);
  });

  it('leads with at most six claims, each with its lane and interval, the kernel first', async () => {
    const f = findings(await sampleResults());
    assert.ok(f.headline.length <= 6);
    assert.match(
      f.headline[0] ?? '',
      /^Kernel 6\.18\.0-test, not probed for IORING_OP_BPF .*stand-in's, not a design's\.$/,
    );
    const text = f.headline.join(' ');
    assert.match(text, /plain NOP \(68\.\d ns\/request; kernel lane, batch 128, 1 thread\)/);
    // A stand-in ratio is quoted with its interval, never called a design's cost.
    assert.match(text, /file-own \(per-fd\) 1\.\d{3}x \[1\.\d{3}\.\.1\.\d{3}\]/);
    assert.match(text, /fixed-own \(per-ctx, per-fd-fixed\) 1\.\d{3}x \[/);
    assert.doesNotMatch(text, /global-array 1\.00/);
    // 103 against 101 ns with 1 % noise: inside the 2 % noise band, so not resolved, with its width.
    assert.match(text, /not resolved: [^(]*file-same\/file-own \(intervals? 0\.\d{3}/);
    assert.doesNotMatch(text, /file-same\/file-own \d/);
    // 120 against 40 ns in every round: resolved; per-fd-fixed's 35 against 35: not.
    assert.match(
      text,
      /\(native lane, not the kernel;.* per-fd 3\.000x \[3\.000\.\.3\.000\]; not resolved: per-fd-fixed/,
    );
    // The io-wq stand-in is the punt, not SRCU.
    assert.doesNotMatch(text, /SRCU/);
    assert.deepEqual(wrap('a b c', 3), ['a b', 'c']);
  });

  it('maps each design to its stand-ins and names the designs that share them', async () => {
    const f = findings(await sampleResults());
    const row = (d: string) => f.standins.find((s) => s.design === d);
    assert.deepEqual(row('per-ctx')?.standins, ['fixed']);
    assert.deepEqual(row('per-ctx')?.sharesWith, ['per-fd-fixed']);
    assert.deepEqual(row('array-xarray')?.sharesWith, ['global-alloc']);
    assert.deepEqual(row('per-fd')?.sharesWith, []);
    assert.match(textReport(await sampleResults()), /^per-fd-fixed +fixed +- +per-ctx$/m);
  });

  it('keeps the default report within about 150 lines, the fuzz dump in the appendix', async () => {
    const r = await sampleResults();
    const text = textReport(r);
    assert.ok(text.split('\n').length <= 150, String(text.split('\n').length));
    assert.match(text, /^reproduce \(tree was clean\):$/m);
    assert.match(text, /^ {2}git checkout abc$/m);
    assert.ok(text.includes(`\n  npm ci --no-audit --no-fund\n  ${r.command.join(' ')}\n`));
    const env = r.environment as object;
    const dirty = textReport({ ...r, environment: { ...env, gitCommit: 'abc+dirty' } } as typeof r);
    assert.match(dirty, /^reproduce \(tree was DIRTY: .*$/m);
    const none = textReport({ ...r, environment: { ...env, gitCommit: null } } as typeof r);
    assert.match(none, /^reproduce \(tree state unknown \(no git\)\):$/m);
    assert.match(none, /^ {2}git checkout <commit unknown>$/m);
    assert.doesNotMatch(text, /swimlane|TypeScript model, not the kernel\)/);
  });

  it('names each violated property once per design, whatever the caller protocols', async () => {
    const r = await sampleResults();
    const job = (protocol: string, property: string, verdict: string) => ({
      design: 'per-ctx',
      mutant: null,
      protocol,
      property,
      verdict,
      runs: 80,
      ms: 1,
      reason: null,
      counterexample: null,
    });
    const fuzz = {
      lane: 'fuzz',
      status: 'ok',
      reason: null,
      durationMs: 1,
      notes: [],
      metrics: [],
      details: {
        results: [
          job('restart', 'use-after-free', 'violated'),
          job('mixed', 'use-after-free', 'violated'),
          job('exclusive', 'use-after-free', 'holds'),
          job('mixed', 'hijack', 'holds'),
        ],
        mutants: [],
        ms: 4,
      },
    };
    const f = findings({ ...r, lanes: [...r.lanes, fuzz] } as typeof r);
    assert.equal(f.designs.find((d) => d.design === 'per-ctx')?.safety, 'use-after-free');
    // The headline counts them; the matrix names them.
    assert.match(f.headline.join(' '), /properties violated of 2 checked: .*per-ctx 1,/);
  });
});

describe('native lane in the reports', () => {
  it('prints the C designs with the cost of every ring naming the same programs', async () => {
    const r = await sampleResults();
    const text = textReport(r);
    // per-fd: 120 ns with both rings on the same programs, 40 with their own, in every round.
    assert.match(text, /^per-fd +40\.0 +3\.000x \[3\.000\.\.3\.000\] +- +110\.0$/m);
    assert.match(text, /per-fd 3\.000x \[3\.000\.\.3\.000\]/);
    const appendix = appendixReport(r);
    assert.match(appendix, /^design +t2 same +t2 own\n(.*\n)*per-fd +120\.0 +40\.0$/m);
    assert.match(appendix, /^design +1 +65535\nper-fd +40\.0 +41\.0$/m);
  });

  it('cross-checks each design against its kernel stand-in', async () => {
    const r = await sampleResults();
    const rows = crossCheck(r);
    const perFd = rows.find((x) => x.design === 'per-fd');
    assert.equal(perFd?.standin, 'file');
    // Native: design minus core in the ring loop (110 - 80; 130 - 80 with both rings on one program).
    assert.deepEqual(
      perFd?.cells.map((c) => [c.threads, c.sharing, c.native.median]),
      [
        [1, 'shared', 30],
        [2, 'shared', 50],
        [2, 'own', 30],
      ],
    );
    // Kernel: file-same minus nop, about 103 - 68.
    const kernel = perFd?.cells[0]?.kernel?.median ?? 0;
    assert.ok(kernel > 33 && kernel < 37, String(kernel));
    assert.equal(rows.find((x) => x.design === 'per-fd-fixed')?.standin, 'fixed');
    assert.equal(
      rows.some((x) => x.design === 'core'),
      false,
    );
    assert.match(
      appendixReport(r),
      /^per-fd +file +30\.0\/3\d\.\d +50\.0\/3\d\.\d +30\.0\/3\d\.\d$/m,
    );
    assert.match(htmlReport(r, [], null), /id="cross-check"/);
  });
});

describe('BPF stand-in lane in the reports', () => {
  it('gives each shape per batch and the ns it adds over no program', () => {
    const m = (shape: string, baseline: string, batch: number, ns: number) =>
      metric(
        {
          id: `bpf-standin/${shape}/b${batch}/t1`,
          lane: 'bpf-standin',
          labels: {
            shape,
            designs: shape === 'array' ? 'global-array' : '',
            baseline,
            batch,
            threads: 1,
          },
          unit: 'ns/req',
          better: 'lower',
        },
        [ns, ns + 1, ns - 1],
      );
    const lane = {
      lane: 'bpf-standin',
      status: 'ok' as const,
      reason: null,
      durationMs: 1,
      notes: [],
      details: null,
      metrics: [
        m('none', 'none', 32, 70),
        m('array', 'none', 32, 140),
        m('none', 'none', 128, 68),
        m('array', 'none', 128, 141),
      ],
    };
    const [t1] = bpfTables(lane, (x) => String(x?.summary.median ?? '-'));
    assert.deepEqual(t1?.head, ['shape', 'stands in for', 'b32', 'b128', '+ns b128']);
    assert.deepEqual(t1?.rows, [
      ['none', '-', '70', '68', '-'],
      // The median of per-round differences with its interval.
      ['array', 'global-array', '140', '141', '+73.0ns [+73.0..+73.0]'],
    ]);
  });
});

describe('HTML report', () => {
  it('is self-contained: no external reference, no script', async () => {
    const r = await sampleResults();
    const { charts, error } = await renderCharts(r);
    assert.equal(error, null);
    assert.ok(charts.length >= 2, 'kernel and memory charts');
    const html = htmlReport(r, charts, error);
    assert.equal(/(src|href)\s*=\s*["']?(https?:|\/\/)/i.test(html), false, 'no network reference');
    assert.equal(
      /<script|<link|@import|url\(/i.test(html),
      false,
      'no script, stylesheet link or CSS url',
    );
    assert.match(html, /<img src="data:image\/png;base64,/);
    assert.match(html, /<h2>Headline findings<\/h2>/);
  });

  it('escapes every string that comes from the environment', async () => {
    const evil = '<img src=x onerror=alert(1)>';
    const r = await sampleResults({
      environment: { kernel: { release: evil }, cpu: { model: `"${evil}`, count: 1 } },
    });
    const html = htmlReport(r, [], null);
    assert.equal(html.includes(evil), false);
    assert.ok(html.includes(esc(evil)));
  });

  it('says so when the run is incomplete', async () => {
    const r = {
      ...(await sampleResults()),
      complete: false,
      incompleteReason: 'interrupted by SIGINT',
    };
    assert.match(
      htmlReport(r, [], null),
      /class="incomplete">This run is incomplete: interrupted by SIGINT/,
    );
  });
});

describe('run caveats', () => {
  const TOP = `CAVEAT: ${TCG_CAVEAT}`;

  it('a TCG run says its timings are not valid at the top of every report', async () => {
    const r = await sampleResults({ virtualization: 'tcg' });
    assert.deepEqual(runCaveats(r), [
      'functional run under QEMU TCG (software emulation): timings not valid',
    ]);
    const text = textReport(r);
    assert.equal(text.split('\n')[0], TOP);
    for (const line of text.split('\n')) assert.ok(line.length <= 80, line);
    assert.match(text, /^cpu: .*, hypervisor kvm, virtualization tcg$/m);
    const html = htmlReport(r, [], null);
    const banner = html.indexOf(`<p class="caveat">Caveat: ${esc(TCG_CAVEAT)}</p>`);
    assert.ok(banner > html.indexOf('</h1>'), 'banner after the title');
    assert.ok(banner < html.indexOf('<section'), 'banner before the first section');
    assert.match(
      html,
      /<span class="mono">virtualization<\/span><\/td><td><span class="mono">tcg</,
    );
    assert.equal(terminalSummary(r)[0], TOP);
    const bench = benchstatReport(r).split('\n');
    assert.equal(bench[0], `caveat: ${TCG_CAVEAT}`);
    const virt = bench.indexOf('virtualization: tcg');
    assert.ok(virt > 0 && virt < bench.findIndex((l) => l.startsWith('Benchmark')));
  });

  it('a run without the field, or with kvm or junk in it, has none', async () => {
    for (const virtualization of [undefined, 'kvm', 'TCG', 'hvf']) {
      const r = await sampleResults(virtualization === undefined ? {} : { virtualization });
      assert.deepEqual(runCaveats(r), [], String(virtualization));
      assert.doesNotMatch(textReport(r), /CAVEAT|QEMU TCG/);
      assert.doesNotMatch(htmlReport(r, [], null), /class="caveat"|QEMU TCG/);
      assert.equal(
        terminalSummary(r).some((l) => l.includes('CAVEAT')),
        false,
      );
      assert.doesNotMatch(benchstatReport(r), /^caveat:/m);
    }
    const old = await sampleResults();
    assert.equal(virtualizationOf(old), null);
    assert.doesNotMatch(textReport(old), /virtualization/);
    assert.doesNotMatch(benchstatReport(old), /virtualization/);
    assert.deepEqual(runCaveats({ ...old, environment: null }), []);
    const kvm = await sampleResults({ virtualization: 'kvm' });
    assert.match(textReport(kvm), /, virtualization kvm$/m);
    assert.match(benchstatReport(kvm), /^virtualization: kvm$/m);
    assert.doesNotMatch(benchstatReport(await sampleResults({ virtualization: 'hvf' })), /virt/);
  });
});
