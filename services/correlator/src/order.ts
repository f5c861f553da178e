// Keeps versions of one object (one `obj` subject) in stream order across replicas.
//
// JetStream hands a durable's messages out in stream order, but two replicas may work on two versions of
// one object at once, and a killed replica's messages come back only after ack_wait. A message waits
// here while an earlier message of its subject is either in flight on some replica (registered in
// Redis) or still unprocessed in the stream (pulled by a replica that died before starting it): the
// stream is asked for the first message of the subject after the last one processed (`next_by_subj`).
import { backoffDelay } from "@faro/primitives";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Redis } from "ioredis";
import { StateError } from "./errors.js";

// Registers seq as in flight; returns -1 when an earlier seq of the subject is in flight, else the last
// processed seq of the subject (0 when unknown).
const ENTER_LUA = `
local k = ARGV[1]
local seq = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local horizon = tonumber(ARGV[4])
redis.call('ZADD', k, now, ARGV[2])
redis.call('ZREMRANGEBYSCORE', k, '-inf', now - horizon)
redis.call('PEXPIRE', k, horizon)
for _, m in ipairs(redis.call('ZRANGE', k, 0, -1)) do
  if tonumber(m) < seq then return -1 end
end
return tonumber(redis.call('GET', ARGV[5]) or '0')
`;

// Unregisters seq; on success also raises the subject's last processed seq.
const LEAVE_LUA = `
redis.call('ZREM', ARGV[1], ARGV[2])
if ARGV[4] == '1' then
  local cur = tonumber(redis.call('GET', ARGV[3]) or '0')
  if tonumber(ARGV[2]) > cur then redis.call('SET', ARGV[3], ARGV[2], 'PX', ARGV[5]) else redis.call('PEXPIRE', ARGV[3], ARGV[5]) end
end
return 1
`;

type ScriptFn = (...args: string[]) => Promise<number>;

export interface OrderGateOptions {
  redis: Redis;
  prefix: string;
  nc: NatsConnection;
  stream: string;
  /** Lowest stream sequence not yet acknowledged minus one (the consumer's ack floor), refreshed by the caller. */
  ackFloor: () => number;
  /** How long an in-flight registration blocks later messages (ack_wait × max_deliver covers redeliveries). */
  horizonMs: number;
  /** How long the last processed seq of a subject is remembered (the stream's retention). */
  doneTtlMs: number;
  /** Longest wait of one message before it is handed back (nak) so its slot serves others. */
  maxWaitMs: number;
  /**
   * Ask the stream for an unprocessed earlier message of the subject (one JetStream API request per
   * message); without it only messages registered in flight are waited for.
   */
  lookups: boolean;
  /** A stream lookup failed (the gate then lets the message through). */
  onLookupError?: (err: unknown) => void;
}

export type GateOutcome = "immediate" | "waited" | "timeout";

/** How often a waiting message polls Redis for other replicas' progress: 5 ms doubling to 250 ms. */
const POLL = { baseMs: 5, maxMs: 250 };

export class OrderGate {
  private readonly enterFn: ScriptFn;
  private readonly leaveFn: ScriptFn;
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(private readonly opts: OrderGateOptions) {
    const r = opts.redis as unknown as Record<string, ScriptFn | undefined>;
    if (!r["faroOrderEnter"]) opts.redis.defineCommand("faroOrderEnter", { numberOfKeys: 0, lua: ENTER_LUA });
    if (!r["faroOrderLeave"]) opts.redis.defineCommand("faroOrderLeave", { numberOfKeys: 0, lua: LEAVE_LUA });
    this.enterFn = (opts.redis as unknown as Record<string, ScriptFn>)["faroOrderEnter"]!.bind(opts.redis);
    this.leaveFn = (opts.redis as unknown as Record<string, ScriptFn>)["faroOrderLeave"]!.bind(opts.redis);
  }

  private keys(subject: string): { flight: string; done: string } {
    return { flight: `${this.opts.prefix}ord:${subject}`, done: `${this.opts.prefix}ordone:${subject}` };
  }

  /** The sequence of the first message of `subject` at or after `from`, or undefined when there is none. */
  private async nextOf(subject: string, from: number): Promise<number | undefined> {
    const res = await this.opts.nc.request(`$JS.API.STREAM.MSG.GET.${this.opts.stream}`, JSON.stringify({ seq: from, next_by_subj: subject }), { timeout: 5000 });
    const body = JSON.parse(new TextDecoder().decode(res.data)) as { message?: { seq: number }; error?: { code: number; description: string } };
    if (body.message) return body.message.seq;
    if (body.error?.code === 404) return undefined;
    throw new Error(`stream message lookup failed: ${body.error?.description ?? "no answer"}`);
  }

  /**
   * Registers `seq` as in flight and waits until no earlier message of `subject` is in flight or
   * unprocessed. `working` is called while waiting so the server does not redeliver meanwhile.
   */
  async enter(subject: string, seq: number, working: () => void): Promise<GateOutcome> {
    const { flight, done } = this.keys(subject);
    const deadline = Date.now() + this.opts.maxWaitMs;
    for (let attempt = 0; ; attempt++) {
      let ready = false;
      let last: number;
      try {
        last = Number(await this.enterFn(flight, String(seq), String(Date.now()), String(this.opts.horizonMs), done));
      } catch (err) {
        throw new StateError("order-enter", { cause: err });
      }
      if (last >= 0) {
        const from = Math.max(last, this.opts.ackFloor()) + 1;
        if (from >= seq || !this.opts.lookups) ready = true;
        else {
          try {
            const next = await this.nextOf(subject, from);
            ready = next === undefined || next >= seq;
          } catch (err) {
            // Fail open: a slow or failing lookup must not stall the object (only a dead replica's
            // unstarted message is missed, which the lookup exists for).
            this.opts.onLookupError?.(err);
            ready = true;
          }
        }
      }
      if (ready) return attempt === 0 ? "immediate" : "waited";
      if (Date.now() >= deadline) return "timeout";
      working();
      // Woken at once when a message of the subject finishes in this replica; polled for other replicas.
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(t);
          this.waiters.get(subject)?.delete(wake);
          resolve();
        };
        const t = setTimeout(wake, backoffDelay(attempt + 1, POLL));
        let set = this.waiters.get(subject);
        if (!set) this.waiters.set(subject, (set = new Set()));
        set.add(wake);
      });
      if (this.waiters.get(subject)?.size === 0) this.waiters.delete(subject);
    }
  }

  /** The message is finished; `processed` raises the subject's last processed seq (not on a failure). */
  async leave(subject: string, seq: number, processed: boolean): Promise<void> {
    const { flight, done } = this.keys(subject);
    try {
      await this.leaveFn(flight, String(seq), done, processed ? "1" : "0", String(this.opts.doneTtlMs));
    } catch (err) {
      throw new StateError("order-leave", { cause: err });
    } finally {
      for (const wake of [...(this.waiters.get(subject) ?? [])]) wake();
    }
  }
}
