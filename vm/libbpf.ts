// libbpf built from a kernel tree's tools/lib/bpf: the patched lane's
// struct_ops links need libbpf 1.4, newer than some distributions ship
// (Debian 12 has 1.1), and a libbpf from the same tree as the kernel knows
// every type that kernel has. Installed as DIR/include/bpf/*.h and
// DIR/lib/libbpf.a, the layout `npm run bench -- --libbpf DIR` takes.

import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** Builds libbpf from `tree` into `dest` using `scratch` for objects; null, or the first error line. */
export function buildLibbpf(
  tree: string,
  dest: string,
  scratch: string,
  jobs: number,
): string | null {
  const dir = join(tree, 'tools', 'lib', 'bpf');
  const output = `${join(scratch, 'libbpf-obj')}/`;
  mkdirSync(output, { recursive: true });
  mkdirSync(join(dest, 'lib'), { recursive: true });
  const steps: string[][] = [
    ['-C', dir, `OUTPUT=${output}`, `-j${jobs}`, `${output}libbpf.a`],
    ['-C', dir, `OUTPUT=${output}`, `DESTDIR=${dest}`, 'prefix=', 'install_headers'],
  ];
  for (const args of steps) {
    const r = spawnSync('make', ['-s', ...args], { encoding: 'utf8' });
    if (r.status !== 0) {
      const last = `${r.stdout}${r.stderr}`
        .trim()
        .split('\n')
        .filter((l) => l.trim() !== '')
        .at(-1);
      return `libbpf (tools/lib/bpf) did not build: ${last ?? `make exit ${r.status}`}`;
    }
  }
  copyFileSync(`${output}libbpf.a`, join(dest, 'lib', 'libbpf.a'));
  return null;
}
