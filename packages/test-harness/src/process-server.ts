// A server run as a local child process (nats-server, redis-server) that tests can stop, kill -9 and restart
// on the same port and data directory.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { waitForPort } from "./ports.js";
import { registerProcess } from "./processes.js";

export interface ManagedServer {
  /** Connection URL, e.g. nats://127.0.0.1:4567 or redis://127.0.0.1:6543. */
  readonly url: string;
  readonly port: number;
  /** Data directory on disk (kept across restarts; removed by stop()). */
  readonly dataDir: string;
  /** Graceful stop (SIGTERM), keeps nothing running. Idempotent. */
  stop(): Promise<void>;
  /** kill -9, leaves the data directory for restart(). */
  kill(): Promise<void>;
  /** Start again on the same port with the same data directory. */
  restart(): Promise<void>;
  /** True while the process runs. */
  running(): boolean;
  /** Freezes the server (SIGSTOP): connections stay open and nothing is answered — a hung server. */
  pause(): Promise<void>;
  /** Lets a paused server go on (SIGCONT). */
  resume(): Promise<void>;
}

export class ProcessServer {
  private child: ChildProcess | undefined;
  private output = "";

  constructor(
    private readonly bin: string,
    private readonly args: string[],
    private readonly port: number,
    private readonly startTimeoutMs = 15_000,
  ) {}

  running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    if (this.running()) return;
    this.output = "";
    const child = spawn(this.bin, this.args, { stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    registerProcess(child); // found at the end of the run if nobody stopped it
    const keep = (b: Buffer) => {
      this.output = (this.output + b.toString("utf8")).slice(-4000);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    child.on("error", (err) => keep(Buffer.from(String(err))));
    try {
      await waitForPort(this.port, this.startTimeoutMs, () => this.running());
    } catch (err) {
      await this.signal("SIGKILL");
      throw new Error(`${this.bin} failed to start on port ${this.port}: ${(err as Error).message}\n${this.output}`);
    }
  }

  async signal(sig: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || !this.running()) return;
    const exited = once(child, "exit");
    if (sig !== "SIGKILL") child.kill("SIGCONT"); // a paused server would hold SIGTERM until continued
    child.kill(sig);
    await exited;
  }

  /** Sends a signal without waiting for an exit (SIGSTOP, SIGCONT). */
  send(sig: NodeJS.Signals): void {
    if (this.child && this.running()) this.child.kill(sig);
  }

  lastOutput(): string {
    return this.output;
  }
}
