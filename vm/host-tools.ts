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

const need = (what: string, present: () => boolean, debian: string): Need => ({
  what,
  present,
  debian,
});
const header = (path: string) => () => existsSync(path);

const MAKE = need('make', command('make'), 'make');
const GCC = need('a C compiler (gcc)', command('gcc'), 'gcc');
const LIBELF = need('libelf headers', header('/usr/include/libelf.h'), 'libelf-dev');
const ZLIB = need('zlib headers', header('/usr/include/zlib.h'), 'zlib1g-dev');
const TAR = need('tar', command('tar'), 'tar');
const XZ = need('xz', command('xz'), 'xz-utils');

/** libbpf from tools/lib/bpf: a tarball unpacked, then make with libelf and zlib. */
const LIBBPF_BUILD: readonly Need[] = [MAKE, GCC, LIBELF, ZLIB, TAR, XZ];

/** The kernel: libbpf's needs, Kconfig's (flex, bison), bc, pahole for BTF, OpenSSL, patch for a series. */
const KERNEL_BUILD: readonly Need[] = [
  ...LIBBPF_BUILD,
  need('flex', command('flex'), 'flex'),
  need('bison', command('bison'), 'bison'),
  need('bc', command('bc'), 'bc'),
  need('pahole (for BTF)', command('pahole'), 'dwarves'),
  need('OpenSSL headers', header('/usr/include/openssl/ssl.h'), 'libssl-dev'),
  need('patch', command('patch'), 'patch'),
];

const GUEST_RUN: readonly Need[] = [
  need('QEMU (qemu-system-x86_64)', command('qemu-system-x86_64'), 'qemu-system-x86'),
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
