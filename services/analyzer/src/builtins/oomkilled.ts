// OOMKilled: the container's memory limit against its request, how often it restarted, and what the log
// tail said just before the kill.
import type { Finding } from "@faro/contracts";
import { formatBytes, get, parseQuantity, refs, type IncidentView } from "../view.js";
import { builtinLabel, type BuiltinAnalyzer } from "./types.js";

const MEMORY_WORDS = /out ?of ?memory|OutOfMemory|heap|alloc|malloc|cache size|buffer|memory|GC overhead/i;

export const oomKilled: BuiltinAnalyzer = {
  name: "oomkilled",
  analyze(view: IncidentView): Finding | undefined {
    const ic = view.incident;
    const c = view.container();
    const pod = view.manifest("Pod");
    const lastReason = get(c?.status, "lastState", "terminated", "reason") ?? get(c?.status, "state", "terminated", "reason");
    if (ic.reason !== "OOMKilled" && lastReason !== "OOMKilled") return undefined;
    const terminatedPath = get(c?.status, "lastState", "terminated", "reason") === "OOMKilled" ? "lastState/terminated" : "state/terminated";
    const limit = parseQuantity(get(c?.spec, "resources", "limits", "memory"));
    const request = parseQuantity(get(c?.spec, "resources", "requests", "memory"));
    const restarts = Number(get(c?.status, "restartCount") ?? ic.restartCount);
    const name = ic.container || String(get(c?.spec, "name") ?? "the container");
    const memoryLines = view.logLines(MEMORY_WORDS, 3);
    const evidence = refs(
      view.field("reason"),
      view.field("exitCode"),
      c?.statusPath ? view.manifestRef(pod, `${c.statusPath}/${terminatedPath}/reason`) : undefined,
      c ? view.manifestRef(pod, `${c.specPath}/resources/limits/memory`) : undefined,
      c ? view.manifestRef(pod, `${c.specPath}/resources/requests/memory`) : undefined,
      c?.statusPath ? view.manifestRef(pod, `${c.statusPath}/restartCount`) : undefined,
      memoryLines,
      view.lastLine(),
    );
    const again = restarts > 1 ? `, ${restarts} times so far` : restarts === 1 ? ", once so far" : "";
    let cause: string;
    const steps: string[] = [];
    let confidence: number;
    if (limit !== undefined) {
      const vsRequest = request !== undefined ? ` (request ${formatBytes(request)}${request < limit ? "" : ", equal to the limit"})` : " (no memory request)";
      cause = `Container ${name} used more memory than its limit of ${formatBytes(limit)}${vsRequest} and was OOM-killed by the kernel${again}.`;
      confidence = 0.9;
      steps.push(`Raise resources.limits.memory of ${name} above its real peak (e.g. ${formatBytes(limit * 1.5)}) if the usage is legitimate, or cap the application's own memory use (heap size, caches, buffers) below ${formatBytes(limit)}.`);
      if (request !== undefined && request < limit / 2) steps.push(`Set resources.requests.memory closer to the limit: the scheduler reserves only ${formatBytes(request)} for a container that needs more than ${formatBytes(limit)}.`);
    } else {
      cause = `Container ${name} was OOM-killed without a memory limit of its own${request !== undefined ? ` (request ${formatBytes(request)})` : ""}${again}: it grew until the node or its cgroup ran out of memory.`;
      confidence = 0.8;
      steps.push(`Set resources.limits.memory on ${name} to its measured peak plus headroom, and resources.requests.memory to its steady use${request !== undefined ? ` (now ${formatBytes(request)})` : ""}, so the scheduler places it where the memory is.`);
    }
    if (memoryLines.length > 0) {
      cause += ` Its last log lines speak of memory: "${memoryLines.at(-1)!.quote}".`;
      confidence += 0.05;
    }
    steps.push(`Compare the container's memory use before the kill (kubectl top pod, container_memory_working_set_bytes) with the limit; look for a leak if it grows without bound.`);
    return { analyzer: builtinLabel("oomkilled"), probableCause: cause, evidence, nextSteps: steps, confidence: Math.min(0.95, confidence) };
  },
};
