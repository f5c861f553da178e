// Generic GET of one object by apiVersion + kind (or plural resource), e.g. for the correlator to
// fetch owners; kinds are mapped to resources through discovery of that group version, cached.
import type { KubeAccess } from "./config.js";
import type { ResourceInfo } from "./discovery.js";
import { findResource } from "./discovery.js";
import { UnknownResourceError } from "./errors.js";
import { requestJson } from "./http.js";
import { normalizeObject, stripSecretValues } from "./normalize.js";
import { resourcePath, type KubeObject } from "./watch.js";

interface APIResourceList {
  resources: { name: string; singularName?: string; namespaced: boolean; kind: string; verbs?: string[]; shortNames?: string[] }[];
}

const gvCache = new WeakMap<KubeAccess, Map<string, Promise<ResourceInfo[]>>>();

async function groupVersionResources(kc: KubeAccess, apiVersion: string): Promise<ResourceInfo[]> {
  let perKc = gvCache.get(kc);
  if (!perKc) gvCache.set(kc, (perKc = new Map()));
  let p = perKc.get(apiVersion);
  if (!p) {
    const [group, version] = apiVersion.includes("/") ? (apiVersion.split("/") as [string, string]) : ["", apiVersion];
    p = requestJson<APIResourceList>(kc, { path: group ? `/apis/${apiVersion}` : `/api/${version}` }).then((l) =>
      l.resources
        .filter((r) => !r.name.includes("/"))
        .map((r) => ({
          group,
          version,
          resource: r.name,
          kind: r.kind,
          namespaced: r.namespaced,
          verbs: r.verbs ?? [],
          apiVersion,
          singular: r.singularName || r.kind.toLowerCase(),
          shortNames: r.shortNames ?? [],
        })),
    );
    // a failed lookup (e.g. a CRD not yet served) must not be cached
    p.catch(() => perKc!.delete(apiVersion));
    perKc.set(apiVersion, p);
  }
  return p;
}

export interface GetObjectOptions {
  /** Known resources (e.g. DiscoveryCache.resources) to map kind → resource without a request. */
  resources?: readonly ResourceInfo[];
  signal?: AbortSignal;
}

/**
 * GETs one object; returns undefined when it does not exist (404). The result is normalised and,
 * for Secrets, stripped of values.
 */
export async function getObject(
  kc: KubeAccess,
  apiVersion: string,
  kindOrResource: string,
  namespace: string | undefined,
  name: string,
  opts: GetObjectOptions = {},
): Promise<KubeObject | undefined> {
  let info = opts.resources ? findResource(opts.resources, apiVersion, kindOrResource) : undefined;
  if (!info) {
    let list: ResourceInfo[];
    try {
      list = await groupVersionResources(kc, apiVersion);
    } catch (err) {
      throw new UnknownResourceError(`${kindOrResource} (${apiVersion})`, { cause: err });
    }
    info = findResource(list, apiVersion, kindOrResource);
  }
  if (!info) throw new UnknownResourceError(`${kindOrResource} (${apiVersion})`);
  const path = `${resourcePath(info, namespace)}/${encodeURIComponent(name)}`;
  try {
    const obj = await requestJson<KubeObject>(kc, { path, signal: opts.signal });
    return stripSecretValues(normalizeObject(obj));
  } catch (err) {
    if ((err as { code?: number }).code === 404 && (err as Error).name === "KubeApiError") return undefined;
    throw err;
  }
}
