// Probe failures: which probe failed and how (status code, refused, timed out), its settings against the
// time the container had been running when it first failed (a probe stricter than the start-up time).
import type { Finding } from "@faro/contracts";
import { get, refs, type IncidentView } from "../view.js";
import { builtinLabel, type BuiltinAnalyzer } from "./types.js";

const PROBE_REASONS: Record<string, "liveness" | "readiness" | "startup" | undefined> = {
  Unhealthy: undefined,
  LivenessProbeFailed: "liveness",
  ReadinessProbeFailed: "readiness",
  StartupProbeFailed: "startup",
};

type Json = Record<string, unknown>;

/** Kubernetes' defaults for probe fields the spec leaves out. */
const DEFAULTS = { initialDelaySeconds: 0, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 1 };

export function probeFailure(message: string): { probe?: "liveness" | "readiness" | "startup"; how: string } {
  const probe = /^(Liveness|Readiness|Startup) probe/i.exec(message)?.[1]?.toLowerCase() as "liveness" | "readiness" | "startup" | undefined;
  const status = /statuscode: (\d+)/i.exec(message)?.[1];
  let how = "it failed";
  if (status) how = `the endpoint answered HTTP ${status}`;
  else if (/connection refused/i.test(message)) how = "nothing was listening on the probed port (connection refused)";
  else if (/deadline exceeded|timeout|timed out/i.test(message)) how = "the endpoint did not answer within timeoutSeconds";
  else if (/exit code|command/i.test(message)) how = "the probe command exited non-zero";
  return { ...(probe ? { probe } : {}), how };
}

export const probe: BuiltinAnalyzer = {
  name: "probe",
  analyze(view: IncidentView): Finding | undefined {
    const ic = view.incident;
    const unhealthy = view.events("Unhealthy", /probe failed/i);
    if (!(ic.reason in PROBE_REASONS) && unhealthy.length === 0) return undefined;
    const lastIdx = unhealthy.at(-1);
    const message = lastIdx !== undefined ? ic.events[lastIdx]!.message : ic.message;
    const failure = probeFailure(message.replace(/^\w+ \(\d+×\): /, ""));
    const which = failure.probe ?? PROBE_REASONS[ic.reason] ?? "liveness";
    const c = view.container();
    const pod = view.manifest("Pod");
    const field = `${which}Probe`;
    const spec = get(c?.spec, field) as Json | undefined;
    const setting = (k: keyof typeof DEFAULTS) => Number(spec?.[k] ?? DEFAULTS[k]);
    const budget = setting("initialDelaySeconds") + setting("periodSeconds") * setting("failureThreshold");
    const killing = view.events("Killing", /failed (liveness|startup) probe/i);
    const startedAt = (get(c?.status, "lastState", "terminated", "startedAt") ?? get(c?.status, "state", "running", "startedAt")) as string | undefined;
    const firstFailure = lastIdx !== undefined ? ic.events[unhealthy[0]!]!.first : undefined;
    const upSeconds = startedAt && firstFailure ? (Date.parse(firstFailure) - Date.parse(startedAt)) / 1000 : undefined;
    const hasStartupProbe = get(c?.spec, "startupProbe") !== undefined;
    const evidence = refs(
      lastIdx !== undefined ? view.ref("event", lastIdx, "message") : view.field("message"),
      killing.length ? view.ref("event", killing.at(-1)!, "message") : undefined,
      spec && c ? (["initialDelaySeconds", "periodSeconds", "failureThreshold", "timeoutSeconds"] as const).map((k) => view.manifestRef(pod, `${c.specPath}/${field}/${k}`)) : [],
      c?.statusPath ? view.manifestRef(pod, `${c.statusPath}/lastState/terminated/startedAt`) : undefined,
      ic.exitCode !== undefined ? view.field("exitCode") : undefined,
    );
    const name = ic.container || "the container";
    const settings = spec
      ? `initialDelaySeconds ${setting("initialDelaySeconds")}, periodSeconds ${setting("periodSeconds")}, failureThreshold ${setting("failureThreshold")}, timeoutSeconds ${setting("timeoutSeconds")}`
      : "settings not in the incident";
    const consequence =
      which === "liveness" ? "the kubelet kills and restarts the container after failureThreshold failures" : which === "startup" ? "the kubelet kills the container when start-up does not finish in time" : "the pod is taken out of its Services' endpoints while it fails";
    let cause = `The ${which} probe of ${name} fails: ${failure.how} (${settings}); ${consequence}.`;
    const steps: string[] = [];
    let confidence = 0.75;
    const early = upSeconds !== undefined && upSeconds <= budget + setting("periodSeconds");
    if (early && which !== "readiness" && !hasStartupProbe) {
      cause += ` It failed ${Math.max(0, Math.round(upSeconds!))}s after the container started, within the probe's ${budget}s allowance: the probe may be stricter than the application's start-up time.`;
      steps.push(`Add a startupProbe (or raise initialDelaySeconds/failureThreshold of the ${which} probe) so that start-up gets more than ${budget}s before the ${which} probe counts.`);
    } else if (upSeconds !== undefined) {
      cause += ` It ran ${Math.round(upSeconds)}s before the first failure: the application became unhealthy while running, not during start-up.`;
      confidence = 0.8;
    }
    if (/HTTP (5\d\d)/.test(failure.how)) steps.push("The endpoint itself reports an error: check what the health handler checks (dependencies, thread pools) and the application's log around the failures.");
    else if (/refused/.test(failure.how)) steps.push("Check that the probe's port matches the port the application listens on, and that it binds 0.0.0.0, not localhost.");
    else if (/timeoutSeconds/.test(failure.how)) steps.push(`Raise timeoutSeconds (now ${setting("timeoutSeconds")}s) or make the health endpoint cheaper; look for CPU throttling.`);
    if (which === "liveness") steps.push("A liveness probe should only check that the process can make progress; move dependency checks to the readiness probe.");
    if (killing.length > 0 || (ic.exitCode === 137 && which === "liveness")) confidence += 0.1;
    return { analyzer: builtinLabel("probe"), probableCause: cause, evidence, nextSteps: steps, confidence: Math.min(0.9, confidence) };
  },
};
