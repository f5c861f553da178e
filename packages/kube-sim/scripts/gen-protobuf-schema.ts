// Generates src/server/protobuf-schema.json (field numbers, names and types of the built-in kinds' protobuf
// messages) from the generated.proto files of k8s.io/api and k8s.io/apimachinery checkouts.
// Usage: tsx packages/kube-sim/scripts/gen-protobuf-schema.ts <k8s.io/api dir> <k8s.io/apimachinery dir>
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const [apiDir, machineryDir] = process.argv.slice(2);
if (!apiDir || !machineryDir) {
  console.error("usage: gen-protobuf-schema.ts <k8s.io/api dir> <k8s.io/apimachinery dir>");
  process.exit(2);
}

/** API group → the k8s.io/api directory holding its generated.proto (versions the simulator may serve). */
const groups: Record<string, string> = {
  "": "core",
  apps: "apps",
  batch: "batch",
  autoscaling: "autoscaling",
  "events.k8s.io": "events",
  "coordination.k8s.io": "coordination",
  "rbac.authorization.k8s.io": "rbac",
  "authorization.k8s.io": "authorization",
  "authentication.k8s.io": "authentication",
  "networking.k8s.io": "networking",
  "policy": "policy",
  "discovery.k8s.io": "discovery",
  "storage.k8s.io": "storage",
  "scheduling.k8s.io": "scheduling",
};
const versions = ["v1", "v2"];
const machinery = ["pkg/api/resource", "pkg/apis/meta/v1", "pkg/runtime", "pkg/runtime/schema", "pkg/util/intstr"];

type Field = [number, string, "o" | "r" | "m", string];
const messages: Record<string, Field[]> = {};
const kinds: Record<string, string> = {};
const scalars = new Set(["string", "bytes", "bool", "int32", "int64", "uint32", "uint64", "double", "float", "fixed64", "fixed32", "sint32", "sint64"]);

function parse(file: string): string {
  const text = fs.readFileSync(file, "utf8").replace(/\/\/[^\n]*/g, "");
  const pkg = /package\s+([\w.]+)\s*;/.exec(text)![1]!;
  const resolve = (t: string) => (scalars.has(t) ? t : t.startsWith(".") ? t.slice(1) : `${pkg}.${t}`);
  for (const m of text.matchAll(/message\s+(\w+)\s*\{([^}]*)\}/g)) {
    const fields: Field[] = [];
    for (const f of m[2]!.matchAll(/(optional|repeated)\s+([\w.]+)\s+(\w+)\s*=\s*(\d+)/g)) {
      fields.push([Number(f[4]), f[3]!, f[1] === "repeated" ? "r" : "o", resolve(f[2]!)]);
    }
    for (const f of m[2]!.matchAll(/map<\s*([\w.]+)\s*,\s*([\w.]+)\s*>\s+(\w+)\s*=\s*(\d+)/g)) {
      fields.push([Number(f[4]), f[3]!, "m", `${resolve(f[1]!)},${resolve(f[2]!)}`]);
    }
    messages[`${pkg}.${m[1]}`] = fields.sort((a, b) => a[0] - b[0]);
  }
  return pkg;
}

for (const [group, dir] of Object.entries(groups)) {
  for (const v of versions) {
    const file = path.join(apiDir, dir, v, "generated.proto");
    if (!fs.existsSync(file)) continue;
    const pkg = parse(file);
    const av = group ? `${group}/${v}` : v;
    for (const name of Object.keys(messages)) {
      if (name.startsWith(`${pkg}.`) && !name.slice(pkg.length + 1).includes(".")) kinds[`${av}/${name.slice(pkg.length + 1)}`] = name;
    }
  }
}
for (const d of machinery) parse(path.join(machineryDir, d, "generated.proto"));

const out = path.join(path.dirname(fileURLToPath(import.meta.url)), "../src/server/protobuf-schema.json");
fs.writeFileSync(out, JSON.stringify({ kinds, messages }) + "\n");
console.log(`${Object.keys(messages).length} messages, ${Object.keys(kinds).length} kinds → ${out}`);
