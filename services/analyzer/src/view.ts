// A read-only view of one IncidentContext for the analyzers: its manifests parsed once, the pod's container
// spec and status found by name, and evidence references built so that they always resolve (the quote is
// read back through the contract's resolveEvidence, never typed by hand).
import { jsonPointerToken, resolveEvidence, type EvidenceKind, type EvidenceRef, type IncidentContext } from "@faro/contracts";

type Json = Record<string, unknown>;

export interface ManifestView {
  index: number;
  kind: string;
  name: string;
  obj: Json;
}

export interface ContainerView {
  /** Pointer of the container's spec in the pod manifest: /spec/containers/0 */
  specPath: string;
  spec: Json;
  /** Pointer of its status, when the pod reports one: /status/containerStatuses/0 */
  statusPath?: string;
  status?: Json;
}

export class IncidentView {
  readonly manifests: ManifestView[];

  constructor(readonly incident: IncidentContext) {
    this.manifests = [];
    incident.manifests.forEach((m, index) => {
      try {
        const obj = JSON.parse(m.json) as unknown;
        if (obj && typeof obj === "object" && !Array.isArray(obj)) this.manifests.push({ index, kind: m.kind, name: m.name, obj: obj as Json });
      } catch {
        // A manifest that is not JSON cannot be evidence: skipped.
      }
    });
  }

  /** The first manifest of this kind (the pod, the Deployment, …). */
  manifest(kind: string): ManifestView | undefined {
    return this.manifests.find((m) => m.kind === kind);
  }

  /** The pod's container named by the incident (else its first container), with its status. */
  container(name = this.incident.container): ContainerView | undefined {
    const pod = this.manifest("Pod");
    if (!pod) return undefined;
    const spec = get(pod.obj, "spec") as Json | undefined;
    for (const list of ["containers", "initContainers"] as const) {
      const cs = (spec?.[list] as Json[] | undefined) ?? [];
      const i = name ? cs.findIndex((c) => c["name"] === name) : 0;
      if (i < 0 || !cs[i]) continue;
      const statusList = list === "containers" ? "containerStatuses" : "initContainerStatuses";
      const statuses = (get(pod.obj, "status", statusList) as Json[] | undefined) ?? [];
      const si = statuses.findIndex((s) => s["name"] === cs[i]!["name"]);
      return {
        specPath: `/spec/${list}/${i}`,
        spec: cs[i]!,
        ...(si >= 0 ? { statusPath: `/status/${statusList}/${si}`, status: statuses[si]! } : {}),
      };
    }
    return undefined;
  }

  /** A reference that resolves, or undefined when the incident has nothing there. */
  ref(kind: EvidenceKind, index: number, path = ""): EvidenceRef | undefined {
    const quote = resolveEvidence(this.incident, { kind, index, path });
    return quote === undefined ? undefined : { kind, index, path, quote };
  }

  /** A reference to a value inside a manifest, by the manifest's kind and a pointer built from keys. */
  manifestRef(m: ManifestView | undefined, pointer: string): EvidenceRef | undefined {
    return m ? this.ref("manifest", m.index, pointer) : undefined;
  }

  /** A reference to a field of the incident itself (exitCode, message, restartCount, …). */
  field(name: string): EvidenceRef | undefined {
    return this.ref("field", 0, name);
  }

  /** Indexes of events matching a reason (and a message pattern), newest last as the incident lists them. */
  events(reason: RegExp | string, message?: RegExp): number[] {
    const out: number[] = [];
    this.incident.events.forEach((e, i) => {
      const okReason = typeof reason === "string" ? e.reason === reason : reason.test(e.reason);
      if (okReason && (!message || message.test(e.message))) out.push(i);
    });
    return out;
  }

  /** The log lines (tail first, then the previous instance's) matching a pattern, as references; last `max` of each. */
  logLines(pattern: RegExp, max = 3): EvidenceRef[] {
    const out: EvidenceRef[] = [];
    for (const kind of ["log_tail", "previous_log"] as const) {
      const lines = kind === "log_tail" ? this.incident.logTail : this.incident.previousLog;
      const hits: number[] = [];
      lines.forEach((l, i) => pattern.test(l.line) && hits.push(i));
      for (const i of hits.slice(-max)) out.push(this.ref(kind, i)!);
    }
    return out;
  }

  /** The last non-empty line of the log tail, else of the previous log: what the process said last. */
  lastLine(): EvidenceRef | undefined {
    for (const kind of ["log_tail", "previous_log"] as const) {
      const lines = kind === "log_tail" ? this.incident.logTail : this.incident.previousLog;
      for (let i = lines.length - 1; i >= 0; i--) if (lines[i]!.line.trim() !== "") return this.ref(kind, i);
    }
    return undefined;
  }
}

/** A nested value by keys. */
export function get(obj: unknown, ...keys: (string | number)[]): unknown {
  let cur = obj;
  for (const k of keys) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string | number, unknown>)[k];
  }
  return cur;
}

/** A JSON pointer from keys. */
export function pointer(...keys: (string | number)[]): string {
  return keys.map((k) => `/${jsonPointerToken(k)}`).join("");
}

/** Drops the undefined references of a list. */
export function refs(...list: (EvidenceRef | undefined | (EvidenceRef | undefined)[])[]): EvidenceRef[] {
  const out: EvidenceRef[] = [];
  const seen = new Set<string>();
  for (const r of list.flat()) {
    if (!r) continue;
    const key = `${r.kind}:${r.index}:${r.path}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(r);
  }
  return out;
}

const UNITS: Record<string, number> = { "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, m: 1e-3 };

/** A Kubernetes quantity ("128Mi", "1G", "500m", "2") as a number of base units; undefined when it is not one. */
export function parseQuantity(q: unknown): number | undefined {
  if (typeof q === "number") return q;
  if (typeof q !== "string") return undefined;
  const m = /^([0-9.]+)(Ki|Mi|Gi|Ti|k|M|G|T|m)?$/.exec(q.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = UNITS[m[2] ?? ""];
  return Number.isFinite(n) && unit !== undefined ? n * unit : undefined;
}

/** Bytes as Mi/Gi for sentences. */
export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${+(n / 1024 ** 3).toFixed(2)}Gi`;
  return `${+(n / 1024 ** 2).toFixed(1)}Mi`;
}
