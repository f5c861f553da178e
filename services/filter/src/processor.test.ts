// Unit tests of the filter's per-message routing: tenants, noise lines, redaction, msgIds, failure classes.
import { describe, expect, it } from "vitest";
import {
  buildRawSubject,
  decodeKubeEvent,
  decodeLogBatch,
  decodeResourceChange,
  encodeKubeEvent,
  encodeLogBatch,
  encodeResourceChange,
  parseSubject,
  type KubeEvent,
  type LogBatch,
  type ResourceChange,
} from "@faro/contracts";
import { createRedactor, type Redactor } from "@faro/redact";
import { loadConfig } from "@faro/config";
import { compileFilterConfig, configSchema } from "./config.js";
import { MalformedMessageError, RedactStageError } from "./errors.js";
import { createProcessor, subsequenceIndexes, type RawInput } from "./processor.js";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const CFG = `
tenants:
  - name: team-a
    namespaces: [shop]
    include: [{ name: a-pods, labels: "team=a" }]
  - name: team-b
    namespaces: [shop, "b-*"]
    exclude:
      - { name: healthz, log: "GET /healthz" }
      - { name: scheduler-noise, reasons: [Scheduled] }
  - name: platform
    namespaces: ["*"]
    exclude: [{ name: no-logs, containers: ["*"] }]
global:
  exclude: [{ name: probes, log: "kube-probe/" }]
redaction:
  rules: [{ name: internal-token, pattern: "itk_[A-Za-z0-9]{8}" }]
`;

function processorFrom(yaml: string, redactor?: Redactor) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-filter-"));
  const file = path.join(dir, "filter.yaml");
  fs.writeFileSync(file, yaml);
  const config = loadConfig(configSchema, { file });
  const compiled = compileFilterConfig(config);
  return createProcessor({ matcher: compiled.matcher, redactor: redactor ?? compiled.redactor });
}

const SECRET = "s3cr3t-Value-42";

function pod(ns: string, name: string, labels: Record<string, string>): Omit<ResourceChange, "schemaVersion"> {
  const obj = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: ns, uid: `uid-${name}`, resourceVersion: "7", labels },
    spec: { containers: [{ name: "app", image: "shop:1", env: [{ name: "DB_PASSWORD", value: SECRET }, { name: "MODE", value: "prod" }] }] },
  };
  return {
    cluster: "c1",
    type: "MODIFIED",
    group: "",
    version: "v1",
    resource: "pods",
    kind: "Pod",
    namespace: ns,
    name,
    uid: `uid-${name}`,
    resourceVersion: "7",
    observedAtMs: 1,
    ownerRefs: [],
    labels,
    objectJson: JSON.stringify(obj),
  };
}

function objInput(rc: Omit<ResourceChange, "schemaVersion">, seq = 1): RawInput {
  return {
    subject: buildRawSubject(rc.cluster, rc.namespace, { category: "obj", resource: rc.resource, group: rc.group, name: rc.name }),
    data: encodeResourceChange(rc),
    msgId: `rc:${rc.uid}:${rc.resourceVersion}:M`,
    stream: "FARO_RAW",
    seq,
  };
}

function logInput(ns: string, podName: string, container: string, lines: string[], extra: Partial<LogBatch> = {}): RawInput {
  const lb: Omit<LogBatch, "schemaVersion"> = {
    cluster: "c1",
    namespace: ns,
    pod: podName,
    podUid: `uid-${podName}`,
    container,
    containerType: "regular",
    restartCount: 0,
    source: "follow",
    seqStart: 100,
    lines: lines.map((line, i) => ({ timestamp: `2026-11-22T00:00:0${i % 10}.000000000Z`, line, truncated: false, originalBytes: line.length })),
    podOwnerRefs: [],
    node: "n1",
    observedAtMs: 1,
    endOfStream: false,
    podLabels: { team: "a" },
    ...extra,
  };
  return {
    subject: buildRawSubject("c1", ns, { category: "log", pod: podName, container }),
    data: encodeLogBatch(lb),
    msgId: `lg:uid-${podName}:${container}:0:100`,
    stream: "FARO_RAW",
    seq: 9,
  };
}

function eventInput(ns: string, reason: string, message: string, extra: Partial<KubeEvent> = {}): RawInput {
  const ev: Omit<KubeEvent, "schemaVersion"> = {
    cluster: "c1",
    type: "ADDED",
    uid: "ev-1",
    resourceVersion: "3",
    namespace: ns,
    name: "web.123",
    reason,
    message,
    eventType: "Normal",
    sourceComponent: "kubelet",
    sourceHost: "n1",
    reportingController: "",
    involved: { apiVersion: "v1", kind: "Pod", namespace: ns, name: "web", uid: "u", fieldPath: "" },
    count: 1,
    firstTimestamp: "",
    lastTimestamp: "",
    eventTime: "",
    observedAtMs: 1,
    objectJson: JSON.stringify({ kind: "Event", message }),
    ...extra,
  };
  return {
    subject: buildRawSubject("c1", ns, { category: "event", kind: "Pod", name: "web" }),
    data: encodeKubeEvent(ev),
    msgId: "ev:ev-1:3:M",
    stream: "FARO_RAW",
    seq: 4,
  };
}

describe("processor routing", () => {
  const p = processorFrom(CFG);

  it("sends an object to every tenant that claims it, redacted, with msgId <raw>:<tenant>", () => {
    const out = p.process(objInput(pod("shop", "web-1", { team: "a" })));
    expect(out.dropped).toBeUndefined();
    expect(out.outputs.map((o) => o.tenant).sort()).toEqual(["platform", "team-a", "team-b"]);
    for (const o of out.outputs) {
      expect(o.msgId).toBe(`rc:uid-web-1:7:M:${o.tenant}`);
      const parsed = parseSubject(o.subject);
      expect(parsed).toMatchObject({ stage: "clean", tenant: o.tenant, cluster: "c1", namespace: "shop", target: { category: "obj", name: "web-1" } });
      const rc = decodeResourceChange(o.data);
      expect(rc.objectJson).not.toContain(SECRET);
      expect(rc.objectJson).toContain('"MODE"');
      expect(rc.objectJson).toContain("prod");
      expect(JSON.parse(rc.objectJson).spec.containers[0].env[0].value).toMatch(/^\[REDACTED:/);
    }
    expect(out.hits.length).toBeGreaterThan(0);
  });

  it("include rules tell tenants sharing a namespace apart", () => {
    const out = p.process(objInput(pod("shop", "web-2", { team: "b" })));
    expect(out.outputs.map((o) => o.tenant).sort()).toEqual(["platform", "team-b"]);
  });

  it("drops and reports what no tenant claims (global exclusions included)", () => {
    expect(p.process(objInput(pod("kube-system", "dns", {}))).dropped).toBe("no_tenant");
    expect(p.process(objInput(pod("kube-system", "dns", {}))).outputs).toEqual([]);
    const only = processorFrom(`tenants: [{ name: a, namespaces: [shop] }]`);
    const out = only.process(objInput(pod("other", "x", {})));
    expect(out).toMatchObject({ dropped: "no_tenant", outputs: [] });
  });

  it("drops noise lines per tenant, counts them per rule, redacts what is kept", () => {
    const out = p.process(logInput("shop", "web-1", "app", ["GET /healthz 200", "using itk_ABCDEFGH now", "order 17 placed", "kube-probe/1.27 GET /"]));
    const byTenant = Object.fromEntries(out.outputs.map((o) => [o.tenant, decodeLogBatch(o.data)]));
    expect(Object.keys(byTenant).sort()).toEqual(["team-a", "team-b"]); // platform excludes every container
    expect(byTenant["team-a"]!.lines.map((l) => l.line)).toEqual(["GET /healthz 200", "using [REDACTED:internal-token] now", "order 17 placed"]);
    expect(byTenant["team-b"]!.lines.map((l) => l.line)).toEqual(["using [REDACTED:internal-token] now", "order 17 placed"]);
    // Line metadata travels with the kept line; the batch keeps its identity.
    expect(byTenant["team-b"]!.lines[0]!.timestamp).toBe("2026-11-22T00:00:01.000000000Z");
    expect(byTenant["team-b"]!.seqStart).toBe(100);
    const b = out.lines.find((l) => l.tenant === "team-b")!;
    expect(b.kept).toBe(2);
    expect(b.dropped.healthz).toBe(1);
    expect(b.dropped.probes).toBe(1);
    expect(out.outputs.find((o) => o.tenant === "team-b")!.msgId).toBe("lg:uid-web-1:app:0:100:team-b");
    expect(out.hits.some((h) => h.rule === "internal-token")).toBe(true);
  });

  it("forwards a batch with nothing to drop or redact as its raw bytes, re-encodes one that changed", () => {
    const clean = logInput("shop", "web-1", "app", ["order 17 placed", "order 18 placed"]);
    const a = p.process(clean).outputs.find((o) => o.tenant === "team-a")!;
    expect(a.data).toBe(clean.data);
    const secret = logInput("shop", "web-1", "app", ["order 17 placed", "using itk_ABCDEFGH now"]);
    const b = p.process(secret).outputs.find((o) => o.tenant === "team-a")!;
    expect(b.data).not.toBe(secret.data);
    expect(decodeLogBatch(b.data).lines.map((l) => l.line)).toEqual(["order 17 placed", "using [REDACTED:internal-token] now"]);
    // team-b drops the health check: its copy is re-encoded with the kept line only
    const partial = logInput("shop", "web-1", "app", ["GET /healthz 200", "order 19 placed"]);
    const c = p.process(partial).outputs.find((o) => o.tenant === "team-b")!;
    expect(decodeLogBatch(c.data).lines.map((l) => l.line)).toEqual(["order 19 placed"]);
  });

  it("a batch whose lines are all noise is dropped; an end-of-stream batch is still forwarded, empty", () => {
    const noise = p.process(logInput("b-1", "web-1", "app", ["GET /healthz 200", "GET /healthz 200"]));
    expect(noise).toMatchObject({ dropped: "all_lines_filtered", outputs: [] });
    const eos = p.process(logInput("b-1", "web-1", "app", ["GET /healthz 200"], { endOfStream: true }));
    expect(eos.outputs).toHaveLength(1);
    const lb = decodeLogBatch(eos.outputs[0]!.data);
    expect(lb.endOfStream).toBe(true);
    expect(lb.lines).toEqual([]);
  });

  it("an end marker's unreadReason reaches every tenant unchanged, as raw bytes or re-encoded", () => {
    // Nothing to redact: the raw bytes travel on.
    const marker = logInput("shop", "web-1", "app", [], { endOfStream: true, seqStart: 0, unreadReason: "gone_before_read" });
    const plain = p.process(marker);
    expect(plain.outputs.map((o) => o.tenant).sort()).toEqual(["team-a", "team-b"]);
    for (const o of plain.outputs) expect(decodeLogBatch(o.data)).toMatchObject({ endOfStream: true, lines: [], unreadReason: "gone_before_read" });
    // A label to redact: the marker is re-encoded from the decoded batch, and keeps its reason.
    const labelled = logInput("shop", "web-1", "app", [], { endOfStream: true, unreadReason: "not_served", podLabels: { team: "a", note: "itk_ABCDEFGH" } });
    const out = p.process(labelled);
    expect(out.outputs).toHaveLength(2);
    for (const o of out.outputs) {
      expect(o.data).not.toBe(labelled.data);
      const lb = decodeLogBatch(o.data);
      expect(lb.podLabels["note"]).not.toContain("itk_ABCDEFGH");
      expect(lb.unreadReason).toBe("not_served");
    }
    // A batch read in full carries no reason, re-encoded or not.
    const partial = p.process(logInput("shop", "web-1", "app", ["GET /healthz 200", "order 19 placed"], { endOfStream: true }));
    for (const o of partial.outputs) expect(decodeLogBatch(o.data).unreadReason).toBeUndefined();
  });

  it("routes Events by reason and redacts their message", () => {
    const out = p.process(eventInput("shop", "Failed", `cannot reach postgres://app:${SECRET}@db:5432/shop`));
    expect(out.outputs.map((o) => o.tenant).sort()).toEqual(["platform", "team-b"]); // team-a: this Event has no involvedLabels
    for (const o of out.outputs) {
      const ev = decodeKubeEvent(o.data);
      expect(ev.message).not.toContain(SECRET);
      expect(ev.objectJson).not.toContain(SECRET);
      expect(ev.reason).toBe("Failed");
    }
    const scheduled = p.process(eventInput("shop", "Scheduled", "assigned"));
    expect(scheduled.outputs.map((o) => o.tenant)).toEqual(["platform"]);
  });

  it("routes Events by their involved object's labels and forwards the labels, redacted", () => {
    const out = p.process(eventInput("shop", "Unhealthy", "probe failed", { involvedLabels: { team: "a", note: "itk_ABCDEFGH" } }));
    expect(out.outputs.map((o) => o.tenant).sort()).toEqual(["platform", "team-a", "team-b"]);
    expect(out.hits.some((h) => h.rule === "internal-token")).toBe(true);
    for (const o of out.outputs) {
      const labels = decodeKubeEvent(o.data).involvedLabels!;
      expect(labels["team"]).toBe("a");
      expect(labels["note"]).not.toContain("itk_ABCDEFGH");
    }
    const other = p.process(eventInput("shop", "Unhealthy", "probe failed", { involvedLabels: { team: "b" } }));
    expect(other.outputs.map((o) => o.tenant).sort()).toEqual(["platform", "team-b"]);
    for (const o of other.outputs) expect(decodeKubeEvent(o.data).involvedLabels).toEqual({ team: "b" });
    // No labels in, none out.
    for (const o of p.process(eventInput("shop", "Unhealthy", "probe failed")).outputs) expect(decodeKubeEvent(o.data).involvedLabels).toBeUndefined();
  });

  it("malformed input is MalformedMessageError: bad subject, bad bytes, subject/payload mismatch", () => {
    const good = objInput(pod("shop", "web-1", { team: "a" }));
    expect(() => p.process({ ...good, subject: "faro.v1.raw.c1.shop" })).toThrow(MalformedMessageError);
    expect(() => p.process({ ...good, data: new Uint8Array([0xff, 0xff, 0xff]) })).toThrow(MalformedMessageError);
    const other = buildRawSubject("c1", "elsewhere", { category: "obj", resource: "pods", group: "", name: "web-1" });
    expect(() => p.process({ ...good, subject: other })).toThrow(/differs from the subject/);
  });

  it("any redaction failure is RedactStageError whose reason never quotes the payload", () => {
    const bad = { ...pod("shop", "web-1", { team: "a" }), objectJson: `{"password": "${SECRET}"` };
    let err: unknown;
    try {
      p.process(objInput(bad));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RedactStageError);
    expect((err as RedactStageError).message).not.toContain(SECRET);
    const real = createRedactor();
    const throwing: Redactor = { ...real, redactLogLines: () => { throw new Error(`boom ${SECRET}`); } };
    const q = processorFrom(CFG, throwing);
    expect(() => q.process(logInput("shop", "web-1", "app", ["x"]))).toThrow(RedactStageError);
    try {
      q.process(logInput("shop", "web-1", "app", ["x"]));
    } catch (e) {
      expect((e as RedactStageError).reason).toBe("Error");
    }
  });

  it("without a raw msgId, clean msgIds derive from the stream position", () => {
    const out = p.process({ ...objInput(pod("shop", "web-1", { team: "a" }), 77), msgId: undefined });
    expect(out.outputs[0]!.msgId).toMatch(/^FARO_RAW:77:/);
  });
});

describe("subsequenceIndexes", () => {
  it("maps kept lines back to their positions, duplicates included", () => {
    expect(subsequenceIndexes(["a", "b", "a", "c"], ["a", "a", "c"])).toEqual([0, 2, 3]);
    expect(subsequenceIndexes(["a"], [])).toEqual([]);
    expect(() => subsequenceIndexes(["a"], ["z"])).toThrow();
  });
});
