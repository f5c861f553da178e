// Recorded incidents (test/analyzer/record-fixtures.ts ran the whole pipeline on the simulator's scenarios):
// loaded through the contract's codec, so a fixture that no longer fits the IncidentContext fails loudly.
import fs from "node:fs";
import path from "node:path";
import { decodeIncidentContext, encodeIncidentContext, type Encodable, type IncidentContext } from "@faro/contracts";

export const FIXTURE_DIR = path.join(import.meta.dirname, "fixtures");

/** Every recorded fixture's name (file name without .json). */
export function fixtureNames(): string[] {
  return fs
    .readdirSync(FIXTURE_DIR)
    .filter((f) => f.endsWith(".json"))
    .map((f) => f.slice(0, -5))
    .sort();
}

export function loadFixture(name: string): IncidentContext {
  const raw = JSON.parse(fs.readFileSync(path.join(FIXTURE_DIR, `${name}.json`), "utf8")) as Encodable<IncidentContext>;
  return decodeIncidentContext(encodeIncidentContext(raw));
}

/** A copy with changes, re-encoded (still a valid IncidentContext). */
export function variant(ic: IncidentContext, change: (copy: IncidentContext) => void): IncidentContext {
  const copy = structuredClone(ic);
  change(copy);
  return decodeIncidentContext(encodeIncidentContext(copy));
}

/** The pod manifest of a fixture, parsed, changed and written back. */
export function withPod(ic: IncidentContext, change: (pod: Record<string, any>) => void): IncidentContext {
  return variant(ic, (c) => {
    const m = c.manifests.find((x) => x.kind === "Pod")!;
    const pod = JSON.parse(m.json) as Record<string, any>;
    change(pod);
    m.json = JSON.stringify(pod);
  });
}
