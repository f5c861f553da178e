// The watcher's configuration schema: what to watch (resources, namespaces, per-namespace sets) and where to
// remember what was published. Publishing (publish.window/timeout/retryFor) and provisioning FARO_RAW
// (nats.provision) are common settings of every service (@faro/config).
import { defineSchema, field, type ConfigOf } from "@faro/config";

/**
 * Resource types left out of `*` by default: they change every few seconds on a healthy cluster
 * (lease renewals, endpoint churn on every readiness flip) and tell no workload story of their own.
 * Naming one of them explicitly in `resources` or a scope still watches it.
 */
export const DEFAULT_EXCLUDED_RESOURCES = ["leases.coordination.k8s.io", "endpoints", "endpointslices.discovery.k8s.io"] as const;

export const configSchema = defineSchema(
  "watcher",
  {
    resources: field.list({
      description:
        "Resource types watched in every namespace selected by `namespaces.include` (and the cluster-scoped ones): `pods`, `deployments.apps`, `widgets.example.com`, or `*` for everything that supports list+watch. Specs that match nothing yet (a CRD not created yet) are picked up when it appears. Empty = only `scopes`.",
      default: ["*"],
      example: ["pods", "deployments.apps", "widgets.example.com"],
    }),
    excludeResources: field.list({
      description:
        "Resource types never watched through `*` (an explicit name in `resources` or a scope still wins). Kubernetes Events are governed by `events.enabled`, not by this list.",
      default: [...DEFAULT_EXCLUDED_RESOURCES],
      example: ["leases.coordination.k8s.io", "endpoints"],
    }),
    namespaces: field.object(
      {
        include: field.list({
          description: "Namespaces whose objects `resources` covers: name patterns (docs/patterns.md) — exact names, globs (`prod-*`), `/RE2 regex/` (`/…/i` ignores case), or `all`/`*`.",
          default: ["all"],
          example: ["prod-*", "payments"],
        }),
        exclude: field.list({
          description: "Namespaces never published, whatever `include` or a scope says (same pattern syntax).",
          default: [],
          example: ["kube-system", "/^tmp-/"],
        }),
      },
      { description: "Namespace selection. Watches are cluster-wide and filtered here, so namespaces created later are covered at once." },
    ),
    scopes: field.array(
      field.object(
        {
          namespaces: field.list({ description: "Namespaces this set applies to (name patterns: names, globs, /RE2 regex/, all).", example: ["team-a"] }),
          excludeNamespaces: field.list({ description: "Namespaces excluded from this set only (same pattern syntax).", default: [] }),
          resources: field.list({ description: "Resource types watched in those namespaces.", example: ["deployments.apps", "pods"] }),
        },
        { description: "One per-namespace resource set." },
      ),
      {
        description:
          "Per-namespace resource sets, added to `resources`: namespace A can watch deployments and pods while B watches only a CRD. Cluster-scoped types named here are watched too.",
        default: [],
        example: [
          { namespaces: ["team-a"], resources: ["deployments.apps", "pods"] },
          { namespaces: ["team-b-*"], resources: ["widgets.example.com"] },
        ],
      },
    ),
    events: field.object(
      {
        enabled: field.boolean({
          description: "Publish Kubernetes Events (core/v1) of the selected namespaces, with the involved object's identity.",
          default: true,
          example: false,
        }),
        labelMemory: field.int({
          description:
            "Objects whose labels the watcher remembers (uid → labels, identical label sets stored once, also kept in the Redis state so a restart knows them) to attach them to Events about those objects (`involvedLabels`), which tenant rules on `labels` match. Past the bound the object remembered longest ago is forgotten (faro_watcher_label_memory_evictions_total); 0 turns it off. An Event about an object not seen yet is published without labels. Gauge: faro_queue_depth{queue=\"label_memory\"}.",
          default: 100_000,
          example: 20_000,
          min: 0,
        }),
      },
      { description: "Kubernetes Events." },
    ),
    discovery: field.object(
      {
        interval: field.duration({
          description: "How often API discovery is refreshed; a CustomResourceDefinition change triggers a refresh at once.",
          default: "30s",
          example: "1m",
          min: 100,
        }),
      },
      { description: "API discovery." },
    ),
    watch: field.object(
      {
        watchdog: field.duration({
          description: "A watch that delivers nothing (no event, no bookmark) for this long is aborted and resumed.",
          default: "2m",
          example: "90s",
          min: 100,
        }),
        timeout: field.duration({
          description: "Server-side timeout of each watch request; the watch resumes from its last resourceVersion afterwards.",
          default: "5m",
          example: "10m",
          min: 1000,
        }),
        pageSize: field.int({ description: "Page size of list requests.", default: 500, example: 1000, min: 1 }),
        backoffMax: field.duration({
          description: "Longest wait between attempts after watch or list errors (exponential backoff with jitter).",
          default: "30s",
          example: "1m",
          min: 10,
        }),
      },
      { description: "List+watch behaviour." },
    ),
    state: field.object(
      {
        keyPrefix: field.string({
          description:
            "Prefix of the Redis keys remembering the last published resourceVersion per object: one hash per resource type, `<keyPrefix>:<cluster>:rv:<resource>` (scoped by cluster whatever the prefix).",
          default: "faro:watcher",
          example: "faro-prod:watcher",
        }),
        flushInterval: field.duration({
          description:
            "How often acked publishes are written to Redis. Must stay well under FARO_RAW's duplicate window (2m): a restart re-publishes at most this much, and JetStream drops the repeats.",
          default: "250ms",
          example: "1s",
          min: 10,
          max: 60_000,
        }),
      },
      { description: "Restart without replay (Redis)." },
    ),
  },
  { httpPort: 9101 },
);

export type WatcherConfig = ConfigOf<typeof configSchema>;
