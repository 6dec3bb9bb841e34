// Go benchmark format, so reviewers can run benchstat on two runs:
// configuration lines ("key: value", the run's caveats first), then one
// line per metric and round, "BenchmarkName 1 value unit". Reads results
// only.

import type { Results } from '../bench/results.js';
import { runCaveats, virtualizationOf } from './caveats.js';

/** 'kernel/file-same/b128/t2' becomes 'BenchmarkKernel/file-same/b128/t2'. */
export function benchName(id: string): string {
  const [lane = '', ...rest] = id.split('/');
  const name = `Benchmark${lane.charAt(0).toUpperCase()}${lane.slice(1)}/${rest.join('/')}`;
  return name.replace(/\s+/g, '_');
}

/** Units benchstat knows by their Go names. */
function unitOf(unit: string): string {
  if (unit === 'ns/req' || unit === 'ns/op') return 'ns/op';
  if (unit === 'bytes') return 'B';
  return unit.replace(/\s+/g, '_');
}

/** The benchstat input for `results`. */
export function benchstatReport(r: Results): string {
  const e = r.environment as { kernel?: { arch?: string }; cpu?: { model?: string } } | null;
  const caveats = runCaveats(r);
  const virt = virtualizationOf(r);
  // A repeated key would replace the earlier value, so every caveat goes on one line.
  const lines = [
    ...(caveats.length === 0 ? [] : [`caveat: ${caveats.join('; ')}`]),
    'goos: linux',
    `goarch: ${e?.kernel?.arch === 'x64' ? 'amd64' : (e?.kernel?.arch ?? 'unknown')}`,
    'pkg: iou-dispatch',
    `cpu: ${e?.cpu?.model ?? 'unknown'}`,
    ...(virt === null ? [] : [`virtualization: ${virt}`]),
  ];
  for (const lane of r.lanes) {
    for (const m of lane.metrics) {
      for (const v of m.values)
        lines.push(`${benchName(m.id)} 1 ${Number(v.toPrecision(6))} ${unitOf(m.unit)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
