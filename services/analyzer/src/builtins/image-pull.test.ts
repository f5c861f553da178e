import { describe, expect, it } from "vitest";
import { evidenceResolves } from "@faro/contracts";
import { loadFixture, variant } from "../../test/fixtures.js";
import { IncidentView } from "../view.js";
import { classifyPullError, imagePull, parseImageRef } from "./image-pull.js";

describe("image-pull", () => {
  it("names Docker Hub when the reference names no registry, and a missing tag (recorded: demo inventory)", () => {
    const ic = loadFixture("demo-inventory-ImagePullBackOff");
    const f = imagePull.analyze(new IncidentView(ic))!;
    expect(f.probableCause).toMatch(/docker\.io \(Docker Hub, no registry named\) does not know image shop\/inventory:does-not-exist/);
    expect(f.probableCause).toMatch(/tag "does-not-exist"/);
    const ev = f.evidence.find((e) => e.kind === "event")!;
    expect(ev.quote).toMatch(/^Failed to pull image "shop\/inventory:does-not-exist"/);
    expect(f.evidence.some((e) => e.kind === "manifest" && e.path === "/spec/containers/0/image" && e.quote === "shop/inventory:does-not-exist")).toBe(true);
    for (const e of f.evidence) expect(evidenceResolves(ic, e)).toBe(true);
  });

  it("reads a registry host and a digest (recorded: a rollout to a digest that does not exist)", () => {
    const ic = loadFixture("analysis-stuck-ImagePullBackOff");
    const f = imagePull.analyze(new IncidentView(ic))!;
    expect(f.probableCause).toMatch(/^ghcr\.io has no manifest for lab\/stuck at digest sha256:0{64}/);
    expect(f.nextSteps[0]).toMatch(/Resolve the digest again/);
  });

  it("tells an authentication failure from a missing image", () => {
    const ic = variant(loadFixture("imagepull-broken-ImagePullBackOff"), (c) => {
      c.events.push({ reason: "Failed", type: "Warning", message: 'Failed to pull image "registry.example.com/team/broken:1.2": failed to authorize: 401 Unauthorized', count: 1, first: "", last: "", source: "kubelet" });
    });
    const f = imagePull.analyze(new IncidentView(ic))!;
    expect(f.probableCause).toMatch(/registry\.example\.com refused to serve image registry\.example\.com\/team\/broken:1\.2 without valid credentials/);
    expect(f.nextSteps[0]).toMatch(/imagePullSecrets/);
  });

  it("parses references and classifies messages", () => {
    expect(parseImageRef("nginx")).toEqual({ registry: "docker.io", implicitRegistry: true, repository: "library/nginx" });
    expect(parseImageRef("localhost:5000/a/b:1")).toEqual({ registry: "localhost:5000", implicitRegistry: false, repository: "a/b", tag: "1" });
    expect(parseImageRef("ghcr.io/x/y@sha256:ab")).toMatchObject({ registry: "ghcr.io", repository: "x/y", digest: "sha256:ab" });
    expect(classifyPullError("rpc error: code = NotFound desc = ...: not found")).toBe("not_found");
    expect(classifyPullError("pull access denied, repository does not exist or may require authorization")).toBe("unauthorized");
    expect(classifyPullError("dial tcp: lookup registry.local: no such host")).toBe("unreachable");
    expect(classifyPullError("toomanyrequests: You have reached your pull rate limit")).toBe("rate_limited");
  });

  it("stays silent on other incidents", () => {
    expect(imagePull.analyze(new IncidentView(loadFixture("crashloop-crasher-CrashLoopBackOff")))).toBeUndefined();
  });
});
