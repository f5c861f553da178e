// meta.k8s.io/v1 Table rendering for kubectl get: pod, deployment, replicaset, namespace, node, event columns, NAME/AGE otherwise.
import type { KubeObject, ResourceType } from "../types.js";

interface Column {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

const col = (name: string, type = "string", priority = 0, format = ""): Column => ({
  name,
  type,
  format: name === "Name" ? "name" : format,
  description: name,
  priority,
});

/** kubectl's duration.HumanDuration. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 0) return "<invalid>";
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  const years = Math.floor(hours / 24 / 365);
  if (hours < 24 * 365 * 8) return `${years}y${Math.floor(hours / 24) % 365}d`;
  return `${years}y`;
}

type Get = (path: string) => unknown;
const getter =
  (obj: KubeObject): Get =>
  (path) => {
    let cur: unknown = obj;
    for (const p of path.split(".")) {
      if (cur === null || typeof cur !== "object") return undefined;
      cur = (cur as Record<string, unknown>)[p];
    }
    return cur;
  };

interface ContainerStatus {
  ready?: boolean;
  restartCount?: number;
  state?: { waiting?: { reason?: string }; terminated?: { reason?: string; exitCode?: number; signal?: number } };
}

function podStatus(obj: KubeObject): string {
  const g = getter(obj);
  let reason = (g("status.reason") as string) || (g("status.phase") as string) || "Unknown";
  const init = (g("status.initContainerStatuses") as ContainerStatus[] | undefined) ?? [];
  for (let i = 0; i < init.length; i++) {
    const s = init[i]!;
    if (s.state?.terminated?.exitCode === 0) continue;
    if (s.state?.terminated) reason = `Init:${s.state.terminated.reason || "Error"}`;
    else if (s.state?.waiting?.reason && s.state.waiting.reason !== "PodInitializing") reason = `Init:${s.state.waiting.reason}`;
    else reason = `Init:${i}/${init.length}`;
    return obj.metadata.deletionTimestamp ? "Terminating" : reason;
  }
  let running = false;
  const cs = (g("status.containerStatuses") as ContainerStatus[] | undefined) ?? [];
  for (const s of [...cs].reverse()) {
    if (s.state?.waiting?.reason) reason = s.state.waiting.reason;
    else if (s.state?.terminated?.reason) reason = s.state.terminated.reason;
    else if (s.state?.terminated) reason = s.state.terminated.signal ? `Signal:${s.state.terminated.signal}` : `ExitCode:${s.state.terminated.exitCode}`;
    else if (s.ready) running = true;
  }
  if (reason === "Completed" && running) reason = "Running";
  if (obj.metadata.deletionTimestamp) reason = g("status.reason") === "NodeLost" ? "Unknown" : "Terminating";
  return reason;
}

interface Printer {
  columns: Column[];
  cells(obj: KubeObject, age: string): unknown[];
}

const num = (v: unknown) => (typeof v === "number" ? v : 0);

function printerFor(type: ResourceType): Printer {
  const key = `${type.group}/${type.resource}`;
  switch (key) {
    case "/pods":
      return {
        columns: [col("Name"), col("Ready"), col("Status"), col("Restarts", "string"), col("Age"), col("IP", "string", 1), col("Node", "string", 1)],
        cells(o, age) {
          const g = getter(o);
          const specs = (g("spec.containers") as unknown[] | undefined) ?? [];
          const cs = (g("status.containerStatuses") as ContainerStatus[] | undefined) ?? [];
          const ready = cs.filter((s) => s.ready).length;
          const restarts = cs.reduce((n, s) => n + num(s.restartCount), 0);
          return [o.metadata.name, `${ready}/${specs.length}`, podStatus(o), String(restarts), age, g("status.podIP") ?? "<none>", g("spec.nodeName") ?? "<none>"];
        },
      };
    case "apps/deployments":
      return {
        columns: [col("Name"), col("Ready"), col("Up-to-date", "integer"), col("Available", "integer"), col("Age")],
        cells(o, age) {
          const g = getter(o);
          return [o.metadata.name, `${num(g("status.readyReplicas"))}/${num(g("spec.replicas") ?? 1)}`, num(g("status.updatedReplicas")), num(g("status.availableReplicas")), age];
        },
      };
    case "apps/replicasets":
    case "apps/statefulsets":
      return {
        columns: [col("Name"), col("Desired", "integer"), col("Current", "integer"), col("Ready", "integer"), col("Age")],
        cells(o, age) {
          const g = getter(o);
          return [o.metadata.name, num(g("spec.replicas") ?? 1), num(g("status.replicas")), num(g("status.readyReplicas")), age];
        },
      };
    case "/namespaces":
      return {
        columns: [col("Name"), col("Status"), col("Age")],
        cells: (o, age) => [o.metadata.name, getter(o)("status.phase") ?? "Active", age],
      };
    case "/nodes":
      return {
        columns: [col("Name"), col("Status"), col("Roles"), col("Age"), col("Version")],
        cells(o, age) {
          const g = getter(o);
          const conds = (g("status.conditions") as { type: string; status: string }[] | undefined) ?? [];
          const ready = conds.find((c) => c.type === "Ready");
          return [o.metadata.name, ready?.status === "True" ? "Ready" : "NotReady", "<none>", age, g("status.nodeInfo.kubeletVersion") ?? ""];
        },
      };
    case "/events":
      return {
        columns: [col("Last Seen"), col("Type"), col("Reason"), col("Object"), col("Message"), col("Name", "string", 1)],
        cells(o, age) {
          const g = getter(o);
          const kind = String(g("involvedObject.kind") ?? "").toLowerCase();
          return [age, g("type") ?? "", g("reason") ?? "", `${kind}/${g("involvedObject.name") ?? ""}`, g("message") ?? "", o.metadata.name];
        },
      };
    default:
      return { columns: [col("Name"), col("Age")], cells: (o, age) => [o.metadata.name, age] };
  }
}

function ageOf(type: ResourceType, obj: KubeObject, nowMs: number): string {
  let ts = obj.metadata.creationTimestamp;
  if (type.resource === "events" && type.group === "") {
    ts = (obj.lastTimestamp as string) || (obj.eventTime as string) || ts;
  }
  const t = Date.parse(ts ?? "");
  return Number.isNaN(t) ? "<unknown>" : humanDuration(nowMs - t);
}

/** A Table of `objects`; `withColumns=false` for watch events after the first (the real server omits them too). */
export function toTable(
  type: ResourceType,
  objects: KubeObject[],
  listMeta: Record<string, unknown>,
  nowMs: number,
  withColumns = true,
): object {
  const p = printerFor(type);
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: listMeta,
    ...(withColumns ? { columnDefinitions: p.columns } : { columnDefinitions: [] }),
    rows: objects.map((o) => ({
      cells: p.cells(o, ageOf(type, o, nowMs)),
      object: { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: o.metadata },
    })),
  };
}
