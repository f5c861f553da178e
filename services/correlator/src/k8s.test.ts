// Unit tests of the Kubernetes-clock time of an object change.
import { describe, expect, it } from "vitest";
import { objectTimestamp } from "./k8s.js";

describe("objectTimestamp", () => {
  it("takes the newest timestamp of metadata and status", () => {
    const obj = {
      metadata: { creationTimestamp: "2026-01-01T00:00:00Z" },
      status: { conditions: [{ lastTransitionTime: "2026-01-01T00:00:05Z" }], containerStatuses: [{ state: { running: { startedAt: "2026-01-01T00:00:03Z" } } }] },
    };
    expect(objectTimestamp(obj)).toBe(Date.parse("2026-01-01T00:00:05Z"));
  });

  it("ignores deletionTimestamp, which lies a grace period in the future", () => {
    const obj = {
      metadata: { creationTimestamp: "2026-01-01T00:00:00Z", deletionTimestamp: "2026-01-01T00:00:40Z" },
      status: { conditions: [{ lastTransitionTime: "2026-01-01T00:00:10Z" }] },
    };
    expect(objectTimestamp(obj)).toBe(Date.parse("2026-01-01T00:00:10Z"));
  });
});
