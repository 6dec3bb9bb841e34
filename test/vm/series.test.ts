// A posted series as `npm run vm -- kernel --series` takes it: mbox, mails or
// a directory of patches, applied with a dry run first so a patch that does
// not apply is named with its first failing hunk.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { UsageError } from '../../bench/args.js';
import { applySeries, firstFailedHunk, readSeries, splitMbox } from '../../vm/series.js';

function mail(n: number, subject: string, diff: string, from = true): string {
  return [
    ...(from ? [`From 000000000000000000000000000000000000000${n} Mon Sep 17 00:00:00 2001`] : []),
    'From: Someone <someone@example.org>',
    `Subject: [PATCH ${n}/2] ${subject}`,
    '',
    'Why this change.',
    '---',
    diff,
  ].join('\n');
}

const ONE = [
  '--- a/hello.c',
  '+++ b/hello.c',
  '@@ -1,3 +1,3 @@',
  ' one',
  '-two',
  '+TWO',
  ' three',
  '',
].join('\n');
const TWO = [
  '--- a/hello.c',
  '+++ b/hello.c',
  '@@ -2,2 +2,3 @@',
  ' TWO',
  ' three',
  '+four',
  '',
].join('\n');
const BAD = [
  '--- a/hello.c',
  '+++ b/hello.c',
  '@@ -1,3 +1,3 @@',
  ' eins',
  '-zwei',
  '+ZWEI',
  ' drei',
  '',
].join('\n');

function tree(): string {
  const dir = mkdtempSync(join(tmpdir(), 'iou-series-tree-'));
  writeFileSync(join(dir, 'hello.c'), 'one\ntwo\nthree\n');
  return dir;
}

describe('series input', () => {
  it('splits an mbox at its From lines and keeps a file without one whole', () => {
    const box = `${mail(1, 'a', ONE)}\n${mail(2, 'b', TWO)}`;
    assert.equal(splitMbox(box).length, 2);
    assert.equal(splitMbox(mail(1, 'a', ONE, false)).length, 1);
    // A body line that starts with "From " is not a separator.
    assert.equal(splitMbox(mail(1, 'a', `From the report: x\n${ONE}`)).length, 1);
    assert.equal(
      splitMbox(`From git@z Thu Jan  1 00:00:00 1970\n${mail(1, 'a', ONE, false)}`).length,
      1,
    );
  });

  it('reads a directory in name order, names patches by Subject and skips cover letters', () => {
    const dir = mkdtempSync(join(tmpdir(), 'iou-series-'));
    writeFileSync(join(dir, '0002-b.patch'), mail(2, 'second', TWO));
    writeFileSync(join(dir, '0001-a.patch'), mail(1, 'first', ONE));
    writeFileSync(join(dir, '0000-cover.patch'), mail(0, 'cover letter', 'no diff here\n'));
    writeFileSync(join(dir, 'notes.txt'), 'not a patch');
    const series = readSeries(dir);
    assert.deepEqual(
      series.map((p) => [p.name, p.subject]),
      [
        ['0001-a.patch', '[PATCH 1/2] first'],
        ['0002-b.patch', '[PATCH 2/2] second'],
      ],
    );
  });

  it('refuses encoded mails, empty series and missing paths in one line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'iou-series-'));
    const encoded = join(dir, 'x.eml');
    writeFileSync(
      encoded,
      `Subject: x\nContent-Transfer-Encoding: base64\n\n${Buffer.from(ONE).toString('base64')}\n`,
    );
    assert.throws(
      () => readSeries(encoded),
      (e: Error) =>
        e instanceof UsageError && /base64-encoded; save the series with b4 am/.test(e.message),
    );
    const empty = join(dir, 'empty.patch');
    writeFileSync(empty, 'Subject: nothing\n\ntext only\n');
    assert.throws(() => readSeries(empty), /holds no diff/);
    assert.throws(() => readSeries(join(dir, 'missing')), /no such file or directory/);
    mkdirSync(join(dir, 'none'));
    assert.throws(() => readSeries(join(dir, 'none')), /no \*\.patch, \*\.mbox or \*\.eml files/);
  });
});

describe('series application', {
  skip: spawnSync('patch', ['--version']).status === 0 ? false : 'needs GNU patch',
}, () => {
  it('applies every patch in order', () => {
    const dir = tree();
    const box = join(dir, 'series.mbox');
    writeFileSync(box, `${mail(1, 'a', ONE)}\n${mail(2, 'b', TWO)}`);
    const seen: string[] = [];
    assert.deepEqual(
      applySeries(readSeries(box), dir, (p) => seen.push(p.subject)),
      { ok: true },
    );
    assert.equal(readFileSync(join(dir, 'hello.c'), 'utf8'), 'one\nTWO\nthree\nfour\n');
    assert.deepEqual(seen, ['[PATCH 1/2] a', '[PATCH 2/2] b']);
  });

  it('names the patch that does not apply and its first failing hunk, and leaves the tree as the patch before left it', () => {
    const dir = tree();
    const box = join(dir, 'series.mbox');
    writeFileSync(box, `${mail(1, 'a', ONE)}\n${mail(2, 'b', BAD)}`);
    const r = applySeries(readSeries(box), dir);
    assert.deepEqual(r, {
      ok: false,
      reason:
        'patch 2/2 (series.mbox #2: "[PATCH 2/2] b") does not apply: hello.c: hunk #1 FAILED at line 1',
    });
    assert.equal(readFileSync(join(dir, 'hello.c'), 'utf8'), 'one\nTWO\nthree\n');
  });

  it('says when a patch is already applied', () => {
    const dir = tree();
    const p = join(dir, 'one.patch');
    writeFileSync(p, mail(1, 'a', ONE));
    assert.deepEqual(applySeries(readSeries(p), dir), { ok: true });
    const again = applySeries(readSeries(p), dir);
    assert.equal(again.ok, false);
    assert.match(again.ok ? '' : again.reason, /already applied/);
  });

  it('reads GNU patch failure output', () => {
    assert.equal(
      firstFailedHunk(
        'checking file io_uring/Makefile\nHunk #1 FAILED at 22.\n1 out of 1 hunk FAILED\n',
      ),
      'io_uring/Makefile: hunk #1 FAILED at line 22',
    );
  });
});
