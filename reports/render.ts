// Writes every report of a results file into a directory: report.html,
// report.txt (mail), its appendix and bench.txt (benchstat). Each file is written whole
// or not at all.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Results, writeAtomic } from '../bench/results.js';
import { appendixReport } from './appendix.js';
import { benchstatReport } from './benchstat.js';
import { renderCharts } from './charts.js';
import { htmlReport } from './html.js';
import { APPENDIX_NAME, textReport } from './text.js';

export const REPORT_FILES = {
  html: 'report.html',
  text: 'report.txt',
  benchstat: 'bench.txt',
  appendix: APPENDIX_NAME,
} as const;

/** Renders `results` into `dir`; returns the paths written and any note (charts unavailable). */
export async function renderReports(
  results: Results,
  dir: string,
): Promise<{ written: string[]; note: string | null }> {
  const { charts, error } = await renderCharts(results);
  const files: [string, string][] = [
    [REPORT_FILES.html, htmlReport(results, charts, error)],
    [REPORT_FILES.text, textReport(results, REPORT_FILES.html, REPORT_FILES.appendix)],
    [REPORT_FILES.appendix, appendixReport(results, REPORT_FILES.text)],
    [REPORT_FILES.benchstat, benchstatReport(results)],
  ];
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of files) writeAtomic(join(dir, name), text);
  return { written: files.map(([name]) => join(dir, name)), note: error };
}
