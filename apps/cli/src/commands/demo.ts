// `faro demo`: the simulated cluster with the `demo` scenario, the pipeline services in-process and a live tail,
// then a summary of the story files written.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startCluster, type Cluster } from "@faro/kube-sim";
import { parseFlags, type Command, type CommandIO } from "../command.js";
import { CommandError, UsageError } from "../errors.js";
import { follow, type Follower } from "../follow.js";
import { startSession, type Session } from "../session.js";
import { incidentsByReason, readStoryFiles } from "../story-files.js";
import { summarize } from "../tail-format.js";

const DEFAULT_SPEED = 10;
/** Simulated time after the scenario's last step before the sources stop. */
const TAIL_SIM_MS = 15_000;

/** Progress on stderr: rewritten in place on a terminal, plain lines otherwise. */
function progress(io: CommandIO, tty: boolean) {
  let shown = false;
  let last = "";
  return {
    line(s: string) {
      if (tty) {
        process.stderr.write(`\r\x1b[2K${s}`);
        shown = true;
      } else if (s !== last && !s.startsWith("t=")) io.err(s);
      last = s;
    },
    /** A permanent line (an incident), keeping the progress line below it. */
    note(s: string) {
      if (tty && shown) process.stderr.write("\r\x1b[2K");
      io.err(s);
    },
    end() {
      if (tty && shown) process.stderr.write("\r\x1b[2K");
      shown = false;
    },
  };
}

export const demoCommand: Command = {
  name: "demo",
  summary: "run the whole pipeline against the simulated cluster's demo scenario and summarise the stories",
  usage: "faro demo [--follow] [--speed X] [--dir DIR] [--nats URL] [--redis URL] [--verbose]",
  async run(args, io) {
    const f = parseFlags(args, { follow: "boolean", speed: "number", dir: "string", nats: "string", redis: "string", verbose: "boolean", help: "boolean" }, "demo");
    if (f.help) {
      io.out(
        [
          `usage: ${demoCommand.usage}`,
          "Starts a simulated cluster (shop: payments crash-looping, recommender OOMKilled, inventory on a bad image, a rollout",
          `and a pod deletion), the pipeline services in this process and a live view of incidents; when the scenario ends`,
          "(or at Ctrl-C with --follow) it waits until the pipeline is drained, writes every story and prints a summary.",
          `  --speed X   simulated seconds per second (default ${DEFAULT_SPEED})`,
          "  --dir DIR   story files directory (default faro-data/stories)",
          "  NATS and Redis: --nats/--redis, else FARO_NATS_URL/FARO_REDIS_URL, else 127.0.0.1:4222/6379 (npm run demo starts them).",
        ].join("\n"),
      );
      return 0;
    }
    const speed = (f.speed as number | undefined) ?? DEFAULT_SPEED;
    if (!(speed > 0)) throw new UsageError("--speed must be > 0", "demo");
    const dir = path.resolve((f.dir as string | undefined) ?? "faro-data/stories");
    const tty = process.stderr.isTTY === true;
    const colour = tty && !process.env.NO_COLOR;
    const p = progress(io, tty);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "faro-demo-"));
    const kubeconfig = path.join(tmp, "kubeconfig");
    const started = Date.now();

    let cluster: Cluster | undefined;
    let session: Session | undefined;
    let follower: Follower | undefined;
    try {
      p.line("starting the simulated cluster");
      cluster = await startCluster({ speed, port: 0 });
      cluster.writeKubeconfig(kubeconfig);
      p.line(`simulated cluster at ${cluster.url}; starting the services`);
      session = await startSession({
        tokenPrefix: "demo",
        kubeconfig,
        nats: f.nats as string | undefined,
        redis: f.redis as string | undefined,
        dir,
        logLevel: f.verbose ? "info" : (process.env.FARO_LOG_LEVEL ?? "error"),
        env: process.env,
        onProgress: (s) => p.line(s),
      });
      const token = session.cluster;
      const counts = { story: 0, incident: 0 };
      follower = await follow({
        servers: session.natsUrl,
        nc: session.nc,
        stages: ["story", "incident"],
        cluster: session.cluster,
        onRecord: (r) => {
          if (r.stage === "incident") {
            counts.incident++;
            p.note(summarize(r, colour));
          } else counts.story++;
        },
      });
      const run = cluster.runScenario("demo");
      const simStart = cluster.clock.now();
      io.err(`faro demo: cluster ${session.cluster}, scenario demo at ${speed}x (${run.scenario.description?.trim().split(".")[0] ?? ""})`);
      const ticker = setInterval(() => {
        const simS = Math.round((cluster!.clock.now() - simStart) / 1000);
        p.line(`t=${simS}s (simulated)  story entries ${counts.story}  incidents ${counts.incident}${f.follow ? "  — Ctrl-C to finish" : ""}`);
      }, 250);
      const signalled = new Promise<void>((resolve) => (io.signal.aborted ? resolve() : io.signal.addEventListener("abort", () => resolve(), { once: true })));
      try {
        if (f.follow) await signalled;
        else await Promise.race([run.done, signalled]);
      } finally {
        clearInterval(ticker);
      }
      if (!io.signal.aborted) {
        // The last step (a pod deletion) needs a few simulated seconds to play out (replacement pod created,
        // scheduled, started) before the sources stop.
        p.line("scenario finished; letting its last step play out");
        await new Promise((r) => setTimeout(r, (TAIL_SIM_MS / speed) | 0));
      }
      run.stop();
      p.line("stopping the sources");
      await follower.stop();
      follower = undefined;
      const code = await session.finish();
      session = undefined;
      p.end();
      await cluster.stop();
      cluster = undefined;

      return printSummary(io, { dir, cluster: token, seconds: (Date.now() - started) / 1000 }) || code;
    } catch (err) {
      p.end();
      throw err instanceof CommandError || err instanceof UsageError ? err : new CommandError((err as Error).message, "demo", { cause: err });
    } finally {
      await follower?.stop();
      await session?.abort("demo failed");
      await cluster?.stop();
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  },
};

/** Prints what was written; returns 1 when a file is invalid or nothing was written, else 0. */
function printSummary(io: CommandIO, o: { dir: string; cluster: string; seconds: number }): 0 | 1 {
  const stories = readStoryFiles(o.dir, { cluster: o.cluster });
  const invalid = stories.filter((s) => s.errors.length > 0);
  const incidents = incidentsByReason(stories);
  const rel = path.relative(process.cwd(), o.dir) || ".";
  const byNs = new Map<string, number>();
  for (const s of stories) byNs.set(s.story.namespace, (byNs.get(s.story.namespace) ?? 0) + 1);
  io.out(`faro demo: done in ${o.seconds.toFixed(1)}s (cluster ${o.cluster})`);
  io.out(`  stories written: ${stories.length} (${[...byNs].map(([ns, n]) => `${ns || "_cluster"}: ${n}`).join(", ") || "none"})`);
  io.out(`  incidents: ${[...incidents].map(([r, n]) => `${r} ${n}`).join(", ") || "none"}`);
  io.out(`  files: ${rel}/<namespace>/<story>-w<window>.json — e.g. ${stories[0] ? path.relative(process.cwd(), stories[0].path) : "(none)"}`);
  for (const s of invalid) io.err(`faro demo: ${s.path} does not match the story schema: ${s.errors.slice(0, 3).join("; ")}`);
  if (stories.length === 0) {
    io.err("faro demo: no story files were written");
    return 1;
  }
  return invalid.length > 0 ? 1 : 0;
}
