// The watcher's definition without I/O: streams and Redis, its configuration (common publish and provision
// settings, the removed service keys rejected), and the dead letter of a change that cannot be encoded.
import { describe, expect, it } from "vitest";
import { ConfigError } from "@faro/config";
import { FARO_DLQ, FARO_RAW } from "@faro/contracts";
import { loadServiceConfig } from "@faro/kernel";
import type { KubeObject } from "@faro/kube";
import { watcherService } from "./definition.js";
import { encodeChange, unencodableDeadLetter } from "./encode.js";

describe("watcherService", () => {
  it("declares FARO_RAW, FARO_DLQ (dead letters of unencodable changes) and Redis", () => {
    expect(watcherService.name).toBe("watcher");
    expect(watcherService.streams).toEqual([FARO_RAW, FARO_DLQ]);
    expect(watcherService.redis).toBe(true);
  });

  it("publishes with the common publish settings; provisioning is nats.provision", () => {
    const config = loadServiceConfig(watcherService, { env: { FARO_PUBLISH_WINDOW: "256", FARO_PUBLISH_RETRY_FOR: "2m", FARO_NATS_PROVISION: "false" } });
    expect(config.publish).toEqual({ window: 256, timeout: 5000, retryFor: 120_000 });
    expect(config.nats.provision).toBe(false);
    expect(config.http.port).toBe(9101);
    // The defaults are the ones the watcher's own publish section had.
    expect(loadServiceConfig(watcherService, { env: {} }).publish).toEqual({ window: 1024, timeout: 5000, retryFor: 60_000 });
  });

  it("rejects a namespace pattern that does not compile, naming its field (one syntax: docs/patterns.md)", () => {
    const load = (env: Record<string, string>) => () => loadServiceConfig(watcherService, { env });
    expect(load({ FARO_NAMESPACES_INCLUDE: "default,/team-(?=a)/" })).toThrow(ConfigError);
    expect(load({ FARO_NAMESPACES_INCLUDE: "default,/team-(?=a)/" })).toThrow(/namespaces\.include\[1\].*not valid RE2/);
    expect(load({ FARO_NAMESPACES_EXCLUDE: "//" })).toThrow(/namespaces\.exclude\[0\]/);
    expect(load({ FARO_NAMESPACES_INCLUDE: "all,prod-*,/^team-\\d+$/i" })().namespaces.include).toHaveLength(3);
  });

  it("rejects the removed publish.ensureStream", () => {
    expect(() => loadServiceConfig(watcherService, { env: { FARO_PUBLISH_ENSURE_STREAM: "false" } })).toThrow(ConfigError);
    expect(() => loadServiceConfig(watcherService, { argv: ["--publish.ensureStream=false"] })).toThrow(/publish\.ensureStream/);
  });
});

describe("unencodableDeadLetter", () => {
  const deployRef = { group: "apps", version: "v1", resource: "deployments", kind: "Deployment", apiVersion: "apps/v1", namespaced: true };
  const secretRef = { group: "", version: "v1", resource: "secrets", kind: "Secret", apiVersion: "v1", namespaced: true };
  const nodeRef = { group: "", version: "v1", resource: "nodes", kind: "Node", apiVersion: "v1", namespaced: false };

  /** What encodeChange throws for this object. */
  function encodeError(ref: typeof deployRef, obj: KubeObject): unknown {
    try {
      encodeChange("prod", ref, "MODIFIED", obj, 0);
    } catch (err) {
      return err;
    }
    throw new Error("expected the object to be unencodable");
  }

  it("names the object by its API path and keys the dead letter by resource, uid and state", () => {
    const obj = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: "shop", uid: "u1" } } as unknown as KubeObject;
    const dl = unencodableDeadLetter(deployRef, "MODIFIED", obj, encodeError(deployRef, obj));
    expect(dl).toMatchObject({
      stage: "encode",
      reason: "unencodable object",
      error: "cannot encode deployments.apps object: metadata.resourceVersion is missing (uid u1)",
      originalSubject: "/apis/apps/v1/namespaces/shop/deployments/web",
      key: "deployments.apps:u1::M",
    });
    expect(JSON.parse(new TextDecoder().decode(dl.payload))).toMatchObject({ metadata: { name: "web", uid: "u1" } });
    expect(dl.withhold).toBeUndefined();
    // A deletion of the same object is another dead letter.
    expect(unencodableDeadLetter(deployRef, "DELETED", obj, new Error("x")).key).toBe("deployments.apps:u1::D");
  });

  it("keys an object without uid by namespace and name, and a cluster-scoped one without namespace", () => {
    const secret = { kind: "Secret", metadata: { name: "db", namespace: "shop", resourceVersion: "7" } } as unknown as KubeObject;
    expect(unencodableDeadLetter(secretRef, "ADDED", secret, new Error("no uid")).key).toBe("secrets:shop/db:7:M");
    const node = { kind: "Node", metadata: { name: "n1", namespace: "ignored", resourceVersion: "3" } } as unknown as KubeObject;
    const dl = unencodableDeadLetter(nodeRef, "ADDED", node, new Error("no uid"));
    expect(dl.key).toBe("nodes:/n1:3:M");
    expect(dl.originalSubject).toBe("/api/v1/nodes/n1");
  });

  it("never carries a Secret's values, and goes without payload when the object cannot be serialised", () => {
    const secret = { kind: "Secret", metadata: { name: "db", namespace: "shop" }, data: { password: "c3VwZXJzZWNyZXQ=" } } as unknown as KubeObject;
    const dl = unencodableDeadLetter(secretRef, "ADDED", secret, new Error("no uid"));
    expect(new TextDecoder().decode(dl.payload)).not.toContain("c3VwZXJzZWNyZXQ");
    const circular = { kind: "Secret", metadata: { name: "loop", namespace: "shop" } } as unknown as KubeObject & { self?: unknown };
    circular.self = circular;
    const withheld = unencodableDeadLetter(secretRef, "ADDED", circular, new Error("no uid"));
    expect(withheld.payload).toBeUndefined();
    expect(withheld.withhold).toBe(true);
  });
});
