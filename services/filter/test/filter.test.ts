// Integration tests of the filter service against a real nats-server: raw in, redacted clean copies per
// tenant out; poison → DLQ (decode) with reason; failed redaction → DLQ (redact) without payload.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pino } from "pino";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, type JetStreamClient } from "@nats-io/jetstream";
import {
  buildRawSubject,
  decodeDeadLetter,
  decodeKubeEvent,
  decodeLogBatch,
  decodeResourceChange,
  encodeKubeEvent,
  encodeLogBatch,
  encodeResourceChange,
  parseSubject,
  type LogBatch,
  type ResourceChange,
} from "@faro/contracts";
import { DLQ_HEADERS } from "@faro/bus";
import { scopedDurable, startService, type RunningService } from "@faro/kernel";
import { checkServiceContract } from "@faro/observability";
import { startNats, type ManagedServer } from "@faro/test-harness";
import { filterService } from "../src/definition.js";
import type { Filter } from "../src/service.js";
import { bytesContain, filterConfig, readStream, until } from "./helpers.js";

const SECRETS = ["hunter2-Pa55word", "AKIAIOSFODNN7EXAMPLE", "itk_Q1w2E3r4"];

const CONFIG = `
tenants:
  - name: team-a
    namespaces: [shop]
    include: [{ name: a-only, labels: "team=a" }]
  - name: team-b
    namespaces: [shop]
    include: [{ name: b-only, labels: "team=b" }]
    exclude: [{ name: healthz, log: "GET /healthz" }]
redaction:
  rules: [{ name: internal-token, pattern: "itk_[A-Za-z0-9]{8}" }]
consumer: { concurrency: 8 }
`;

function podChange(name: string, team: string, extra: Partial<ResourceChange> = {}): Omit<ResourceChange, "schemaVersion"> {
  const obj = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "shop", uid: `uid-${name}`, resourceVersion: "5", labels: { team } },
    spec: {
      containers: [
        {
          name: "app",
          image: "shop:1",
          args: [`--db-password=${SECRETS[0]}`],
          env: [
            { name: "AWS_ACCESS_KEY_ID", value: SECRETS[1] },
            { name: "LOG_LEVEL", value: "debug" },
          ],
        },
      ],
    },
  };
  return {
    cluster: "c1", type: "ADDED", group: "", version: "v1", resource: "pods", kind: "Pod", namespace: "shop", name,
    uid: `uid-${name}`, resourceVersion: "5", observedAtMs: 1, ownerRefs: [], labels: { team }, objectJson: JSON.stringify(obj), ...extra,
  };
}

function logBatch(podName: string, team: string, lines: string[], seqStart = 0): Omit<LogBatch, "schemaVersion"> {
  return {
    cluster: "c1", namespace: "shop", pod: podName, podUid: `uid-${podName}`, container: "app", containerType: "regular", restartCount: 0,
    source: "follow", seqStart, node: "n1", observedAtMs: 1, endOfStream: false, podLabels: { team }, podOwnerRefs: [],
    lines: lines.map((line) => ({ timestamp: "2026-11-22T00:00:00.000000000Z", line, truncated: false, originalBytes: line.length })),
  };
}

describe("filter service over NATS", () => {
  let nats: ManagedServer;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let filter: Filter;
  let svc: RunningService<Filter>;

  beforeAll(async () => {
    nats = await startNats();
    svc = await startService(filterService, filterConfig(CONFIG, { FARO_NATS_URL: nats.url }), { logger: pino({ level: "silent" }) });
    filter = svc.instance;
    nc = await connect({ servers: nats.url });
    js = jetstream(nc);
  });

  afterAll(async () => {
    await svc?.stop();
    await nc?.close();
    await nats?.stop();
  });

  it("forwards one redacted copy per tenant, with deterministic msgIds, and acks the raw message", async () => {
    const a = podChange("web-a", "a");
    const b = podChange("web-b", "b");
    await js.publish(buildRawSubject("c1", "shop", { category: "obj", resource: "pods", group: "", name: "web-a" }), encodeResourceChange(a), { msgID: "rc:uid-web-a:5:M" });
    await js.publish(buildRawSubject("c1", "shop", { category: "obj", resource: "pods", group: "", name: "web-b" }), encodeResourceChange(b), { msgID: "rc:uid-web-b:5:M" });
    const ev = {
      cluster: "c1", type: "ADDED" as const, uid: "e1", resourceVersion: "9", namespace: "shop", name: "web-a.1", reason: "BackOff",
      message: `login to https://deploy:${SECRETS[0]}@registry.local failed`, eventType: "Warning", sourceComponent: "kubelet", sourceHost: "n1",
      reportingController: "", involved: { apiVersion: "v1", kind: "Pod", namespace: "shop", name: "web-a", uid: "uid-web-a", fieldPath: "" },
      count: 1, firstTimestamp: "", lastTimestamp: "", eventTime: "", observedAtMs: 1, objectJson: "{}",
    };
    await js.publish(buildRawSubject("c1", "shop", { category: "event", kind: "Pod", name: "web-a" }), encodeKubeEvent(ev), { msgID: "ev:e1:9:M" });
    await js.publish(
      buildRawSubject("c1", "shop", { category: "log", pod: "web-b", container: "app" }),
      encodeLogBatch(logBatch("web-b", "b", ["GET /healthz 200", `calling api with ${SECRETS[2]}`, "Authorization: Bearer abc.def-ghi", "ok"])),
      { msgID: "lg:uid-web-b:app:0:0" },
    );

    // web-a → team-a; web-b → team-b; the Event (no pod labels) matches no include rule of either tenant.
    const clean = await until(async () => {
      const all = await readStream(nc, "FARO_CLEAN");
      return all.length >= 3 ? all : undefined;
    }, "three clean messages");
    const bySubject = new Map(clean.map((m) => [m.subject, m]));
    const aMsg = bySubject.get("faro.v1.clean.team-a.c1.shop.obj.pods.web-a")!;
    const bMsg = bySubject.get("faro.v1.clean.team-b.c1.shop.obj.pods.web-b")!;
    const logMsg = bySubject.get("faro.v1.clean.team-b.c1.shop.log.web-b.app")!;
    expect(aMsg.headers.get("Nats-Msg-Id")).toBe("rc:uid-web-a:5:M:team-a");
    expect(bMsg.headers.get("Nats-Msg-Id")).toBe("rc:uid-web-b:5:M:team-b");
    expect(logMsg.headers.get("Nats-Msg-Id")).toBe("lg:uid-web-b:app:0:0:team-b");
    const rc = decodeResourceChange(aMsg.data);
    expect(JSON.parse(rc.objectJson).spec.containers[0].env[1]).toEqual({ name: "LOG_LEVEL", value: "debug" });
    expect(decodeLogBatch(logMsg.data).lines.map((l) => l.line)).toEqual([
      "calling api with [REDACTED:internal-token]",
      expect.stringMatching(/^Authorization: .*\[REDACTED/),
      "ok",
    ]);
    for (const m of clean) {
      expect(parseSubject(m.subject).stage).toBe("clean");
      for (const s of SECRETS) expect(bytesContain(m.data, s), `${s} in ${m.subject}`).toBe(false);
    }
    expect(clean.some((m) => m.subject.includes(".event."))).toBe(false);
    // Everything acked: nothing pending on the durable.
    await until(async () => {
      const { jetstreamManager } = await import("@nats-io/jetstream");
      const info = await (await jetstreamManager(nc)).consumers.info("FARO_RAW", scopedDurable("c1", "filter"));
      return info.num_ack_pending === 0 && info.num_pending === 0;
    }, "the raw messages acked");
  });

  it("a raw message published twice under one msgId yields one clean copy; without a msgId, ids derive from the stream position", async () => {
    const before = (await readStream(nc, "FARO_CLEAN")).length;
    const a = podChange("web-a", "a");
    const subject = buildRawSubject("c1", "shop", { category: "obj", resource: "pods", group: "", name: "web-a" });
    const dup = await js.publish(subject, encodeResourceChange(a), { msgID: "rc:uid-web-a:5:M" });
    expect(dup.duplicate).toBe(true);
    const ack = await js.publish(subject, encodeResourceChange(a));
    await until(async () => (await readStream(nc, "FARO_CLEAN")).length === before + 1, "one more clean message");
    const all = await readStream(nc, "FARO_CLEAN");
    expect(all.at(-1)!.headers.get("Nats-Msg-Id")).toBe(`FARO_RAW:${ack.seq}:team-a`);
  });

  it("forwards an instance's empty end marker with its unreadReason", async () => {
    const marker = { ...logBatch("web-gone", "a", []), endOfStream: true, unreadReason: "gone_before_read" as const };
    await js.publish(buildRawSubject("c1", "shop", { category: "log", pod: "web-gone", container: "app" }), encodeLogBatch(marker), { msgID: "lg:uid-web-gone:app:0:0" });
    const subject = "faro.v1.clean.team-a.c1.shop.log.web-gone.app";
    const clean = await until(async () => (await readStream(nc, "FARO_CLEAN")).find((m) => m.subject === subject), "the clean end marker");
    expect(clean.headers.get("Nats-Msg-Id")).toBe("lg:uid-web-gone:app:0:0:team-a");
    expect(decodeLogBatch(clean.data)).toMatchObject({ endOfStream: true, lines: [], unreadReason: "gone_before_read", pod: "web-gone" });
  });

  it("dead-letters an undecodable message with its reason, payload withheld by default", async () => {
    const subject = buildRawSubject("c1", "shop", { category: "log", pod: "broken", container: "app" });
    const ack = await js.publish(subject, new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0x01]), { msgID: "garbage-1" });
    const dl = await until(async () => (await readStream(nc, "FARO_DLQ")).find((m) => m.headers.get(DLQ_HEADERS.originalSeq) === String(ack.seq)), "a dead letter");
    expect(dl.subject).toBe("faro.v1.dlq.filter.decode");
    expect(dl.headers.get(DLQ_HEADERS.reason)).toMatch(/cannot decode LogBatch/);
    const letter = decodeDeadLetter(dl.data);
    expect(letter).toMatchObject({ service: "filter", stage: "decode", originalSubject: subject, streamSeq: ack.seq, payloadWithheld: true });
    expect(letter.error).toMatch(/cannot decode LogBatch/);
    expect(letter.payload.length).toBe(0);
    expect((await readStream(nc, "FARO_CLEAN")).some((m) => m.subject.includes("broken"))).toBe(false);
  });

  it("fail-safe: a message whose redaction fails is not forwarded and is dead-lettered without payload", async () => {
    const bad = podChange("web-bad", "a", { objectJson: `{"kind":"Pod","spec":{"password":"${SECRETS[0]}"` });
    const subject = buildRawSubject("c1", "shop", { category: "obj", resource: "pods", group: "", name: "web-bad" });
    const ack = await js.publish(subject, encodeResourceChange(bad), { msgID: "rc:uid-web-bad:5:M" });
    const dl = await until(async () => (await readStream(nc, "FARO_DLQ")).find((m) => m.headers.get(DLQ_HEADERS.originalSeq) === String(ack.seq)), "a dead letter");
    expect(dl.subject).toBe("faro.v1.dlq.filter.redact");
    const letter = decodeDeadLetter(dl.data);
    expect(letter).toMatchObject({ service: "filter", stage: "redact", reason: "redaction failed", originalSubject: subject, payloadWithheld: true });
    expect(letter.payload.length).toBe(0);
    expect(bytesContain(dl.data, SECRETS[0]!)).toBe(false);
    for (const v of dl.headers.values()) expect(v).not.toContain(SECRETS[0]);
    expect((await readStream(nc, "FARO_CLEAN")).some((m) => m.subject.includes("web-bad"))).toBe(false);
    const metrics = await svc.handle.metrics.registry.metrics();
    expect(metrics).toMatch(/faro_filter_redaction_failures_total\{[^}]*category="obj"[^}]*\} 1/);
    expect(metrics).toMatch(/faro_dead_letters_total\{[^}]*reason="redact"[^}]*\} 1/);
  });

  it("counts per tenant and rule, and follows the service contract", async () => {
    filter.filterMetrics.syncRuleStats();
    {
      const report = await checkServiceContract(svc.handle.http!.url, { expectReady: true });
      expect(report.metrics).toMatch(/faro_filter_log_lines_dropped_total\{[^}]*tenant="team-b",rule="healthz"[^}]*\} 1/);
      expect(report.metrics).toMatch(/faro_filter_published_total\{[^}]*tenant="team-a",category="obj"[^}]*\} [1-9]/);
      expect(report.metrics).toMatch(/faro_filter_redactions_total\{[^}]*rule="internal-token",category="log"[^}]*\} 1/);
      expect(report.metrics).toMatch(/faro_filter_rule_eval_seconds_total\{[^}]*rule="healthz"/);
      expect(report.metrics).toMatch(/faro_messages_dropped_total\{[^}]*reason="no_tenant"[^}]*\} 1/);
    }
  });

  it("two tenants sharing a namespace by pod labels each get only their own pods' Events, labels kept", async () => {
    const event = (pod: string, team: string | undefined) => ({
      cluster: "c1", type: "ADDED" as const, uid: `ev-${pod}`, resourceVersion: "21", namespace: "shop", name: `${pod}.2`, reason: "Unhealthy",
      message: "Readiness probe failed", eventType: "Warning", sourceComponent: "kubelet", sourceHost: "n1", reportingController: "",
      involved: { apiVersion: "v1", kind: "Pod", namespace: "shop", name: pod, uid: `uid-${pod}`, fieldPath: "" },
      count: 1, firstTimestamp: "", lastTimestamp: "", eventTime: "", observedAtMs: 1, objectJson: "{}",
      ...(team === undefined ? {} : { involvedLabels: { team, app: pod } }),
    });
    const before = (await readStream(nc, "FARO_CLEAN")).length;
    for (const [pod, team] of [["pay-a", "a"], ["pay-b", "b"], ["pay-unseen", undefined]] as const) {
      await js.publish(buildRawSubject("c1", "shop", { category: "event", kind: "Pod", name: pod }), encodeKubeEvent(event(pod, team)), { msgID: `ev:ev-${pod}:21:M` });
    }
    // A sentinel after the three Events: once its copy is stored, the Events have been decided.
    await js.publish(buildRawSubject("c1", "shop", { category: "obj", resource: "pods", group: "", name: "pay-sentinel" }), encodeResourceChange(podChange("pay-sentinel", "a")), {
      msgID: "rc:uid-pay-sentinel:5:M",
    });
    const fresh = await until(async () => {
      const all = (await readStream(nc, "FARO_CLEAN")).slice(before);
      return all.some((m) => m.subject.endsWith(".obj.pods.pay-sentinel")) && all.filter((m) => m.subject.includes(".event.")).length >= 2 ? all : undefined;
    }, "the Events' clean copies and the sentinel");
    const events = fresh.filter((m) => m.subject.includes(".event."));
    // pay-unseen's Event (the watcher had not seen the pod) reaches nobody: both tenants include only by labels.
    expect(events.map((m) => m.subject).sort()).toEqual(["faro.v1.clean.team-a.c1.shop.event.Pod.pay-a", "faro.v1.clean.team-b.c1.shop.event.Pod.pay-b"]);
    for (const m of events) {
      const ev = decodeKubeEvent(m.data);
      const team = m.subject.includes("team-a") ? "a" : "b";
      expect(ev.involvedLabels).toEqual({ team, app: `pay-${team}` });
      expect(m.headers.get("Nats-Msg-Id")).toBe(`ev:ev-pay-${team}:21:M:team-${team}`);
    }
  });

  it("stop() is idempotent and releases the connection", async () => {
    const s = await startService(filterService, filterConfig(CONFIG, { FARO_NATS_URL: nats.url }), { logger: pino({ level: "silent" }) });
    expect((await s.handle.lifecycle.readiness()).ready).toBe(true);
    const [x, y] = [s.stop(), s.stop()];
    expect(x).toBe(y);
    expect((await x).code).toBe(0);
    expect(s.instance.readiness()).not.toBe(true);
    expect(s.bus.nc.isClosed()).toBe(true);
  });
});
