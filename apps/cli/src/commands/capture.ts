// `faro capture <kind>/<name> -n <ns>`: runs the pipeline in-process for one workload's namespace and writes
// that workload's complete story to a file (the single-resource mode, from a laptop).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseDuration } from "@faro/config";
import { validateStoryFile } from "@faro/contracts";
import { discoverResources, getObject, KubeConfigError, loadKubeConfig, matchResourceSpec } from "@faro/kube";
import { parseFlags, type Command } from "../command.js";
import { CommandError, UsageError } from "../errors.js";
import { startSession, type Session } from "../session.js";
import { readStoryFiles, type ReadStory } from "../story-files.js";
import { kindOf } from "../story-lookup.js";

/** `deploy/web` → { kind: "Deployment", name: "web" }; other kinds (CRDs) are taken as written. */
export function parseTarget(s: string): { kind: string; name: string } {
  const slash = s.indexOf("/");
  if (slash <= 0 || slash === s.length - 1) throw new UsageError(`want <kind>/<name> (e.g. deploy/web), got "${s}"`, "capture");
  const k = s.slice(0, slash);
  return { kind: kindOf(k)!, name: s.slice(slash + 1) };
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

/**
 * Fails fast, before any service starts, when the workload is not there: a kubeconfig that does not exist or a
 * kind the cluster does not serve is a UsageError (exit 2); an unreachable API or a missing workload a
 * CommandError (exit 1). One line each, saying what to do.
 */
export async function checkWorkload(o: { kubeconfig?: string; context?: string; namespace: string; target: { kind: string; name: string } }): Promise<void> {
  let kc;
  try {
    kc = loadKubeConfig({ kubeconfig: o.kubeconfig, context: o.context });
  } catch (err) {
    if (err instanceof KubeConfigError) throw new UsageError(`${err.message} — pass --kubeconfig PATH of an existing kubeconfig (or set KUBECONFIG)`, "capture", { cause: err });
    throw err;
  }
  const server = kc.getCurrentCluster()?.server ?? "(no server)";
  let resources;
  try {
    resources = await discoverResources(kc);
  } catch (err) {
    throw new CommandError(`cannot reach the Kubernetes API at ${server} (${(err as Error).message}) — check --kubeconfig/--context${o.kubeconfig ? "" : " (none given: KUBECONFIG, then ~/.kube/config)"}`, "capture", { cause: err });
  }
  const info = matchResourceSpec(o.target.kind, resources)[0];
  if (!info) throw new UsageError(`the cluster at ${server} serves no kind "${o.target.kind}" — use e.g. deploy/NAME, sts/NAME, ds/NAME, job/NAME, pod/NAME`, "capture");
  let obj;
  try {
    obj = await getObject(kc, info.apiVersion, info.resource, info.namespaced ? o.namespace : undefined, o.target.name, { resources });
  } catch (err) {
    throw new CommandError(`cannot read ${info.resource}/${o.target.name} in ${o.namespace} from ${server}: ${(err as Error).message}`, "capture", { cause: err });
  }
  if (!obj) throw new CommandError(`${info.kind.toLowerCase()} "${o.target.name}" not found in namespace ${o.namespace} — list them with: kubectl get ${info.resource} -n ${o.namespace}`, "capture");
}

function mmss(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** A countdown (or, without --for, the time watched) rewritten in place on stderr; nothing when it is not a terminal. */
function countdown(what: string, forMs: number | undefined): () => void {
  if (process.stderr.isTTY !== true) return () => undefined;
  const started = Date.now();
  const draw = () => {
    const elapsed = Date.now() - started;
    const time = forMs !== undefined ? `${mmss(forMs - elapsed)} left` : `${mmss(elapsed)} watched`;
    process.stderr.write(`\r\x1b[2Kfaro capture: ${what} — ${time} (Ctrl-C to finish now)`);
  };
  draw();
  const timer = setInterval(draw, 1000);
  return () => {
    clearInterval(timer);
    process.stderr.write("\r\x1b[2K");
  };
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
        `usage: ${captureCommand.usage}\nRuns the pipeline services in this process, watching only <namespace>, for --for (e.g. 5m) or until Ctrl-C; then writes the workload's story (JSON, docs/story-format.md) to FILE.`,
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

    const kubeconfig = (f.kubeconfig as string | undefined) ?? process.env.FARO_KUBE_KUBECONFIG;
    const context = (f.context as string | undefined) ?? process.env.FARO_KUBE_CONTEXT;
    await checkWorkload({ kubeconfig, context, namespace, target });

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
      const what = `watching ${target.kind.toLowerCase()}/${target.name} in ${namespace}`;
      if (process.stderr.isTTY !== true) io.err(`faro capture: ${what}${forMs !== undefined ? ` for ${f.for}` : ""} (Ctrl-C to finish)`);
      const stopCountdown = countdown(what, forMs);
      await new Promise<void>((resolve) => {
        const timer = forMs !== undefined ? setTimeout(resolve, forMs) : undefined;
        const done = () => {
          clearTimeout(timer);
          resolve();
        };
        if (io.signal.aborted) done();
        else io.signal.addEventListener("abort", done, { once: true });
      });
      stopCountdown();
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
