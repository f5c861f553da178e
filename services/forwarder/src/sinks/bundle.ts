// Where the bundle of an incident revision goes in a directory or a bucket: `<cluster>/<namespace>/<incidentId>/<repeatCount>.json`,
// each segment escaped like a subject token (one safe path segment whatever it holds).
import { escapeToken } from "@faro/contracts";
import type { Delivery } from "../incident.js";

export function bundleSegments(d: Delivery): string[] {
  const i = d.incident;
  return [escapeToken(i.cluster), escapeToken(i.namespace), escapeToken(i.incidentId), `${i.repeatCount}.json`];
}
