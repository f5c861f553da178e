import { describe, expect, it } from "vitest";
import { decodeKubeEvent, decodeResourceChange, parseSubject } from "@faro/contracts";
import type { KubeObject } from "@faro/kube";
import { changeMsgId, encodeChange, encodeEvent, eventMsgId, involvedUid } from "./encode.js";

const podRef = { group: "", version: "v1", resource: "pods", kind: "Pod", apiVersion: "v1", namespaced: true };
const deployRef = { group: "apps", version: "v1", resource: "deployments", kind: "Deployment", apiVersion: "apps/v1", namespaced: true };
const nodeRef = { group: "", version: "v1", resource: "nodes", kind: "Node", apiVersion: "v1", namespaced: false };
const secretRef = { group: "", version: "v1", resource: "secrets", kind: "Secret", apiVersion: "v1", namespaced: true };

describe("encodeChange", () => {
  it("builds the raw subject, a state message id and a ResourceChange without managedFields", () => {
    const obj = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: {
        name: "web.v2",
        namespace: "shop",
        uid: "u1",
        resourceVersion: "42",
        creationTimestamp: "2026-01-02T03:04:05Z",
        labels: { app: "web" },
        ownerReferences: [{ apiVersion: "x/v1", kind: "Thing", name: "t", uid: "o1", controller: true }],
        managedFields: [{ manager: "kubectl" }],
      },
      spec: { replicas: 2 },
    } as unknown as KubeObject;
    const out = encodeChange("prod", deployRef, "MODIFIED", obj, 1000);
    expect(out.subject).toBe("faro.v1.raw.prod.shop.obj.deployments~2Eapps.web~2Ev2");
    expect(parseSubject(out.subject)).toMatchObject({ namespace: "shop", target: { resource: "deployments", group: "apps", name: "web.v2" } });
    expect(out.msgId).toBe("rc:u1:42:M@prod");
    const msg = decodeResourceChange(out.data);
    expect(msg).toMatchObject({ cluster: "prod", type: "MODIFIED", group: "apps", resource: "deployments", kind: "Deployment", namespace: "shop", name: "web.v2", uid: "u1", resourceVersion: "42", labels: { app: "web" } });
    expect(msg.ownerRefs).toEqual([{ apiVersion: "x/v1", kind: "Thing", name: "t", uid: "o1", controller: true }]);
    const json = JSON.parse(msg.objectJson);
    expect(json.metadata.managedFields).toBeUndefined();
    expect(json.metadata.creationTimestamp).toBe("2026-01-02T03:04:05Z");
  });

  it("gives ADDED and MODIFIED of one state the same id (a relist's ADDED dedupes against a live MODIFIED)", () => {
    expect(changeMsgId("u", "7", "ADDED")).toBe(changeMsgId("u", "7", "MODIFIED"));
    expect(changeMsgId("u", "7", "DELETED")).toBe("rc:u:7:D");
    expect(eventMsgId("u", "7", "ADDED")).toBe("ev:u:7:M");
  });

  it("puts cluster-scoped objects under _cluster", () => {
    const out = encodeChange("c", nodeRef, "ADDED", { apiVersion: "v1", kind: "Node", metadata: { name: "n1", uid: "n", resourceVersion: "1" } }, 0);
    expect(out.subject).toBe("faro.v1.raw.c._cluster.obj.nodes.n1");
  });

  it("never carries Secret values, even when handed an unstripped Secret", () => {
    const secret = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "db", namespace: "shop", uid: "s", resourceVersion: "3", annotations: { "kubectl.kubernetes.io/last-applied-configuration": '{"data":{"pw":"aHVudGVyMg=="}}' } },
      data: { pw: "aHVudGVyMg==" },
      stringData: { token: "t0ps3cret" },
    } as unknown as KubeObject;
    const msg = decodeResourceChange(encodeChange("c", secretRef, "ADDED", secret, 0).data);
    expect(msg.objectJson).not.toContain("aHVudGVyMg");
    expect(msg.objectJson).not.toContain("t0ps3cret");
    expect(JSON.parse(msg.objectJson).data).toEqual({ pw: "" });
  });

  it("refuses objects without identity", () => {
    expect(() => encodeChange("c", podRef, "ADDED", { apiVersion: "v1", kind: "Pod", metadata: { name: "p" } } as unknown as KubeObject, 0)).toThrow(/uid/);
  });
});

describe("encodeEvent", () => {
  const ev = {
    apiVersion: "v1",
    kind: "Event",
    metadata: { name: "web-1.17a", namespace: "shop", uid: "e1", resourceVersion: "9" },
    involvedObject: { apiVersion: "v1", kind: "Pod", namespace: "shop", name: "web-1", uid: "p1", fieldPath: "spec.containers{app}" },
    reason: "BackOff",
    message: "Back-off restarting failed container",
    type: "Warning",
    source: { component: "kubelet", host: "node-1" },
    count: 4,
    firstTimestamp: "2026-01-01T00:00:00Z",
    lastTimestamp: "2026-01-01T00:01:00Z",
  } as unknown as KubeObject;

  it("publishes on the involved object's subject with its identity", () => {
    const out = encodeEvent("prod", "ADDED", ev, 5);
    expect(out.subject).toBe("faro.v1.raw.prod.shop.event.Pod.web-1");
    expect(out.msgId).toBe("ev:e1:9:M@prod");
    const msg = decodeKubeEvent(out.data);
    expect(msg).toMatchObject({ reason: "BackOff", eventType: "Warning", sourceComponent: "kubelet", sourceHost: "node-1", count: 4, namespace: "shop", name: "web-1.17a" });
    expect(msg.involved).toEqual({ apiVersion: "v1", kind: "Pod", namespace: "shop", name: "web-1", uid: "p1", fieldPath: "spec.containers{app}" });
  });

  it("carries the involved object's labels when given, and none otherwise", () => {
    expect(involvedUid(ev)).toBe("p1");
    const labelled = decodeKubeEvent(encodeEvent("prod", "ADDED", ev, 5, undefined, { team: "a", app: "web" }).data);
    expect(labelled.involvedLabels).toEqual({ team: "a", app: "web" });
    expect(decodeKubeEvent(encodeEvent("prod", "ADDED", ev, 5).data).involvedLabels).toBeUndefined();
  });

  it("routes a stub DELETED (after a relist) with the remembered involved identity", () => {
    const stub = { apiVersion: "v1", kind: "Event", metadata: { name: "web-1.17a", namespace: "shop", uid: "e1", resourceVersion: "9" } } as KubeObject;
    const out = encodeEvent("prod", "DELETED", stub, 5, { kind: "Pod", name: "web-1" });
    expect(out.subject).toBe("faro.v1.raw.prod.shop.event.Pod.web-1");
    expect(out.msgId).toBe("ev:e1:9:D@prod");
  });
});
