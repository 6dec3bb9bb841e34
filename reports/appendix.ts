// The appendix next to report.txt (report-appendix.txt): what the mail
// report leaves out to stay about 150 lines. Every counterexample with its
// message, violating step, replay command and swimlane; the TypeScript
// model lane (not the kernel); the kernel and BPF tables at every thread
// count; registration at every ring count; the C designs by programs
// registered; the native/kernel cross-check; and same/own against the
// thread count for the kernel, bpf-standin and native lanes. Same 80 columns, same
// formatters as report.txt. Reads results only.

import type { Results } from '../bench/results.js';
import type { FuzzReport } from '../fuzz/matrix.js';
import { environmentOf } from './environment-view.js';
import { fuzzFailLines, fuzzTextLines } from './fuzz.js';
import { kernelGrid } from './kernel-view.js';
import {
  bpfSection,
  crossCheckSection,
  kernelNsTable,
  MAIL_WIDTH,
  memorySection,
  modelSection,
  nativeScalingSection,
  nativeSection,
  nativeThreadsSection,
  registrationSection,
  sharingCurveSection,
  wrap,
} from './text.js';

/** The appendix of `r`, as one string of lines at most 80 columns (paths are never cut). */
export function appendixReport(r: Results, textName = 'report.txt'): string {
  const out: string[] = [
    `iou-dispatch: appendix to ${textName} (run ${r.startedAt})`,
    ...wrap(
      'What the mail report leaves out: the kernel lane at every thread count, the BPF stand-ins at every thread count, registration at every ring count, the C designs by programs registered, the native/kernel cross-check, same/own at every thread count (the contention curve), the TypeScript model lane, and every counterexample of the fuzz lane with its swimlane.',
    ),
  ];
  const cmdline = environmentOf(r).cmdline;
  if (typeof cmdline === 'string')
    out.push('', '== kernel command line (/proc/cmdline, in full)', ...wrap(cmdline, MAIL_WIDTH));
  for (const lane of r.lanes) {
    const section: string[] = [];
    const ok = lane.status === 'ok';
    if (lane.reason !== null)
      section.push(...wrap(`${lane.status}: ${lane.reason}`, MAIL_WIDTH, '  '));
    for (const note of lane.notes) section.push(...wrap(`note: ${note}`, MAIL_WIDTH, '  '));
    if (ok && lane.lane === 'kernel')
      for (const t of kernelGrid(lane).threads) section.push(...kernelNsTable(lane, t));
    if (ok && lane.lane === 'bpf-standin') section.push(...bpfSection(lane, true));
    if (ok && lane.lane === 'registration') section.push(...registrationSection(lane));
    if (ok && lane.lane === 'native')
      section.push(
        ...nativeSection(lane, true),
        ...nativeThreadsSection(lane),
        ...nativeScalingSection(lane),
      );
    if (ok && lane.lane === 'model') section.push(...modelSection(lane));
    if (ok && lane.lane === 'memory') section.push(...memorySection(lane, true));
    if (ok && lane.lane === 'fuzz')
      section.push(
        '',
        'replay each FAIL:',
        ...fuzzFailLines(lane.details as unknown as FuzzReport),
        '',
        ...fuzzTextLines(lane.details as unknown as FuzzReport),
      );
    if (section.length > 0) out.push('', `== ${lane.lane} lane: ${lane.status}`, ...section);
    // The cross-check reads the native and kernel lanes; it follows the native lane's tables.
    if (ok && lane.lane === 'native') out.push(...crossCheckSection(r));
  }
  const curve = sharingCurveSection(r);
  if (curve.length > 0)
    out.push('', '== sharing: same/own against thread count', ...curve.slice(1));
  return `${out
    .map((l) => l.replaceAll('\t', ' '))
    .flatMap((l) => (l.length <= MAIL_WIDTH ? [l] : wrap(l, MAIL_WIDTH)))
    .join('\n')}\n`;
}
