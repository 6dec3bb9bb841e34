// Progress for long runs: a redrawn bar on a terminal, a plain line every
// tenth of the way otherwise (CI=true or not a TTY), always on stderr so
// stdout stays clean for results.

export interface Progress {
  update(done: number, total: number): void;
  /** Ends the bar (a newline on a terminal). */
  done(): void;
}

/** A progress reporter for `label`; `out` is stderr unless a test passes its own. */
export function progress(label: string, out: NodeJS.WriteStream = process.stderr): Progress {
  const bar = out.isTTY === true && process.env.CI !== 'true';
  let lastTenth = -1;
  let drawn = false;
  return {
    update(done, total) {
      const fraction = total > 0 ? done / total : 1;
      if (bar) {
        const width = 30;
        const filled = Math.round(fraction * width);
        out.write(
          `\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`,
        );
        drawn = true;
        return;
      }
      const tenth = Math.floor(fraction * 10);
      if (tenth !== lastTenth) {
        lastTenth = tenth;
        out.write(`${label}: ${done}/${total}\n`);
      }
    },
    done() {
      if (drawn) out.write('\n');
    },
  };
}
