// Ownership graph in Redis and root-workload resolution that tolerates owners arriving after their dependents.
import type { Logger } from "pino";
import { controllerOf, type ObjectJson, type OwnerReferenceJson } from "./k8s.js";
import type { CorrelatorState, OwnerRecord } from "./state.js";

export interface ChainLink {
  apiVersion: string;
  kind: string;
  name: string;
  /** "" when the link is inferred from a name and its object was never seen. */
  uid: string;
}

export interface Resolution {
  /** The object itself first, the root workload last. */
  chain: ChainLink[];
  root: ChainLink;
}

/** Reads an owner from the Kubernetes API (read-only GET); undefined when it does not exist. */
export type OwnerFetcher = (ref: { apiVersion: string; kind: string; namespace: string; name: string }) => Promise<ObjectJson | undefined>;

export interface OwnershipOptions {
  state: CorrelatorState;
  fetchOwner?: OwnerFetcher;
  ttlMs: number;
  logger?: Logger;
  /** Called when an owner had to be fetched or guessed (metric). */
  onLookup?: (how: "fetched" | "guessed" | "missing") => void;
  /** Owner chains kept in process (default 10,000); the oldest goes first. */
  cacheMax?: number;
  /** Called with the cache's size after it changed (metric). */
  onCacheSize?: (entries: number) => void;
}

const MAX_DEPTH = 10;
// Owner chains change only when controllers adopt or orphan objects; a short in-process cache of the
// chain above each owner saves Redis round trips for every log batch and status update.
const CACHE_TTL_MS = 30_000;
export const DEFAULT_OWNER_CACHE_MAX = 10_000;

export function ownerRecordOf(obj: ObjectJson, refs: readonly OwnerReferenceJson[] | undefined): OwnerRecord {
  const owner = controllerOf(refs);
  return {
    apiVersion: obj.apiVersion ?? "",
    kind: obj.kind ?? "",
    namespace: obj.metadata?.namespace ?? "",
    name: obj.metadata?.name ?? "",
    ownerUid: owner?.uid ?? "",
    ownerKind: owner?.kind ?? "",
    ownerName: owner?.name ?? "",
    ownerApiVersion: owner?.apiVersion ?? "",
  };
}

/**
 * When an owner can be neither found nor fetched, the usual controllers' naming tells its parent:
 * ReplicaSet "<deployment>-<pod-template-hash>", Job "<cronjob>-<scheduled minutes>".
 */
export function guessParent(kind: string, name: string): ChainLink | undefined {
  if (kind === "ReplicaSet") {
    const m = /^(.+)-[bcdfghjklmnpqrstvwxz2456789]{6,10}$/.exec(name);
    if (m) return { apiVersion: "apps/v1", kind: "Deployment", name: m[1]!, uid: "" };
  }
  if (kind === "Job") {
    const m = /^(.+)-\d{8,10}$/.exec(name);
    if (m) return { apiVersion: "batch/v1", kind: "CronJob", name: m[1]!, uid: "" };
  }
  return undefined;
}

export class Ownership {
  private readonly cache = new Map<string, { links: ChainLink[]; until: number }>();

  constructor(private readonly opts: OwnershipOptions) {}

  /** Records an object's controller owner; called for every object change so the graph fills itself. */
  async record(cluster: string, uid: string, rec: OwnerRecord): Promise<void> {
    if (!uid) return;
    await this.opts.state.putOwner(cluster, uid, rec, this.opts.ttlMs);
  }

  /** Walks controller owners from `start` to the root, fetching (and caching) owners not seen yet. */
  async resolve(cluster: string, namespace: string, start: ChainLink, startOwners: readonly OwnerReferenceJson[] | undefined): Promise<Resolution> {
    const first = controllerOf(startOwners);
    if (!first) return { chain: [start], root: start };
    const key = `${cluster}/${first.uid}`;
    const hit = this.cache.get(key);
    if (hit && hit.until > Date.now()) {
      const chain = [start, ...hit.links];
      return { chain, root: chain[chain.length - 1]! };
    }
    if (hit) {
      this.cache.delete(key);
      this.opts.onCacheSize?.(this.cache.size);
    }
    const { chain, root, complete } = await this.walk(cluster, namespace, start, first);
    if (complete) {
      const max = this.opts.cacheMax ?? DEFAULT_OWNER_CACHE_MAX;
      while (this.cache.size >= max && this.cache.size > 0) this.cache.delete(this.cache.keys().next().value!);
      if (max > 0) this.cache.set(key, { links: chain.slice(1), until: Date.now() + CACHE_TTL_MS });
      this.opts.onCacheSize?.(this.cache.size);
    }
    return { chain, root };
  }

  private async walk(cluster: string, namespace: string, start: ChainLink, firstOwner: OwnerReferenceJson): Promise<Resolution & { complete: boolean }> {
    const chain: ChainLink[] = [start];
    let complete = true;
    let owner: OwnerReferenceJson | undefined = firstOwner;
    let current = start;
    for (let depth = 0; owner && depth < MAX_DEPTH; depth++) {
      const link: ChainLink = { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.name, uid: owner.uid };
      const known = await this.opts.state.getOwner(cluster, owner.uid);
      if (known) {
        chain.push(link);
        current = link;
        owner = known.ownerUid
          ? { apiVersion: known.ownerApiVersion, kind: known.ownerKind, name: known.ownerName, uid: known.ownerUid, controller: true }
          : undefined;
        continue;
      }
      const fetched = await this.fetch(namespace, owner);
      if (fetched) {
        const refs = fetched.metadata?.ownerReferences;
        await this.record(cluster, owner.uid, ownerRecordOf({ ...fetched, apiVersion: fetched.apiVersion ?? owner.apiVersion, kind: fetched.kind ?? owner.kind }, refs));
        this.opts.onLookup?.("fetched");
        chain.push(link);
        current = link;
        owner = controllerOf(refs);
        continue;
      }
      // Unknown owner: keep it in the chain and continue by naming convention when one applies.
      complete = false;
      chain.push(link);
      current = link;
      const parent = guessParent(owner.kind, owner.name);
      this.opts.onLookup?.(parent ? "guessed" : "missing");
      if (parent) {
        chain.push(parent);
        current = parent;
      }
      owner = undefined;
    }
    return { chain, root: current, complete };
  }

  /**
   * Owners of an object not in the graph (e.g. an Event's involved object seen first): read from the API
   * and recorded. Undefined when the object can be neither found nor read.
   */
  async ownersOf(cluster: string, namespace: string, link: ChainLink): Promise<OwnerReferenceJson[] | undefined> {
    if (!link.uid || !link.kind) return [];
    const obj = await this.fetch(namespace, { apiVersion: link.apiVersion, kind: link.kind, name: link.name, uid: link.uid });
    if (!obj) return undefined;
    const refs = obj.metadata?.ownerReferences ?? [];
    await this.record(cluster, link.uid, ownerRecordOf({ ...obj, apiVersion: obj.apiVersion ?? link.apiVersion, kind: obj.kind ?? link.kind }, refs));
    this.opts.onLookup?.("fetched");
    return refs;
  }

  private async fetch(namespace: string, ref: OwnerReferenceJson): Promise<ObjectJson | undefined> {
    if (!this.opts.fetchOwner) return undefined;
    try {
      const obj = await this.opts.fetchOwner({ apiVersion: ref.apiVersion, kind: ref.kind, namespace, name: ref.name });
      // A same-named object with another uid is a different (re-created) owner: not ours.
      if (obj && obj.metadata?.uid && obj.metadata.uid !== ref.uid) return undefined;
      return obj;
    } catch (err) {
      this.opts.logger?.warn({ err, owner: ref }, "fetching an owner failed; resolving by name");
      return undefined;
    }
  }
}
