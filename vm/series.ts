// A posted patch series, as the user passes it to `npm run vm -- kernel
// --series`: one mbox (what `b4 am` writes: mails back to back, each
// starting with a "From " line), one mail or patch file, or a directory of
// them applied in name order. The series is the user's input, never part
// of this repository. Each patch is checked with a dry run first, so a
// series that does not apply names its patch and first failing hunk and
// leaves the tree as the previous patch left it.

import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { UsageError } from '../bench/args.js';

export interface Patch {
  /** Where it came from: the file, and its position in an mbox. */
  readonly name: string;
  /** The mail's Subject, or the file name. */
  readonly subject: string;
  readonly text: string;
}

const PATCH_FILE = /\.(patch|diff|mbox|mbx|eml|mail)$/;

/** Splits an mbox into its mails at its "From " separator lines; a file without one is one mail. */
export function splitMbox(text: string): string[] {
  // An mbox separator is "From <sender or sha> <weekday> ...": a body line such as
  // "From the report ..." is not one (b4 and git format-patch both write the date).
  const starts = [...text.matchAll(/^From \S+ +(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) .*$/gm)].map(
    (m) => m.index ?? 0,
  );
  if (starts.length === 0 || starts[0] !== 0) starts.unshift(0);
  return starts
    .map((start, i) => text.slice(start, starts[i + 1] ?? text.length))
    .filter((m) => m.trim() !== '');
}

/** The mail's Subject header, unfolded; undefined when it has none. */
function subjectOf(mail: string): string | undefined {
  const headers = mail.split(/\r?\n\r?\n/, 1)[0] ?? '';
  const m = /^Subject:(.*(?:\r?\n[ \t].*)*)/im.exec(headers);
  return m?.[1]?.replace(/\r?\n[ \t]+/g, ' ').trim();
}

function hasDiff(text: string): boolean {
  return /^--- \S/m.test(text) && /^\+\+\+ \S/m.test(text);
}

/**
 * The patches of the series at `path`, in order; UsageError when a file is
 * unreadable, encoded in a way `patch` cannot read, or the series holds no
 * diff at all. Mails without a diff (cover letters) are left out.
 */
export function readSeries(path: string): Patch[] {
  const s = statSync(path, { throwIfNoEntry: false });
  if (s === undefined) throw new UsageError(`--series ${path}: no such file or directory`);
  const files = s.isDirectory()
    ? readdirSync(path)
        .filter((f) => PATCH_FILE.test(f))
        .sort()
        .map((f) => join(path, f))
    : [path];
  if (files.length === 0)
    throw new UsageError(`--series ${path}: no *.patch, *.mbox or *.eml files in the directory`);
  const patches: Patch[] = [];
  for (const file of files) {
    const mails = splitMbox(readFileSync(file, 'latin1'));
    mails.forEach((mail, i) => {
      const name = mails.length > 1 ? `${basename(file)} #${i + 1}` : basename(file);
      const headers = mail.split(/\r?\n\r?\n/, 1)[0] ?? '';
      const encoding = /^Content-Transfer-Encoding:\s*(quoted-printable|base64)/im.exec(
        headers,
      )?.[1];
      if (encoding !== undefined)
        throw new UsageError(
          `--series: ${name} is ${encoding.toLowerCase()}-encoded; save the series with b4 am or git format-patch`,
        );
      if (!hasDiff(mail)) return;
      patches.push({ name, subject: subjectOf(mail) ?? name, text: mail });
    });
  }
  if (patches.length === 0) throw new UsageError(`--series ${path}: holds no diff`);
  return patches;
}

/** The first hunk `patch` reported as failed, as "FILE: hunk #N FAILED at L", from its output. */
export function firstFailedHunk(output: string): string {
  let file = '';
  for (const line of output.split('\n')) {
    const target = /^(?:patching|checking) file '?([^']+?)'?$/.exec(line);
    if (target !== null) file = target[1] ?? '';
    const failed = /^Hunk #(\d+) FAILED at (\d+)/.exec(line);
    if (failed !== null) return `${file}: hunk #${failed[1]} FAILED at line ${failed[2]}`;
    if (/Reversed \(or previously applied\) patch detected/.test(line))
      return `${file}: already applied (reversed or previously applied patch)`;
    if (/can't find file to patch/.test(line)) return `a file it patches does not exist`;
  }
  return output.trim().split('\n').at(-1) ?? 'patch failed';
}

/** Applies `patches` to `tree` in order; the first that does not apply is named with its first failing hunk. */
export function applySeries(
  patches: readonly Patch[],
  tree: string,
  onPatch: (p: Patch, index: number) => void = () => {},
): { ok: true } | { ok: false; reason: string } {
  const args = [
    '-p1',
    '--forward',
    '--batch',
    '--fuzz=2',
    '--no-backup-if-mismatch',
    '-r',
    '-',
    '-d',
    tree,
  ];
  for (const [i, p] of patches.entries()) {
    onPatch(p, i);
    const dry = spawnSync('patch', [...args, '--dry-run'], { input: p.text, encoding: 'latin1' });
    if (dry.status !== 0)
      return {
        ok: false,
        reason: `patch ${i + 1}/${patches.length} (${p.name}: "${p.subject}") does not apply: ${firstFailedHunk(`${dry.stdout}${dry.stderr}`)}`,
      };
    const real = spawnSync('patch', args, { input: p.text, encoding: 'latin1' });
    if (real.status !== 0)
      return {
        ok: false,
        reason: `patch ${i + 1}/${patches.length} (${p.name}) failed after its dry run passed`,
      };
  }
  return { ok: true };
}
