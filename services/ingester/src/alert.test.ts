// Unit tests of the alert mapping (pod, node, container, Falco's "<NA>") and of the token bucket.
import { describe, expect, it } from "vitest";
import type { FalcoAlert } from "@faro/contracts";
import { alertUid, mapAlert } from "./alert.js";
import { TokenBucket } from "./rate.js";

const alert = (fields: FalcoAlert["output_fields"], extra: Partial<FalcoAlert> = {}): FalcoAlert => ({ output: "o", priority: "Critical", rule: "r", time: "2026-12-08T00:00:00.123456789Z", output_fields: fields, ...extra });

describe("mapAlert", () => {
  it("is about the pod Falco names, with the container as fieldPath", () => {
    const m = mapAlert("c1", "falco", alert({ "k8s.pod.name": "web-1", "k8s.ns.name": "shop", "container.name": "app" }, { hostname: "n1" }), 5);
    expect(m.subject).toBe("faro.v1.raw.c1.shop.event.Pod.web-1");
    expect(m.event.involved).toEqual({ apiVersion: "v1", kind: "Pod", namespace: "shop", name: "web-1", uid: "", fieldPath: "spec.containers{app}" });
    expect(m.msgId).toBe(`ev:${m.event.uid}:1:A@c1`);
  });

  it("is about the node when the pod is unknown or <NA>, and about an unknown host without a hostname", () => {
    expect(mapAlert("c1", "falco", alert({ "k8s.pod.name": "<NA>", "k8s.ns.name": "<NA>" }, { hostname: "n1" }), 5).subject).toBe("faro.v1.raw.c1._cluster.event.Node.n1");
    expect(mapAlert("c1", "falco", alert({}), 5).subject).toBe("faro.v1.raw.c1._cluster.event.Node.unknown-host");
  });

  it("identifies an alert by falcosidekick's uuid, else by its content", () => {
    expect(alertUid(alert({}, { uuid: "u-1" }))).toBe(alertUid(alert({ x: 1 }, { uuid: "u-1" })));
    expect(alertUid(alert({ x: 1 }))).not.toBe(alertUid(alert({ x: 2 })));
    expect(alertUid(alert({ x: 1 }))).toBe(alertUid(alert({ x: 1 })));
  });
});

describe("TokenBucket", () => {
  it("allows the burst, then the rate", () => {
    let t = 0;
    const b = new TokenBucket(2, 3, () => t);
    expect([b.take(), b.take(), b.take(), b.take()]).toEqual([true, true, true, false]);
    expect(b.retryAfterSeconds()).toBe(1);
    t = 500; // one token back at 2/s
    expect([b.take(), b.take()]).toEqual([true, false]);
    expect(b.used).toBe(3);
  });
});
