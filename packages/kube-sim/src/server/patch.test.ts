// Unit tests of the patch algorithms: merge patch, JSON patch and strategic merge patch directives.
import { describe, expect, it } from "vitest";
import { jsonPatch, mergePatch, strategicMergePatch } from "./patch.js";

describe("patch", () => {
  it("merge patch merges maps, deletes on null and replaces lists", () => {
    expect(mergePatch({ a: { b: 1, c: 2 }, l: [1, 2] }, { a: { b: null, d: 3 }, l: [3] })).toEqual({ a: { c: 2, d: 3 }, l: [3] });
  });

  it("json patch supports add/remove/replace/move/copy/test", () => {
    const out = jsonPatch({ a: [1, 2], b: { c: 1 } }, [
      { op: "add", path: "/a/-", value: 3 },
      { op: "remove", path: "/a/0" },
      { op: "replace", path: "/b/c", value: 2 },
      { op: "copy", from: "/b/c", path: "/d" },
      { op: "move", from: "/d", path: "/e~1f" },
      { op: "test", path: "/e~1f", value: 2 },
    ]);
    expect(out).toEqual({ a: [2, 3], b: { c: 2 }, "e/f": 2 });
    expect(() => jsonPatch({}, [{ op: "remove", path: "/nope" }])).toThrow(/missing path/);
  });

  it("strategic merge patch merges keyed lists and honours directives", () => {
    const target = {
      containers: [
        { name: "a", image: "1", ports: [{ containerPort: 80 }], volumeMounts: [{ name: "v", mountPath: "/x" }] },
        { name: "b", image: "1" },
      ],
      finalizers: ["f1", "f2"],
      tolerations: [{ key: "k" }],
    };
    const out = strategicMergePatch(target, {
      $setElementOrder_ignored: 1,
      "$setElementOrder/containers": [{ name: "b" }, { name: "a" }],
      containers: [{ name: "a", ports: [{ containerPort: 81 }], volumeMounts: [{ mountPath: "/x", readOnly: true }] }],
      "$deleteFromPrimitiveList/finalizers": ["f1"],
      tolerations: [{ key: "z" }],
    }) as typeof target;
    expect(out.containers.map((c) => c.name)).toEqual(["b", "a"]);
    expect(out.containers[1]).toEqual({ name: "a", image: "1", ports: [{ containerPort: 80 }, { containerPort: 81 }], volumeMounts: [{ name: "v", mountPath: "/x", readOnly: true }] });
    expect(out.finalizers).toEqual(["f2"]);
    expect(out.tolerations).toEqual([{ key: "z" }]);
    expect(strategicMergePatch({ spec: { a: 1, b: 2 } }, { spec: { $patch: "replace", c: 3 } })).toEqual({ spec: { c: 3 } });
    expect(strategicMergePatch({ env: [{ name: "A" }, { name: "B" }] }, { env: [{ $patch: "replace" }, { name: "C" }] })).toEqual({ env: [{ name: "C" }] });
  });
});
