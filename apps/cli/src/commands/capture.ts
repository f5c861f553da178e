// `faro capture <kind>/<name> -n <ns>`: runs the pipeline in-process for one workload's namespace and writes
// that workload's complete story to a file (the single-resource mode, from a laptop).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseDuration } from "@faro/config";
import { validateStoryFile } from "@faro/contracts";
import { parseFlags, type Command } from "../command.js";
import { CommandError, UsageError } from "../errors.js";
import { startSession, type Session } from "../session.js";
import { readStoryFiles, type ReadStory } from "../story-files.js";

const KINDS: Record<string, string> = {
  deploy: "Deployment",
  deployment: "Deployment",
  deployments: "Deployment",
  sts: "StatefulSet",
  statefulset: "StatefulSet",
  statefulsets: "StatefulSet",
  ds: "DaemonSet",
  daemonset: "DaemonSet",
  daemonsets: "DaemonSet",
  rs: "ReplicaSet",
  replicaset: "ReplicaSet",
  replicasets: "ReplicaSet",
  job: "Job",
  jobs: "Job",
  cj: "CronJob",
  cronjob: "CronJob",
  cronjobs: "CronJob",
  po: "Pod",
  pod: "Pod",
  pods: "Pod",
};

/** `deploy/web` → { kind: "Deployment", name: "web" }; other kinds (CRDs) are taken as written. */
export function parseTarget(s: string): { kind: string; name: string } {
  const slash = s.indexOf("/");
  if (slash <= 0 || slash === s.length - 1) throw new UsageError(`want <kind>/<name> (e.g. deploy/web), got "${s}"`, "capture");
  const k = s.slice(0, slash);
  return { kind: KINDS[k.toLowerCase()] ?? k, name: s.slice(slash + 1) };
}

/** The story of the target: a root workload of that kind and name, or (for a pod) the story holding that pod. Latest window first. */
export function findStory(stories: readonly ReadStory[], target: { kind: string; name: string }): ReadStory[] {
  const matches = stories.filter((s) =>
    target.kind === "Pod"
      ? (s.story.pods ?? []).some((p) => p.name === target.name) || (s.story.workload?.kind === "Pod" && s.story.workload.name === target.name)
      : s.story.workload?.kind.toLowerCase() === target.kind.toLowerCase() && s.story.workload.name === target.name,
  );
  return matches.sort((a, b) => b.story.window - a.story.window);
}

export const captureCommand: Command = {
  name: "capture",
  summary: "watch one workload for a while and write its complete story to a file",
  usage: "faro capture <kind>/<name> -n <namespace> -o FILE [--for DURATION] [--kubeconfig PATH] [--context NAME] [--nats URL] [--redis URL]",
  async run(args, io) {
    const positional: string[] = [];
    const rest: string[] = [];
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a === "-n") rest.push("--namespace", args[++i] ?? "");
      else if (a === "-o") rest.push("--output", args[++i] ?? "");
      else if (a === "-h") rest.push("--help");
      else if (!a.startsWith("-")) positional.push(a);
      else {
        rest.push(a);
        if (!a.includes("=") && !["--help", "--verbose"].includes(a)) rest.push(args[++i] ?? "");
      }
    }
    const f = parseFlags(
      rest.filter((a) => a !== ""),
      { namespace: "string", output: "string", for: "string", kubeconfig: "string", context: "string", nats: "string", redis: "string", verbose: "boolean", help: "boolean" },
      "capture",
    );
    if (f.help) {
      io.out(
        `usage: ${captureCommand.usage}\nRuns the five services in this process, watching only <namespace>, for --for (e.g. 5m) or until Ctrl-C; then writes the workload's story (JSON, docs/story-format.md) to FILE.`,
      );
      return 0;
    }
    if (positional.length !== 1) throw new UsageError("want exactly one <kind>/<name>", "capture");
    const target = parseTarget(positional[0]!);
    const namespace = f.namespace as string | undefined;
    if (!namespace) throw new UsageError("-n <namespace> is required", "capture");
    const output = f.output as string | undefined;
    if (!output) throw new UsageError("-o FILE is required", "capture");
    let forMs: number | undefined;
    if (f.for !== undefined) {
      forMs = parseDuration(String(f.for));
      if (forMs === undefined) throw new UsageError(`--for: not a duration: "${f.for}" (e.g. 30s, 5m)`, "capture");
    }

    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "faro-capture-"));
    let session: Session | undefined;
    try {
      session = await startSession({
        tokenPrefix: "capture",
        kubeconfig: f.kubeconfig as string | undefined,
        nats: f.nats as string | undefined,
        redis: f.redis as string | undefined,
        dir: tmp,
        namespaces: [namespace],
        logLevel: f.verbose ? "info" : (process.env.FARO_LOG_LEVEL ?? "error"),
        env: f.context ? { ...process.env, FARO_KUBE_CONTEXT: f.context as string } : process.env,
        onProgress: (s) => io.err(`faro capture: ${s}`),
      });
      io.err(`faro capture: watching ${target.kind}/${target.name} in ${namespace}${forMs !== undefined ? ` for ${f.for}` : ""} (Ctrl-C to finish)`);
      await new Promise<void>((resolve) => {
        const timer = forMs !== undefined ? setTimeout(resolve, forMs) : undefined;
        const done = () => {
          clearTimeout(timer);
          resolve();
        };
        if (io.signal.aborted) done();
        else io.signal.addEventListener("abort", done, { once: true });
      });
      const code = await session.finish();
      session = undefined;
      const found = findStory(readStoryFiles(tmp), target);
      if (found.length === 0) throw new CommandError(`no story for ${target.kind}/${target.name} in ${namespace} (does it exist? is the kubeconfig right?)`, "capture");
      const best = found[0]!;
      const v = validateStoryFile(best.story);
      if (!v.ok) throw new CommandError(`the story does not match the schema: ${v.errors.slice(0, 3).join("; ")}`, "capture");
      const out = path.resolve(output);
      fs.mkdirSync(path.dirname(out), { recursive: true });
      const part = `${out}.${process.pid}.tmp`;
      fs.writeFileSync(part, JSON.stringify(best.story, null, 2));
      fs.renameSync(part, out);
      const s = best.story;
      io.err(
        `faro capture: wrote ${output}: ${s.workload.kind}/${s.workload.name}, ${s.pods.length} pod(s), ${s.timeline.length} timeline entries, ${s.incidents.length} incident(s)${found.length > 1 ? ` (window ${s.window}; ${found.length - 1} earlier window(s) not included)` : ""}`,
      );
      return code;
    } finally {
      await session?.abort("capture failed");
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  },
};
