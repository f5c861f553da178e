// Quiet start-up for the in-process pipeline (faro up, demo, capture): the services' log lines are held back
// until every service is ready. When start-up fails they are dropped, because the command prints the failure
// as one line that says what to do; with --verbose nothing is held back.

export interface StartupGate {
  /** The logger destination (pino calls write with one JSON line). */
  write(line: string): void;
  /** Start-up succeeded: print what was held back, then pass lines straight through. */
  open(): void;
  /** Start-up failed: drop what was held back (the command explains the failure); later lines pass through. */
  discard(): void;
}

/** Bounded: past `maxHeld` lines the oldest are dropped (a counter line says how many). */
export function startupGate(out: { write(s: string): unknown }, maxHeld = 200): StartupGate {
  let held: string[] | undefined = [];
  let dropped = 0;
  return {
    write(line) {
      if (held === undefined) {
        out.write(line);
        return;
      }
      held.push(line);
      if (held.length > maxHeld) {
        held.shift();
        dropped++;
      }
    },
    open() {
      if (held === undefined) return;
      if (dropped > 0) out.write(`faro: ${dropped} earlier start-up log line(s) not shown (--verbose shows all)\n`);
      for (const l of held) out.write(l);
      held = undefined;
    },
    discard() {
      held = undefined;
    },
  };
}
