// `npm run vm` as a user meets it: bad input is one line and exit 2; a
// failure is one line and exit 1; nothing is left in the cache by a build
// that did not finish.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { missingHostTools } from '../../vm/host-tools.js';

const CLI = fileURLToPath(new URL('../../vm/cli.js', import.meta.url));

function vm(args: readonly string[], cache = mkdtempSync(join(tmpdir(), 'iou-cache-'))) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, IOU_CACHE: cache },
    timeout: 120_000,
  });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout, cache };
}

/** A directory that looks enough like a kernel tree to get past the source checks. */
function fakeTree(): string {
  const dir = mkdtempSync(join(tmpdir(), 'iou-fake-linux-'));
  writeFileSync(join(dir, 'Makefile'), 'VERSION = 7\nPATCHLEVEL = 2\nSUBLEVEL = 0\n');
  mkdirSync(join(dir, 'arch', 'x86'), { recursive: true });
  writeFileSync(join(dir, 'arch', 'x86', 'Kconfig'), '');
  mkdirSync(join(dir, 'io_uring'));
  writeFileSync(join(dir, 'io_uring', 'Makefile'), ['a', 'b', 'c', 'd', 'e', 'f', ''].join('\n'));
  return dir;
}

/** Nothing but empty work/ and failed/ logs: no kernel entry. */
function noEntry(cache: string): boolean {
  const kernels = join(cache, 'kernels');
  const work = join(cache, 'work');
  return (
    (!existsSync(kernels) || readdirSync(kernels).length === 0) &&
    (!existsSync(work) || readdirSync(work).length === 0)
  );
}

describe('npm run vm: bad input', () => {
  for (const [args, message] of [
    [[], /^vm: give a verb: kernel, libbpf, run/],
    [['boot'], /^vm: unknown verb 'boot'/],
    [['kernel'], /^vm: kernel: --source is required/],
    [
      ['kernel', '--source', '/nonexistent/linux'],
      /^vm: --source \/nonexistent\/linux: no such file or directory/,
    ],
    [
      ['kernel', '--source', '/etc'],
      /^vm: --source \/etc is not a kernel tree: no top-level Makefile/,
    ],
    [
      ['kernel', '--source', '/etc/hostname'],
      /^vm: --source \/etc\/hostname: want a kernel tree directory or a tarball/,
    ],
    [['kernel', '--source', '/etc', '--jobs', '0'], /^vm: --jobs: '0' is not a number above 0/],
    [['kernel', '--frobnicate'], /^vm: Unknown option '--frobnicate'/],
    [
      ['run', '--kernel', '/nonexistent/bzImage', '--', 'true'],
      /^vm: --kernel \/nonexistent\/bzImage: no such file/,
    ],
    [['run', '--kernel', '/etc', '--', 'true'], /^vm: --kernel \/etc: no bzImage and info.json/],
    [['run', '--kernel', '/etc/hostname'], /^vm: run: give the command after --/],
    [
      ['run', '--kernel', '/etc/hostname', '--accel', 'hvf', '--', 'true'],
      /^vm: --accel: 'hvf' is not auto, kvm or tcg/,
    ],
    [
      ['run', '--kernel', '/etc/hostname', '--collect', '../x', '--', 'true'],
      /^vm: --collect: '\.\.\/x' is not a path inside the project/,
    ],
  ] as const) {
    it(`${args.join(' ') || '(no verb)'}: one line, exit 2`, () => {
      const r = vm(args);
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, message);
    });
  }

  it('a tarball that holds no kernel tree: one line, exit 2, no cache entry', {
    skip: missingHostTools('kernel') ?? false,
  }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'iou-not-linux-'));
    writeFileSync(join(dir, 'README'), 'not a kernel\n');
    const tarball = join(dir, 'linux-source-9.9.tar.gz');
    assert.equal(spawnSync('tar', ['-czf', tarball, '-C', dir, 'README']).status, 0);
    const r = vm(['kernel', '--source', tarball]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(
      r.stderr.trim().split('\n').at(-1) ?? '',
      /^vm: --source .* does not hold a kernel tree: no top-level Makefile/,
    );
    assert.ok(noEntry(r.cache));
  });
});

describe('npm run vm: failures', () => {
  it('a series that does not apply: names the patch and hunk, exit 1, no cache entry', {
    skip: missingHostTools('kernel') ?? false,
  }, () => {
    const tree = fakeTree();
    const series = join(mkdtempSync(join(tmpdir(), 'iou-series-')), '0001-x.patch');
    writeFileSync(
      series,
      [
        'Subject: [PATCH] io_uring: add bpf_op.o',
        '',
        '---',
        '--- a/io_uring/Makefile',
        '+++ b/io_uring/Makefile',
        '@@ -1,6 +1,7 @@',
        ' one',
        ' two',
        ' three',
        '+obj-y += bpf_op.o',
        ' four',
        ' five',
        ' six',
        '',
      ].join('\n'),
    );
    const r = vm(['kernel', '--source', tree, '--series', series]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(
      r.stderr.trim().split('\n').at(-1) ?? '',
      /^vm kernel: patch 1\/1 \(0001-x\.patch: "\[PATCH\] io_uring: add bpf_op\.o"\) does not apply: io_uring\/Makefile: hunk #1 FAILED at line 1/,
    );
    assert.ok(noEntry(r.cache));
  });

  it('a guest that never boots: one line naming TCG and the console log, exit 1', {
    skip: missingHostTools('run') ?? false,
  }, () => {
    // Not a kernel image: QEMU refuses to load it.
    const image = join(mkdtempSync(join(tmpdir(), 'iou-image-')), 'bzImage');
    writeFileSync(image, Buffer.alloc(4096, 0x5a));
    const out = mkdtempSync(join(tmpdir(), 'iou-vm-out-'));
    const r = vm([
      'run',
      '--kernel',
      image,
      '--accel',
      'tcg',
      '--boot-timeout',
      '60',
      '--out',
      out,
      '--',
      'true',
    ]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(
      r.stderr.trim().split('\n').at(-1) ?? '',
      /^vm run: the guest never came up under TCG: qemu exited \(1\) before the guest came up.*\(console log: .*console\.log\)$/,
    );
  });
});
