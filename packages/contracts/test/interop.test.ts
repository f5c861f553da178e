// faro.proto with stock protoc (docs/subjects.md, "Decoding from Go and Python"): bytes our codecs write
// decode with `protoc --decode` to the field set toCanonicalJson renders, `protoc --python_out` generates
// importable code whose json_format output equals toCanonicalJson, and `protoc --go_out` honours
// go_package. Each part skips visibly when its tools (protoc, python3 with google.protobuf,
// protoc-gen-go) are missing: scripts/setup.sh does not install them and `npm test` does not need them.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  PROTO_PATH,
  encodeDeadLetter,
  encodeIncidentContext,
  encodeKubeEvent,
  encodeLogBatch,
  encodeResourceChange,
  encodeStoryEntry,
  decodeDeadLetter,
  decodeIncidentContext,
  decodeKubeEvent,
  decodeLogBatch,
  decodeResourceChange,
  decodeStoryEntry,
  toCanonicalJson,
} from "../src/index.js";
import { samples, storyEntryCases } from "./fixtures.js";

const protoDir = path.dirname(PROTO_PATH);
const works = (cmd: string, args: string[]) => {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return !r.error && r.status === 0;
};
const protoc = works("protoc", ["--version"]);
// The first python3 that has the protobuf runtime (pyenv's may lack it where Debian's has python3-protobuf).
const pythons = [...new Set(["python3", "/usr/bin/python3"])].filter((p) => works(p, ["--version"]));
const pythonWithProtobuf = pythons.find((p) => works(p, ["-c", "import google.protobuf.json_format"]));
const protocGenGo = works("sh", ["-c", "command -v protoc-gen-go"]);

function skipped(what: string, missing: string | undefined): string {
  if (!missing) return what;
  console.warn(`[contracts interop] skipping "${what}": ${missing}`);
  return `${what} (skipped: ${missing})`;
}
const NO_PROTOC = protoc ? undefined : "protoc not found (apt-get install protobuf-compiler)";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "faro-interop-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

// Bytes as our producers write them, and the message as our consumers decode it.
const wire = {
  ResourceChange: encodeResourceChange(samples.ResourceChange),
  KubeEvent: encodeKubeEvent(samples.KubeEvent),
  LogBatch: encodeLogBatch(samples.LogBatch),
  StoryEntry: encodeStoryEntry(samples.StoryEntry),
  IncidentContext: encodeIncidentContext(samples.IncidentContext),
  DeadLetter: encodeDeadLetter(samples.DeadLetter),
};
const canonical = {
  ResourceChange: toCanonicalJson("ResourceChange", decodeResourceChange(wire.ResourceChange)),
  KubeEvent: toCanonicalJson("KubeEvent", decodeKubeEvent(wire.KubeEvent)),
  LogBatch: toCanonicalJson("LogBatch", decodeLogBatch(wire.LogBatch)),
  StoryEntry: toCanonicalJson("StoryEntry", decodeStoryEntry(wire.StoryEntry)),
  IncidentContext: toCanonicalJson("IncidentContext", decodeIncidentContext(wire.IncidentContext)),
  DeadLetter: toCanonicalJson("DeadLetter", decodeDeadLetter(wire.DeadLetter)),
};
const typeNames = Object.keys(wire) as (keyof typeof wire)[];

const lowerCamel = (snake: string) => snake.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

describe("faro.proto with stock protoc", () => {
  it.skipIf(!protoc)(skipped("protoc --decode shows exactly the fields toCanonicalJson renders", NO_PROTOC), () => {
    for (const type of typeNames) {
      const r = spawnSync("protoc", [`--decode=faro.v1.${type}`, `-I${protoDir}`, "faro.proto"], { input: wire[type], encoding: "utf8" });
      expect(r.status, `${type}: ${r.stderr}`).toBe(0);
      // Top-level lines of the text format: `name: value` for scalars, `name {` for messages and map entries.
      const top = [...r.stdout.matchAll(/^([a-z0-9_]+)(?:: (.*)| \{)$/gm)];
      const names = [...new Set(top.map((m) => lowerCamel(m[1]!)))].sort();
      expect(names, type).toEqual(Object.keys(canonical[type]).sort());
      for (const [, name, value] of top) {
        if (value === undefined || value.startsWith('"')) continue; // strings: protoc escapes non-ASCII bytes
        expect(String(canonical[type][lowerCamel(name!)]), `${type}.${name}`).toBe(value);
      }
    }
  });

  it.skipIf(!protoc)(skipped("protoc --python_out generates a module Python compiles", NO_PROTOC), () => {
    const out = path.join(tmp, "py");
    fs.mkdirSync(out);
    const r = spawnSync("protoc", [`-I${protoDir}`, `--python_out=${out}`, "faro.proto"], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(fs.existsSync(path.join(out, "faro_pb2.py"))).toBe(true);
    if (pythons.length === 0) {
      console.warn("[contracts interop] python3 not found: faro_pb2.py generated but not compiled");
      return;
    }
    const c = spawnSync(pythons[0]!, ["-m", "py_compile", path.join(out, "faro_pb2.py")], { encoding: "utf8" });
    expect(c.status, c.stderr).toBe(0);
  });

  const NO_PY = NO_PROTOC ?? (pythonWithProtobuf ? undefined : "no python3 with the protobuf runtime (apt-get install python3-protobuf)");
  it.skipIf(NO_PY !== undefined)(skipped("Python's json_format renders our bytes exactly as toCanonicalJson does", NO_PY), () => {
    const out = path.join(tmp, "py-json");
    fs.mkdirSync(out);
    const r = spawnSync("protoc", [`-I${protoDir}`, `--python_out=${out}`, "faro.proto"], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    for (const type of typeNames) fs.writeFileSync(path.join(out, `${type}.bin`), wire[type]);
    const script = [
      "import json, sys",
      `sys.path.insert(0, ${JSON.stringify(out)})`,
      "import faro_pb2",
      "from google.protobuf import json_format",
      "out = {}",
      `for name in ${JSON.stringify(typeNames)}:`,
      "    msg = getattr(faro_pb2, name)()",
      `    msg.ParseFromString(open(${JSON.stringify(out)} + "/" + name + ".bin", "rb").read())`,
      "    out[name] = json_format.MessageToDict(msg)",
      "print(json.dumps(out))",
    ].join("\n");
    const py = spawnSync(pythonWithProtobuf!, ["-c", script], { encoding: "utf8" });
    expect(py.status, py.stderr).toBe(0);
    expect(JSON.parse(py.stdout)).toEqual(canonical);
  });

  it.skipIf(NO_PY !== undefined)(skipped("Python's json_format renders every StoryEntry payload case as toCanonicalJson does", NO_PY), () => {
    const out = path.join(tmp, "py-story");
    fs.mkdirSync(out);
    const r = spawnSync("protoc", [`-I${protoDir}`, `--python_out=${out}`, "faro.proto"], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    storyEntryCases.forEach((e, i) => fs.writeFileSync(path.join(out, `${i}.bin`), encodeStoryEntry(e)));
    const script = [
      "import json, sys",
      `sys.path.insert(0, ${JSON.stringify(out)})`,
      "import faro_pb2",
      "from google.protobuf import json_format",
      "out = []",
      `for i in range(${storyEntryCases.length}):`,
      "    msg = faro_pb2.StoryEntry()",
      `    msg.ParseFromString(open(${JSON.stringify(out)} + "/" + str(i) + ".bin", "rb").read())`,
      "    out.append([msg.WhichOneof('payload'), json_format.MessageToDict(msg)])",
      "print(json.dumps(out))",
    ].join("\n");
    const py = spawnSync(pythonWithProtobuf!, ["-c", script], { encoding: "utf8" });
    expect(py.status, py.stderr).toBe(0);
    const ours = storyEntryCases.map((e) => [e.entryKind, toCanonicalJson("StoryEntry", decodeStoryEntry(encodeStoryEntry(e)))]);
    expect(JSON.parse(py.stdout)).toEqual(ours);
  });

  const NO_GO = NO_PROTOC ?? (protocGenGo ? undefined : "protoc-gen-go not on PATH (go install google.golang.org/protobuf/cmd/protoc-gen-go@latest)");
  it.skipIf(NO_GO !== undefined)(skipped("protoc --go_out writes package farov1 at the go_package path", NO_GO), () => {
    const out = path.join(tmp, "go");
    fs.mkdirSync(out);
    const r = spawnSync("protoc", [`-I${protoDir}`, `--go_out=${out}`, "faro.proto"], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    const file = path.join(out, "github.com", "faro-dev", "faro", "gen", "go", "farov1", "faro.pb.go");
    expect(fs.readFileSync(file, "utf8")).toMatch(/^package farov1$/m);
  });
});
