// The service lifecycle state machine (starting → ready → draining → stopped) and its readiness checks.
import { LifecycleError } from "./errors.js";

export type LifecycleState = "starting" | "ready" | "draining" | "stopped";
export const LIFECYCLE_STATES: readonly LifecycleState[] = ["starting", "ready", "draining", "stopped"];

/** Allowed transitions (docs/spec/service.md). Failing to start goes straight to stopped. */
const TRANSITIONS: Record<LifecycleState, readonly LifecycleState[]> = {
  starting: ["ready", "draining", "stopped"],
  ready: ["draining"],
  draining: ["stopped"],
  stopped: [],
};

/** A readiness check: ok, or not ok with a reason shown by /readyz. */
export type ReadinessResult = boolean | { ok: boolean; detail?: string };
export type ReadinessCheck = () => ReadinessResult | Promise<ReadinessResult>;

export interface ReadinessReport {
  readonly ready: boolean;
  readonly state: LifecycleState;
  readonly failing: readonly { name: string; detail?: string }[];
}

export class Lifecycle {
  private current: LifecycleState = "starting";
  private readonly listeners = new Set<(to: LifecycleState, from: LifecycleState) => void>();
  private readonly checks = new Map<string, ReadinessCheck>();

  constructor(
    readonly service: string,
    private readonly checkTimeoutMs = 2000,
  ) {}

  get state(): LifecycleState {
    return this.current;
  }

  /** Moves to `to`; a no-op when already there, LifecycleError when the transition is not allowed. */
  transition(to: LifecycleState): void {
    const from = this.current;
    if (from === to) return;
    if (!TRANSITIONS[from].includes(to)) throw new LifecycleError(this.service, from, to);
    this.current = to;
    for (const l of this.listeners) l(to, from);
  }

  /** Calls `listener` on every transition; returns an unsubscribe function. */
  onChange(listener: (to: LifecycleState, from: LifecycleState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves once the state is `state` (or has passed it). */
  waitFor(state: LifecycleState): Promise<void> {
    const reached = () => LIFECYCLE_STATES.indexOf(this.current) >= LIFECYCLE_STATES.indexOf(state);
    if (reached()) return Promise.resolve();
    return new Promise((resolve) => {
      const off = this.onChange(() => {
        if (reached()) {
          off();
          resolve();
        }
      });
    });
  }

  /** Registers a named readiness check (e.g. "nats", "redis"); /readyz fails while any check fails. */
  addReadinessCheck(name: string, check: ReadinessCheck): () => void {
    this.checks.set(name, check);
    return () => this.checks.delete(name);
  }

  /** Ready means: state is ready AND every check passes (checks run in parallel, each with a timeout). */
  async readiness(): Promise<ReadinessReport> {
    const failing: { name: string; detail?: string }[] = [];
    await Promise.all(
      [...this.checks].map(async ([name, check]) => {
        let timer: NodeJS.Timeout | undefined;
        try {
          const result = await Promise.race([
            Promise.resolve().then(check),
            new Promise<ReadinessResult>((resolve) => {
              timer = setTimeout(() => resolve({ ok: false, detail: `check timed out after ${this.checkTimeoutMs}ms` }), this.checkTimeoutMs);
            }),
          ]);
          const r = typeof result === "boolean" ? { ok: result } : result;
          if (!r.ok) failing.push(r.detail === undefined ? { name } : { name, detail: r.detail });
        } catch (err) {
          // A throwing check is a failing check; its message is the detail /readyz reports.
          failing.push({ name, detail: `check threw: ${(err as Error).message}` });
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    failing.sort((a, b) => a.name.localeCompare(b.name));
    return { ready: this.current === "ready" && failing.length === 0, state: this.current, failing };
  }
}
