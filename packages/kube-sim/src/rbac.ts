// Authentication and RBAC authorization of the simulated API server: service-account bearer tokens, the
// Roles/ClusterRoles and bindings the store holds, Forbidden answers worded like the real API server.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { ApiError } from "./errors.js";
import type { KubeObject, Store } from "./types.js";

/** The token of the all-powerful admin kubeconfig the simulator writes. */
export const ADMIN_TOKEN = "kube-sim";
const SA_PREFIX = "kube-sim-sa.";

/** Who sent a request: the admin, or a service account (RBAC applies). */
export type Subject = { kind: "admin" } | { kind: "serviceaccount"; namespace: string; name: string };

/** What a request wants to do, as RBAC sees it. */
export interface RequestAttributes {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

export interface Decision {
  allowed: boolean;
  /** Which binding allowed it (the real authorizer's wording), or why nothing did. */
  reason: string;
}

interface PolicyRule {
  verbs?: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

interface Binding {
  metadata: { name: string; namespace?: string };
  subjects?: { kind: string; name: string; namespace?: string; apiGroup?: string }[];
  roleRef?: { kind: string; name: string; apiGroup?: string };
}

const RBAC = "rbac.authorization.k8s.io";

export const userName = (s: Extract<Subject, { kind: "serviceaccount" }>) => `system:serviceaccount:${s.namespace}:${s.name}`;

/** Issues and checks bearer tokens. Tokens are HMAC-signed with a per-server key, so they die with the server. */
export class TokenIssuer {
  private readonly key: Buffer;
  constructor(key?: Buffer) {
    this.key = key ?? randomBytes(32);
  }

  private sign(payload: string): string {
    return createHmac("sha256", this.key).update(payload).digest("base64url");
  }

  /** A bearer token that authenticates as `system:serviceaccount:<namespace>:<name>`. */
  serviceAccountToken(namespace: string, name: string): string {
    const payload = Buffer.from(JSON.stringify({ ns: namespace, sa: name })).toString("base64url");
    return `${SA_PREFIX}${payload}.${this.sign(payload)}`;
  }

  /**
   * The subject of an Authorization header. No header or the admin token is the admin (clients that send
   * no credentials keep working); anything else that is not a token this server issued is 401.
   */
  authenticate(header: string | undefined): Subject {
    if (!header) return { kind: "admin" };
    const m = /^Bearer\s+(\S+)$/i.exec(header.trim());
    if (!m) throw unauthorized();
    const token = m[1]!;
    if (token === ADMIN_TOKEN) return { kind: "admin" };
    if (!token.startsWith(SA_PREFIX)) throw unauthorized();
    const [payload, sig] = token.slice(SA_PREFIX.length).split(".");
    if (!payload || !sig) throw unauthorized();
    const want = Buffer.from(this.sign(payload));
    const got = Buffer.from(sig);
    if (want.length !== got.length || !timingSafeEqual(want, got)) throw unauthorized();
    try {
      const { ns, sa } = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { ns: string; sa: string };
      return { kind: "serviceaccount", namespace: ns, name: sa };
    } catch (err) {
      throw unauthorized(err);
    }
  }
}

function unauthorized(cause?: unknown): ApiError {
  return new ApiError(401, "Unauthorized", "Unauthorized", undefined, { cause });
}

const has = (list: string[] | undefined, v: string) => !!list && (list.includes("*") || list.includes(v));

function resourceMatches(rule: PolicyRule, a: RequestAttributes): boolean {
  const full = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const rs = rule.resources ?? [];
  if (!(rs.includes("*") || rs.includes(full) || (a.subresource !== undefined && rs.includes(`*/${a.subresource}`)))) return false;
  if (rule.resourceNames && rule.resourceNames.length > 0) return a.name !== undefined && rule.resourceNames.includes(a.name);
  return true;
}

export function ruleAllows(rule: PolicyRule, a: RequestAttributes): boolean {
  return has(rule.verbs, a.verb) && has(rule.apiGroups, a.group) && resourceMatches(rule, a);
}

function subjectMatches(b: Binding, s: Extract<Subject, { kind: "serviceaccount" }>): boolean {
  const user = userName(s);
  const groups = ["system:serviceaccounts", `system:serviceaccounts:${s.namespace}`, "system:authenticated"];
  return (b.subjects ?? []).some(
    (x) =>
      (x.kind === "ServiceAccount" && x.name === s.name && (x.namespace ?? b.metadata.namespace) === s.namespace) ||
      (x.kind === "User" && x.name === user) ||
      (x.kind === "Group" && groups.includes(x.name)),
  );
}

/** One binding that applies to the subject, with the rules of the role it names. */
interface Grant {
  binding: KubeObject & Binding;
  bindingKind: "ClusterRoleBinding" | "RoleBinding";
  roleKind: string;
  rules: PolicyRule[];
  /** undefined: cluster-wide (ClusterRoleBinding); otherwise the RoleBinding's namespace. */
  namespace?: string;
}

/** Evaluates requests against the RBAC objects held by the store (read on every request, so edits apply at once). */
export class Authorizer {
  constructor(private readonly store: Store) {}

  private list(resource: string, namespace?: string): KubeObject[] {
    const t = this.store.types().find((x) => x.group === RBAC && x.resource === resource);
    return t ? this.store.list(t, namespace) : [];
  }

  private rulesOf(kind: string, name: string, namespace: string | undefined): PolicyRule[] {
    const res = kind === "ClusterRole" ? "clusterroles" : "roles";
    const role = this.list(res, kind === "ClusterRole" ? undefined : namespace).find((r) => r.metadata.name === name);
    return ((role as { rules?: PolicyRule[] } | undefined)?.rules ?? []) as PolicyRule[];
  }

  /** Every grant that applies to the subject in `namespace` (cluster-wide ones always). */
  grants(s: Extract<Subject, { kind: "serviceaccount" }>, namespace: string | undefined): Grant[] {
    const out: Grant[] = [];
    for (const b of this.list("clusterrolebindings") as (KubeObject & Binding)[]) {
      if (!b.roleRef || b.roleRef.kind !== "ClusterRole" || !subjectMatches(b, s)) continue;
      out.push({ binding: b, bindingKind: "ClusterRoleBinding", roleKind: "ClusterRole", rules: this.rulesOf("ClusterRole", b.roleRef.name, undefined) });
    }
    if (namespace !== undefined) {
      for (const b of this.list("rolebindings", namespace) as (KubeObject & Binding)[]) {
        if (!b.roleRef || !subjectMatches(b, s)) continue;
        out.push({ binding: b, bindingKind: "RoleBinding", roleKind: b.roleRef.kind, rules: this.rulesOf(b.roleRef.kind, b.roleRef.name, namespace), namespace });
      }
    }
    return out;
  }

  authorize(s: Subject, a: RequestAttributes): Decision {
    if (s.kind === "admin") return { allowed: true, reason: "kube-sim admin" };
    for (const g of this.grants(s, a.namespace)) {
      if (g.rules.some((r) => ruleAllows(r, a))) {
        const where = g.namespace ? ` in namespace "${g.namespace}"` : "";
        return {
          allowed: true,
          reason: `RBAC: allowed by ${g.bindingKind} "${g.binding.metadata.name}" of ${g.roleKind} "${g.binding.roleRef!.name}" to ServiceAccount "${s.name}/${s.namespace}"${where}`,
        };
      }
    }
    return { allowed: false, reason: "" };
  }

  /** The rules that apply in a namespace, as SelfSubjectRulesReview reports them. */
  rules(s: Subject, namespace: string): PolicyRule[] {
    if (s.kind === "admin") return [{ verbs: ["*"], apiGroups: ["*"], resources: ["*"] }];
    return this.grants(s, namespace).flatMap((g) => g.rules);
  }
}

/** 403 exactly as the API server words it. */
export function forbidden(s: Subject, a: RequestAttributes): ApiError {
  const user = s.kind === "admin" ? "kube-sim" : userName(s);
  const qualified = a.group ? `${a.resource}.${a.group}` : a.resource;
  const what = a.name ? `${qualified} "${a.name}"` : qualified;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const scope = a.namespace !== undefined ? `in the namespace "${a.namespace}"` : "at the cluster scope";
  return new ApiError(403, "Forbidden", `${what} is forbidden: User "${user}" cannot ${a.verb} resource "${resource}" in API group "${a.group}" ${scope}`, {
    name: a.name,
    group: a.group || undefined,
    kind: a.resource,
  });
}
