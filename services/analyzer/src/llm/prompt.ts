// The prompt an LLM analyzer sends: the incident's redacted content, every item labelled with the evidence
// reference that names it (log_tail[3], events[2], manifests[0]), trimmed to a token budget; the answer is
// asked for as JSON and read back into a Finding whose references are checked against the incident.
import { resolveEvidence, shortHash, EVIDENCE_KINDS, type EvidenceKind, type EvidenceRef, type Finding, type IncidentContext } from "@faro/contracts";

export const SYSTEM_PROMPT = `You are a Kubernetes site reliability engineer. You get one incident: its reason, the failing pod and container,
its log lines, Events, manifests and recent changes, each item labelled with a reference such as log_tail[3], previous_log[0],
events[2], manifests[1], changes[0], evidence[0] or field exit_code. Secrets in it are already masked as [REDACTED:<rule>].
Answer with ONE JSON object and nothing else:
{"probable_cause": "<one or two sentences>", "evidence": [{"kind": "log_tail|previous_log|event|manifest|change|evidence|field", "index": <n>, "path": "<JSON pointer into the manifest, the event field, or the field name; else empty>"}],
 "next_steps": ["<concrete step>", ...], "confidence": <0..1>}
Cite only references that appear in the incident.`;

/** Characters per token assumed for the budget (a conservative average for English and JSON). */
export const CHARS_PER_TOKEN = 4;

export interface BuiltPrompt {
  user: string;
  trimmed: boolean;
}

function section(title: string, lines: string[]): string {
  return lines.length ? `## ${title}\n${lines.join("\n")}\n` : "";
}

/**
 * Renders the incident. When it does not fit `maxPromptTokens`, drops the oldest log lines first, then
 * shortens manifests, then drops the oldest Events, until it fits.
 */
export function buildPrompt(ic: IncidentContext, maxPromptTokens: number): BuiltPrompt {
  const budget = maxPromptTokens * CHARS_PER_TOKEN - SYSTEM_PROMPT.length;
  let logFrom = 0;
  let prevFrom = 0;
  let manifestChars = 4000;
  let eventFrom = 0;
  const evidence = (ic as { evidence?: { source: string; object: string; field: string; reason: string; message: string; value: string }[] }).evidence ?? [];
  const render = (): string => {
    const head = [
      `# Incident ${ic.incidentId} (revision ${ic.repeatCount})`,
      `field reason: ${ic.reason}`,
      `field severity: ${ic.severity}`,
      `field namespace: ${ic.namespace}`,
      `workload: ${ic.ownerChain.map((o) => `${o.kind}/${o.name}`).join(" <- ") || "(none)"}`,
      ic.container ? `field container: ${ic.container}` : "",
      ic.exitCode !== undefined ? `field exit_code: ${ic.exitCode}` : "",
      `field restart_count: ${ic.restartCount}`,
      `field message: ${ic.message}`,
    ].filter(Boolean);
    return [
      head.join("\n") + "\n",
      section(
        "Evidence the detector found",
        evidence.map((e, i) => `evidence[${i}]: ${e.source} ${e.object} ${e.field} ${e.reason} ${e.message} ${e.value}`.replace(/\s+/g, " ")),
      ),
      section(
        "Events (oldest first)",
        ic.events.slice(eventFrom).map((e, k) => `events[${k + eventFrom}]: ${e.type} ${e.reason} (x${e.count}, last ${e.last}): ${e.message}`),
      ),
      section("Log tail of the failed instance", ic.logTail.slice(logFrom).map((l, k) => `log_tail[${k + logFrom}]: ${l.line}`)),
      section("Log of the previous instance", ic.previousLog.slice(prevFrom).map((l, k) => `previous_log[${k + prevFrom}]: ${l.line}`)),
      section(
        "Manifests (redacted JSON)",
        ic.manifests.map((m, i) => `manifests[${i}]: ${m.kind}/${m.name} ${m.json.length > manifestChars ? `${m.json.slice(0, manifestChars)}…(cut)` : m.json}`),
      ),
      section("Recent changes (JSON diffs)", ic.recentChanges.map((c, i) => `changes[${i}]: ${c.kind}/${c.name} at ${c.timestamp}: ${c.diffJson.slice(0, 600)}`)),
    ].join("\n");
  };
  let text = render();
  let trimmed = false;
  while (text.length > budget) {
    trimmed = true;
    if (logFrom < ic.logTail.length - 5) logFrom = Math.min(ic.logTail.length - 5, logFrom + Math.max(1, Math.ceil((ic.logTail.length - logFrom) / 4)));
    else if (prevFrom < ic.previousLog.length - 5) prevFrom = Math.min(ic.previousLog.length - 5, prevFrom + Math.max(1, Math.ceil((ic.previousLog.length - prevFrom) / 4)));
    else if (manifestChars > 300) manifestChars = Math.floor(manifestChars / 2);
    else if (eventFrom < ic.events.length - 3) eventFrom++;
    else {
      text = text.slice(0, Math.max(0, budget));
      break;
    }
    text = render();
  }
  return { user: text, trimmed };
}

/**
 * What makes two incidents the same question: reason, root workload, container, exit code, the shape of the
 * last log lines and of the Warning Events (digits, hex ids and quoted values blanked). Repeats of an incident
 * and look-alikes in other pods of the workload share it, so the cache answers them.
 */
export function fingerprint(ic: IncidentContext): string {
  const shape = (s: string) => s.replace(/"[^"]*"/g, '""').replace(/\b[0-9a-f]{8,}\b/gi, "#").replace(/\d+/g, "#");
  const root = ic.ownerChain.at(-1);
  return `fp-${shortHash(
    ic.tenant,
    ic.cluster,
    ic.namespace,
    ic.reason,
    root ? `${root.kind}/${root.name}` : "",
    ic.container,
    ic.exitCode ?? "",
    ...ic.logTail.slice(-5).map((l) => shape(l.line)),
    ...ic.events.filter((e) => e.type === "Warning").map((e) => `${e.reason}:${shape(e.message)}`),
  )}`;
}

const KIND_ALIASES: Record<string, EvidenceKind> = { events: "event", manifests: "manifest", changes: "change", recent_changes: "change", fields: "field" };

/** The model's JSON answer as a Finding; references that do not resolve into the incident are dropped and counted. */
export function parseAnswer(ic: IncidentContext, analyzer: string, answer: string): { finding: Finding; unresolved: number } {
  const match = /\{[\s\S]*\}/.exec(answer);
  let obj: Record<string, unknown> | undefined;
  try {
    obj = match ? (JSON.parse(match[0]) as Record<string, unknown>) : undefined;
  } catch {
    obj = undefined;
  }
  if (!obj || typeof obj["probable_cause"] !== "string") {
    // Not the JSON asked for: keep the text as the cause, with no references and a low confidence.
    return { finding: { analyzer, probableCause: answer.trim().slice(0, 2000), evidence: [], nextSteps: [], confidence: 0.2 }, unresolved: 0 };
  }
  const evidence: EvidenceRef[] = [];
  let unresolved = 0;
  for (const raw of Array.isArray(obj["evidence"]) ? (obj["evidence"] as Record<string, unknown>[]) : []) {
    const k = String(raw?.["kind"] ?? "");
    const kind = (EVIDENCE_KINDS as readonly string[]).includes(k) ? (k as EvidenceKind) : KIND_ALIASES[k];
    const index = Number(raw?.["index"] ?? 0);
    const path = typeof raw?.["path"] === "string" ? raw["path"] : "";
    const quote = kind && Number.isInteger(index) && index >= 0 ? resolveEvidence(ic, { kind, index, path }) : undefined;
    if (!kind || quote === undefined) {
      unresolved++;
      continue;
    }
    evidence.push({ kind, index, path, quote });
  }
  const steps = Array.isArray(obj["next_steps"]) ? (obj["next_steps"] as unknown[]).filter((s): s is string => typeof s === "string") : [];
  const c = Number(obj["confidence"]);
  return {
    finding: { analyzer, probableCause: obj["probable_cause"] as string, evidence, nextSteps: steps, confidence: Number.isFinite(c) ? Math.min(1, Math.max(0, c)) : 0.5 },
    unresolved,
  };
}
