import { describe, expect, it } from "vitest";
import { evidenceResolves } from "@faro/contracts";
import { loadFixture, variant, withPod } from "../../test/fixtures.js";
import { IncidentView } from "../view.js";
import { configRef, parseMissingRef } from "./config-ref.js";

describe("config-ref", () => {
  it("points at the envFrom reference of a ConfigMap that does not exist (recorded)", () => {
    const ic = loadFixture("analysis-configless-CreateContainerConfigError");
    const f = configRef.analyze(new IncidentView(ic))!;
    expect(f.probableCause).toMatch(/^ConfigMap app-settings does not exist in namespace lab/);
    expect(f.evidence).toContainEqual({ kind: "manifest", index: 0, path: "/spec/containers/0/envFrom/0/configMapRef/name", quote: "app-settings" });
    for (const e of f.evidence) expect(evidenceResolves(ic, e)).toBe(true);
  });

  it("names a missing key of a Secret and the env entry that wants it", () => {
    const base = withPod(loadFixture("analysis-configless-CreateContainerConfigError"), (p) => {
      p.spec.containers[0].envFrom = [];
      p.spec.containers[0].env = [{ name: "DB_USER", valueFrom: { secretKeyRef: { name: "db", key: "username" } } }];
    });
    const ic = variant(base, (c) => (c.message = "CreateContainerConfigError: couldn't find key username in Secret lab/db"));
    const f = configRef.analyze(new IncidentView(ic))!;
    expect(f.probableCause).toMatch(/^Secret db exists but has no key "username"/);
    expect(f.evidence).toContainEqual({ kind: "manifest", index: 0, path: "/spec/containers/0/env/0/valueFrom/secretKeyRef/key", quote: "username" });
  });

  it("parses the kubelet's wordings", () => {
    expect(parseMissingRef('configmap "a" not found')).toEqual({ kind: "configmap", name: "a" });
    expect(parseMissingRef('secret "s" not found')).toEqual({ kind: "secret", name: "s" });
    expect(parseMissingRef("couldn't find key K in ConfigMap ns/cm")).toEqual({ kind: "configmap", name: "cm", key: "K" });
    expect(parseMissingRef("back-off")).toBeUndefined();
  });

  it("stays silent on other incidents", () => {
    expect(configRef.analyze(new IncidentView(loadFixture("crashloop-crasher-CrashLoopBackOff")))).toBeUndefined();
  });
});
