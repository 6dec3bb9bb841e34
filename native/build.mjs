// Builds the native addon and the standalone iou-standins binary (npm install
// runs this). Node's headers are found next to the running node binary, since
// node-gyp cannot download them here. With no compiler, one line says so and
// the TypeScript parts stay usable; a compile error with a compiler fails.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const nodedir = dirname(dirname(process.execPath));
const say = (line) => console.error(`iou-dispatch: ${line}`);

function has(cmd) {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
}

const missing = [
  [process.env.CC ?? 'cc', 'C compiler'],
  [process.env.CXX ?? 'c++', 'C++ compiler'],
  ['make', 'make'],
  ['python3', 'python3'],
].filter(([cmd]) => !has(cmd));
if (missing.length > 0) {
  say(
    `native addon not built: missing ${missing.map(([, what]) => what).join(', ')} (install build-essential and python3); the kernel and native lanes will be skipped`,
  );
  process.exit(0);
}
if (!existsSync(join(nodedir, 'include', 'node', 'node_api.h'))) {
  say(
    `native addon not built: no Node headers under ${nodedir}/include/node; the kernel and native lanes will be skipped`,
  );
  process.exit(0);
}
// npm sets npm_config_node_gyp to its bundled node-gyp in every script it runs.
const gyp = process.env.npm_config_node_gyp;
if (gyp === undefined || !existsSync(gyp)) {
  say('run this through npm (npm ci, or npm run build:native): it needs the node-gyp npm ships');
  process.exit(2);
}
const result = spawnSync(
  process.execPath,
  [gyp, 'rebuild', `--nodedir=${nodedir}`, `--directory=${here}`],
  {
    stdio: ['ignore', 'inherit', 'inherit'],
  },
);
if (result.status !== 0) {
  say('native addon build failed (see the compiler output above)');
  process.exit(1);
}
