// Proto3 canonical JSON of decoded messages, against hand-checked expectations (the same rendering is
// compared with protoc and Python's json_format in test/interop.test.ts when those are installed).
import { describe, expect, it } from "vitest";
import {
  decodeDeadLetter,
  decodeIncidentContext,
  decodeKubeEvent,
  decodeLogBatch,
  encodeDeadLetter,
  encodeIncidentContext,
  encodeKubeEvent,
  encodeLogBatch,
  toCanonicalJson,
} from "./index.js";
import { deadLetter, incidentContext, kubeEvent, logBatch } from "../test/fixtures.js";

describe("toCanonicalJson", () => {
  it("renders 64-bit integers as strings, bytes as base64, and leaves proto3 defaults out", () => {
    const json = toCanonicalJson("DeadLetter", decodeDeadLetter(encodeDeadLetter(deadLetter)));
    expect(json).toEqual({
      schemaVersion: 1,
      service: "filter",
      stage: "redact",
      originalSubject: "faro.v1.raw.prod-eu.shop.log.web.app",
      reason: "unredactable",
      error: "regex timeout",
      deliveries: 5,
      streamSeq: "123456789012",
      payload: "AAH+/w==",
      atMs: "1795000000000",
    });
    // payloadWithheld false and an empty payload are defaults: absent.
    const withheld = toCanonicalJson("DeadLetter", { ...deadLetter, payload: new Uint8Array(), payloadWithheld: true });
    expect(withheld["payload"]).toBeUndefined();
    expect(withheld["payloadWithheld"]).toBe(true);
  });

  it("keeps set optional fields at their default, nests sub-messages and drops empty lists", () => {
    const json = toCanonicalJson("IncidentContext", decodeIncidentContext(encodeIncidentContext(incidentContext)));
    expect(json["exitCode"]).toBe(0);
    expect(json["k8sTimestamp"]).toBe("2026-11-22T02:00:00Z");
    expect(json["severity"]).toBe("high");
    expect(json["previousLogSource"]).toBe("none");
    expect(json["pod"]).toEqual({ name: "web-7d9f-abcde", uid: "pod-uid", node: "node-1" }); // replacesPodUid "" left out
    expect(json["logTail"]).toEqual([{ timestamp: "2026-11-22T02:00:00.123456789Z", line: "héllo wörld 名前", originalBytes: 19 }]);
    expect(json["ownerChain"]).toHaveLength(2);
    expect(json["recentChanges"]).toEqual([{ timestamp: "2026-11-22T01:50:00Z", kind: "Deployment", name: "web", diffJson: '[{"op":"replace"}]' }]);
    expect("isUpdate" in json).toBe(false);
    expect("previousLog" in json).toBe(false);
    const { exitCode: _e, pod: _p, ...bare } = incidentContext;
    const none = toCanonicalJson("IncidentContext", decodeIncidentContext(encodeIncidentContext(bare)));
    expect("exitCode" in none).toBe(false);
    expect("pod" in none).toBe(false);
  });

  it("renders maps as objects and enumerated strings as they are", () => {
    const json = toCanonicalJson("KubeEvent", decodeKubeEvent(encodeKubeEvent(kubeEvent)));
    expect(json["type"]).toBe("ADDED");
    expect(json["involvedLabels"]).toEqual({ team: "名前" });
    expect(json["observedAtMs"]).toBe("1795000000999");
    expect(json["involved"]).toMatchObject({ kind: "Pod", fieldPath: "spec.containers{app}" });
    expect("eventTime" in json).toBe(false);
    expect("sourceHost" in json).toBe(false);
    const batch = toCanonicalJson("LogBatch", decodeLogBatch(encodeLogBatch(logBatch)));
    expect(batch["seqStart"]).toBe("1099511627776");
    expect(batch["unreadReason"]).toBe("not_served");
    expect(batch["containerType"]).toBe("init");
    expect("podLabels" in batch).toBe(false); // empty map
    expect("restartCount" in batch).toBe(false); // 0
    expect((batch["lines"] as unknown[])[1]).toEqual({ timestamp: "2026-11-22T02:00:00.123456789Z", line: "xxxxxxxxxx", truncated: true, originalBytes: 70000 });
  });

  it("gives plain JSON that survives JSON.stringify and renders nested types by name", () => {
    const json = toCanonicalJson("DeadLetter", deadLetter);
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
    expect(toCanonicalJson("OwnerRef", { apiVersion: "v1", kind: "Pod", name: "p", uid: "", controller: false })).toEqual({ apiVersion: "v1", kind: "Pod", name: "p" });
    expect(() => toCanonicalJson("Nope" as never, {} as never)).toThrow(/not a message type/);
  });
});
