// A reader for the kernel's BTF (/sys/kernel/btf/vmlinux), enough to find
// struct sizes and whether a type exists by name. Layout from
// include/uapi/linux/btf.h: a header, a type section of variable-length
// records, a string section.

import { readFileSync } from 'node:fs';

export const VMLINUX_BTF = '/sys/kernel/btf/vmlinux';
const BTF_MAGIC = 0xeb9f;

const KIND_STRUCT = 4;
const KIND_UNION = 5;
const KIND_TYPEDEF = 8;
const KIND_FUNC = 12;
const KIND_FUNC_PROTO = 13;

/** Kind names as a signature shows them (index = BTF kind). */
const KIND_NAMES = [
  'void',
  'int',
  'ptr',
  'array',
  'struct',
  'union',
  'enum',
  'fwd',
  'typedef',
  'volatile',
  'const',
  'restrict',
  'func',
  'func_proto',
  'var',
  'datasec',
  'float',
  'decl_tag',
  'type_tag',
  'enum',
] as const;

/** Bytes that follow a type record of `kind` with `vlen` entries. */
function trailing(kind: number, vlen: number): number {
  switch (kind) {
    case 1: // INT
    case 14: // VAR
    case 17: // DECL_TAG
      return 4;
    case 3: // ARRAY
      return 12;
    case 4: // STRUCT
    case 5: // UNION
    case 15: // DATASEC
    case 19: // ENUM64
      return vlen * 12;
    case 6: // ENUM
    case 13: // FUNC_PROTO
      return vlen * 8;
    case 2: // PTR
    case 7: // FWD
    case 8: // TYPEDEF
    case 9: // VOLATILE
    case 10: // CONST
    case 11: // RESTRICT
    case 12: // FUNC
    case 16: // FLOAT
    case 18: // TYPE_TAG
      return 0;
    default:
      throw new Error(`unknown BTF kind ${kind}`);
  }
}

export interface BtfTypes {
  /** Size in bytes of the named struct or union (the first one of that name). */
  sizeOf(name: string): number | undefined;
  /** Whether a struct or union of that name exists. */
  has(name: string): boolean;
  /** Member names of the named struct or union, in order; undefined when there is none. */
  members(name: string): string[] | undefined;
  /**
   * Byte offset of `path` ('cqe.user_data') inside the named struct, through
   * nested structs and unions (anonymous ones included); undefined when a
   * step is missing or is a bitfield.
   */
  offsetOf(name: string, path: string): number | undefined;
  /**
   * Type id of the typedef called `name` (the first of that name): what a
   * tp_btf program names as attach_btf_id (btf_trace_<tracepoint>).
   */
  typedefId(name: string): number | undefined;
  /**
   * Type id of the struct or union called `name` (the first of that name):
   * what a struct_ops program names as attach_btf_id, and a struct_ops map's
   * btf_vmlinux_value_type_id.
   */
  structId(name: string): number | undefined;
  /**
   * The function `name`'s return and parameter types as libbpf compares a
   * kfunc extern with the kernel's (bpf_core_types_are_compat): typedefs and
   * modifiers skipped, pointers followed, then only the kind counts, so a
   * forward declaration ('ptr fwd') does not match a struct ('ptr struct').
   * Undefined when there is no such function.
   */
  funcSignature(name: string): { ret: string; params: string[] } | undefined;
  /** Names of the functions declared extern (a BPF object's kfunc calls, resolved at load). */
  externFuncs(): string[];
  /** Number of type records read. */
  readonly count: number;
}

/** Parses BTF from `data`; throws an Error naming what is wrong with it. */
export function parseBtf(data: Buffer): BtfTypes {
  if (data.length < 24) throw new Error('BTF too short for its header');
  const magic = data.readUInt16LE(0);
  if (magic !== BTF_MAGIC)
    throw new Error(`not BTF (magic 0x${magic.toString(16)}; big-endian BTF is not read)`);
  const hdrLen = data.readUInt32LE(4);
  const typeOff = hdrLen + data.readUInt32LE(8);
  const typeLen = data.readUInt32LE(12);
  const strOff = hdrLen + data.readUInt32LE(16);
  const strLen = data.readUInt32LE(20);
  if (typeOff + typeLen > data.length || strOff + strLen > data.length)
    throw new Error('BTF sections run past the end');
  const nameAt = (off: number): string => {
    const start = strOff + off;
    const end = data.indexOf(0, start);
    return data.toString('latin1', start, end < 0 ? strOff + strLen : end);
  };
  const sizes = new Map<string, number>();
  /** Type id (1-based, in order) of each struct or union, by name (the first of that name). */
  const ids = new Map<string, number>();
  const typedefs = new Map<string, number>();
  const funcs = new Map<string, number>();
  const externs: string[] = [];
  /** Per type id: its kind, the type it refers to (typedefs, modifiers, pointers, functions), its members (structs, unions) and parameter types (function prototypes). */
  const types: { kind: number; ref: number; members: Member[]; params: number[] }[] = [
    { kind: 0, ref: 0, members: [], params: [] },
  ];
  let count = 0;
  for (let pos = typeOff; pos < typeOff + typeLen; ) {
    const nameOff = data.readUInt32LE(pos);
    const info = data.readUInt32LE(pos + 4);
    const sizeOrType = data.readUInt32LE(pos + 8);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    const bitfields = info >>> 31 === 1;
    const members: Member[] = [];
    if ((kind === KIND_TYPEDEF || kind === KIND_FUNC) && nameOff !== 0) {
      const byName = kind === KIND_FUNC ? funcs : typedefs;
      const name = nameAt(nameOff);
      if (!byName.has(name)) byName.set(name, count + 1);
      // A FUNC's vlen is its linkage: 0 static, 1 global, 2 extern.
      if (kind === KIND_FUNC && vlen === 2) externs.push(name);
    }
    const params: number[] = [];
    if (kind === KIND_FUNC_PROTO)
      for (let i = 0; i < vlen; i++) params.push(data.readUInt32LE(pos + 12 + i * 8 + 4));
    if (kind === KIND_STRUCT || kind === KIND_UNION) {
      if (nameOff !== 0) {
        const name = nameAt(nameOff);
        if (!sizes.has(name)) {
          sizes.set(name, sizeOrType);
          ids.set(name, count + 1);
        }
      }
      for (let i = 0; i < vlen; i++) {
        const m = pos + 12 + i * 12;
        const offset = data.readUInt32LE(m + 8);
        members.push({
          name: nameAt(data.readUInt32LE(m)),
          type: data.readUInt32LE(m + 4),
          // With kind_flag set, the top 8 bits are a bitfield size and the low 24 the bit offset.
          bitOffset: bitfields ? offset & 0xffffff : offset,
          bitfield: bitfields && offset >>> 24 !== 0,
        });
      }
    }
    types.push({ kind, ref: sizeOrType, members, params });
    pos += 12 + trailing(kind, vlen);
    count += 1;
  }
  /** Follows typedefs and const/volatile/restrict/type tags to the type itself. */
  const resolve = (id: number): number => {
    let t = id;
    for (let hops = 0; hops < 32; hops++) {
      const k = types[t]?.kind;
      if (k === 8 || k === 9 || k === 10 || k === 11 || k === 18) t = types[t]?.ref ?? 0;
      else return t;
    }
    return t;
  };
  /** What libbpf's compatibility check sees of type `id`: 'int', 'ptr struct', 'void'. */
  const describe = (id: number): string => {
    const parts: string[] = [];
    let t = resolve(id);
    for (let hops = 0; hops < 8 && types[t]?.kind === 2; hops++) {
      parts.push('ptr');
      t = resolve(types[t]?.ref ?? 0);
    }
    parts.push(KIND_NAMES[types[t]?.kind ?? 0] ?? 'unknown');
    return parts.join(' ');
  };
  /** The byte offset of `name` in type `id`, looking into anonymous members too. */
  const find = (id: number, name: string): { offset: number; type: number } | undefined => {
    for (const m of types[resolve(id)]?.members ?? []) {
      if (m.bitfield) continue;
      if (m.name === name) return { offset: m.bitOffset / 8, type: m.type };
      if (m.name === '') {
        const inner = find(m.type, name);
        if (inner !== undefined)
          return { offset: m.bitOffset / 8 + inner.offset, type: inner.type };
      }
    }
    return undefined;
  };
  return {
    sizeOf: (name) => sizes.get(name),
    has: (name) => sizes.has(name),
    members: (name) => {
      const id = ids.get(name);
      return id === undefined ? undefined : types[id]?.members.map((m) => m.name);
    },
    offsetOf: (name, path) => {
      let id = ids.get(name);
      let offset = 0;
      for (const step of path.split('.')) {
        if (id === undefined) return undefined;
        const found = find(id, step);
        if (found === undefined) return undefined;
        offset += found.offset;
        id = found.type;
      }
      return offset;
    },
    typedefId: (name) => typedefs.get(name),
    structId: (name) => ids.get(name),
    funcSignature: (name) => {
      const proto = types[types[funcs.get(name) ?? 0]?.ref ?? 0];
      if (proto?.kind !== KIND_FUNC_PROTO) return undefined;
      return { ret: describe(proto.ref), params: proto.params.map(describe) };
    },
    externFuncs: () => [...externs],
    count,
  };
}

interface Member {
  readonly name: string;
  readonly type: number;
  readonly bitOffset: number;
  readonly bitfield: boolean;
}

/** The running kernel's BTF, or the reason it cannot be read. */
export function readKernelBtf(
  path = VMLINUX_BTF,
): { ok: true; btf: BtfTypes } | { ok: false; reason: string } {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (e) {
    return {
      ok: false,
      reason: `${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    };
  }
  try {
    return { ok: true, btf: parseBtf(data) };
  } catch (e) {
    return { ok: false, reason: `${path}: ${(e as Error).message}` };
  }
}
