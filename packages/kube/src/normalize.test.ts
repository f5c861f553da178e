// Unit tests of object normalisation and Secret value stripping.
import { describe, expect, it } from "vitest";
import { LAST_APPLIED_ANNOTATION, normalizeObject, stripSecretValues } from "./normalize.js";

describe("normalizeObject", () => {
  it("makes a client-node list object (Dates, undefined, managedFields) equal to the watch JSON", () => {
    const watchJson = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p", uid: "u1", resourceVersion: "5", creationTimestamp: "2024-05-01T10:00:00Z" },
      status: { startTime: "2024-05-01T10:00:01Z", conditions: [{ type: "Ready", lastTransitionTime: "2024-05-01T10:00:02.250Z" }] },
    };
    const fromList = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: "p",
        uid: "u1",
        resourceVersion: "5",
        creationTimestamp: new Date("2024-05-01T10:00:00Z"),
        managedFields: [{ manager: "kubectl" }],
        labels: undefined,
      },
      spec: undefined,
      status: {
        startTime: new Date("2024-05-01T10:00:01Z"),
        conditions: [{ type: "Ready", lastTransitionTime: new Date("2024-05-01T10:00:02.250Z"), reason: undefined }],
      },
    };
    expect(normalizeObject(fromList)).toEqual(watchJson);
    expect(JSON.stringify(normalizeObject(fromList))).toBe(JSON.stringify(watchJson));
    expect(normalizeObject(watchJson)).toEqual(watchJson);
  });

  it("does not mutate its input", () => {
    const o = { metadata: { name: "x", managedFields: [1] } };
    normalizeObject(o);
    expect(o.metadata.managedFields).toEqual([1]);
  });
});

describe("stripSecretValues", () => {
  const secret = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: "db",
      annotations: { [LAST_APPLIED_ANNOTATION]: '{"data":{"password":"aHVudGVyMg=="}}', team: "a" },
    },
    type: "Opaque",
    data: { password: "aHVudGVyMg==", user: "YWRtaW4=" },
    stringData: { token: "s3cr3t" },
  };

  it("keeps keys, blanks values and drops the last-applied annotation", () => {
    const out = stripSecretValues(secret);
    expect(out.data).toEqual({ password: "", user: "" });
    expect(out.stringData).toEqual({ token: "" });
    expect(out.metadata.annotations).toEqual({ team: "a" });
    expect(out.type).toBe("Opaque");
    const text = JSON.stringify(out);
    for (const v of ["aHVudGVyMg==", "YWRtaW4=", "s3cr3t"]) expect(text).not.toContain(v);
    expect(secret.data.password).toBe("aHVudGVyMg=="); // input untouched
  });

  it("leaves other kinds alone", () => {
    const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" }, data: { a: "b" } };
    expect(stripSecretValues(cm)).toBe(cm);
  });
});
