// Exit codes with their conventional meanings (shell and signal conventions), with the process's last words.
import type { Finding } from "@faro/contracts";
import { get, refs, type IncidentView } from "../view.js";
import { builtinLabel, type BuiltinAnalyzer } from "./types.js";

const SIGNALS: Record<number, string> = { 1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 11: "SIGSEGV", 13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM" };

/** What an exit code conventionally means, how sure that reading is, and what to do about it. */
export function exitCodeMeaning(code: number): { meaning: string; confidence: number; step: string } {
  if (code === 1) return { meaning: "a general application error: the program gave up on its own", confidence: 0.55, step: "Read the last log lines of the failed instance (kubectl logs --previous) for the error the program reported." };
  if (code === 2) return { meaning: "a usage error: wrong command-line arguments or a shell built-in misused", confidence: 0.6, step: "Check the container's command and args against what the image's entrypoint accepts." };
  if (code === 126) return { meaning: "the command could not be executed: not executable or permission denied", confidence: 0.8, step: "Check the file mode of the entrypoint and the securityContext (runAsUser, readOnlyRootFilesystem)." };
  if (code === 127) return { meaning: "the command was not found: a wrong entrypoint, command or PATH in the image", confidence: 0.85, step: "Check command/args against the image (docker run --entrypoint sh IMAGE -c 'which CMD')." };
  if (code === 128) return { meaning: "an invalid exit argument", confidence: 0.4, step: "Read the last log lines of the failed instance." };
  if (code > 128 && code < 160) {
    const sig = code - 128;
    const name = SIGNALS[sig] ?? `signal ${sig}`;
    if (sig === 9) return { meaning: `the process was killed with SIGKILL: by the OOM killer, a failed liveness probe, or a stop that exceeded the grace period`, confidence: 0.6, step: "Look for OOMKilled in the container status, Unhealthy/Killing events, and terminationGracePeriodSeconds against the time the app needs to stop." };
    if (sig === 11) return { meaning: "a segmentation fault (SIGSEGV): the process read or wrote memory it does not own", confidence: 0.8, step: "Look for a native crash: a mismatched native library or base image, or a bug in native code; run the image locally with the same arguments." };
    if (sig === 15) return { meaning: "the process was stopped with SIGTERM: it was asked to stop and did not exit 0", confidence: 0.6, step: "Check who stopped it (rollout, eviction, scale-down, liveness probe) in the Events, and make the app exit 0 on SIGTERM." };
    if (sig === 6) return { meaning: "the process aborted (SIGABRT): an assertion or a fatal runtime error", confidence: 0.75, step: "Read the last log lines for the assertion or runtime error." };
    return { meaning: `the process was terminated by ${name} (128 + ${sig})`, confidence: 0.6, step: "Find what sent the signal in the Events and the node's logs." };
  }
  if (code === 255) return { meaning: "exit status out of range: the program exited with -1 or an unhandled fatal error", confidence: 0.5, step: "Read the last log lines of the failed instance." };
  return { meaning: `an application-specific failure (exit ${code})`, confidence: 0.45, step: "Look up what this exit code means in the application's documentation and read its last log lines." };
}

const ERROR_WORDS = /\b(fatal|panic|error|exception|traceback|failed|cannot|could not|refused|denied|segmentation)\b/i;

export const exitCode: BuiltinAnalyzer = {
  name: "exit-code",
  analyze(view: IncidentView): Finding | undefined {
    const ic = view.incident;
    const c = view.container();
    const code = ic.exitCode ?? (get(c?.status, "lastState", "terminated", "exitCode") as number | undefined);
    if (code === undefined || code === 0) return undefined;
    const name = ic.container || "the container";
    const m = exitCodeMeaning(code);
    const errorLines = view.logLines(ERROR_WORDS, 2);
    const last = view.lastLine();
    const pod = view.manifest("Pod");
    const evidence = refs(
      view.field("exitCode"),
      c?.statusPath ? view.manifestRef(pod, `${c.statusPath}/lastState/terminated/exitCode`) : undefined,
      errorLines,
      last,
    );
    let cause = `Container ${name} exited with code ${code}: ${m.meaning}.`;
    let confidence = m.confidence;
    const said = errorLines.at(-1) ?? last;
    if (said) {
      cause += ` Its last words: "${said.quote}".`;
      if (errorLines.length > 0) confidence += 0.15;
    }
    if (ic.restartCount > 0 || ic.reason === "CrashLoopBackOff") cause += ` Kubernetes keeps restarting it (${ic.restartCount} restart${ic.restartCount === 1 ? "" : "s"}), with growing back-off.`;
    const steps = [m.step];
    if (said && errorLines.length > 0) steps.push(`Fix what the error says ("${said.quote.slice(0, 120)}"): a dependency it cannot reach, a configuration it cannot read, or a bug in the version that runs.`);
    steps.push("If a recent change (image, config, env) started this, roll it back: kubectl rollout undo.");
    return { analyzer: builtinLabel("exit-code"), probableCause: cause, evidence, nextSteps: steps, confidence: Math.min(0.9, confidence) };
  },
};
