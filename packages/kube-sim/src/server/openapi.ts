// Minimal OpenAPI v3 documents: enough for kubectl to see server-side field validation support per GVK.
import { createHash } from "node:crypto";
import type { ResourceType } from "../types.js";
import { groupTypes } from "./discovery.js";

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

function docFor(types: ResourceType[], group: string, version: string): object {
  const paths: Record<string, object> = {};
  for (const t of types.filter((x) => x.group === group && x.version === version)) {
    const base = `/${gvPath(group, version)}${t.namespaced ? "/namespaces/{namespace}" : ""}/${t.resource}/{name}`;
    const gvk = { group, version, kind: t.kind };
    const params = [
      { name: "name", in: "path", required: true, schema: { type: "string", uniqueItems: true } },
      ...(t.namespaced ? [{ name: "namespace", in: "path", required: true, schema: { type: "string", uniqueItems: true } }] : []),
      { name: "dryRun", in: "query", schema: { type: "string", uniqueItems: true } },
      { name: "fieldManager", in: "query", schema: { type: "string", uniqueItems: true } },
      { name: "fieldValidation", in: "query", schema: { type: "string", uniqueItems: true } },
    ];
    paths[base] = {
      patch: {
        operationId: `patch${t.kind}`,
        "x-kubernetes-action": "patch",
        "x-kubernetes-group-version-kind": gvk,
        parameters: params,
        responses: { "200": { description: "OK" } },
      },
    };
  }
  return {
    openapi: "3.0.0",
    info: { title: "Kubernetes", version: "unversioned" },
    paths,
    components: { schemas: {} },
  };
}

/** The `/openapi/v3` index and per group-version documents. */
export function openapiV3(types: ResourceType[], path: string): object | undefined {
  if (path === "" || path === "/") {
    const out: Record<string, { serverRelativeURL: string }> = {};
    for (const g of groupTypes(types)) {
      for (const v of g.versions) {
        const p = gvPath(g.group, v);
        const hash = createHash("sha256").update(JSON.stringify(docFor(types, g.group, v))).digest("hex").slice(0, 32).toUpperCase();
        out[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${hash}` };
      }
    }
    return { paths: out };
  }
  const m = /^\/(?:api\/([^/]+)|apis\/([^/]+)\/([^/]+))$/.exec(path);
  if (!m) return undefined;
  const group = m[1] ? "" : m[2]!;
  const version = m[1] ?? m[3]!;
  if (!types.some((t) => t.group === group && t.version === version)) return undefined;
  return docFor(types, group, version);
}
