// What the host needs for each verb of `npm run vm`, and the Debian
// package that brings each missing piece, checked before any work starts
// so a missing tool costs one line, not a half-built kernel.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

interface Need {
  readonly what: string;
  readonly present: () => boolean;
  readonly debian: string;
}

const command =
  (cmd: string, arg = '--version') =>
  () =>
    spawnSync(cmd, [arg], { stdio: 'ignore' }).status === 0;

const KERNEL_BUILD: readonly Need[] = [
  { what: 'make', present: command('make'), debian: 'make' },
  { what: 'a C compiler (gcc)', present: command('gcc'), debian: 'gcc' },
  { what: 'flex', present: command('flex'), debian: 'flex' },
  { what: 'bison', present: command('bison'), debian: 'bison' },
  { what: 'bc', present: command('bc'), debian: 'bc' },
  { what: 'pahole (for BTF)', present: command('pahole'), debian: 'dwarves' },
  {
    what: 'libelf headers',
    present: () => existsSync('/usr/include/libelf.h'),
    debian: 'libelf-dev',
  },
  {
    what: 'OpenSSL headers',
    present: () => existsSync('/usr/include/openssl/ssl.h'),
    debian: 'libssl-dev',
  },
  { what: 'zlib headers', present: () => existsSync('/usr/include/zlib.h'), debian: 'zlib1g-dev' },
  { what: 'patch', present: command('patch'), debian: 'patch' },
  { what: 'tar', present: command('tar'), debian: 'tar' },
  { what: 'xz', present: command('xz'), debian: 'xz-utils' },
];

const LIBBPF_BUILD: readonly Need[] = [
  { what: 'make', present: command('make'), debian: 'make' },
  { what: 'a C compiler (gcc)', present: command('gcc'), debian: 'gcc' },
  {
    what: 'libelf headers',
    present: () => existsSync('/usr/include/libelf.h'),
    debian: 'libelf-dev',
  },
  { what: 'zlib headers', present: () => existsSync('/usr/include/zlib.h'), debian: 'zlib1g-dev' },
  { what: 'tar', present: command('tar'), debian: 'tar' },
  { what: 'xz', present: command('xz'), debian: 'xz-utils' },
];

const GUEST_RUN: readonly Need[] = [
  {
    what: 'QEMU (qemu-system-x86_64)',
    present: command('qemu-system-x86_64'),
    debian: 'qemu-system-x86',
  },
];

export type Verb = 'kernel' | 'libbpf' | 'run';

const NEEDS: Readonly<Record<Verb, readonly Need[]>> = {
  kernel: KERNEL_BUILD,
  libbpf: LIBBPF_BUILD,
  run: GUEST_RUN,
};

/** One line naming what `verb` lacks and the Debian packages to install; null when all is there. */
export function missingHostTools(verb: Verb): string | null {
  const missing = NEEDS[verb].filter((n) => !n.present());
  if (missing.length === 0) return null;
  const packages = [...new Set(missing.map((n) => n.debian))].join(' ');
  return `missing ${missing.map((n) => n.what).join(', ')} (Debian: apt-get install ${packages})`;
}
