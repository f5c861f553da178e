// Pod, Deployment, Job and Event JSON shaped like the simulator's (KUBE-SIM.md), for the correlator's tests.
import type { ObjectJson } from "./k8s.js";

export interface PodFixture {
  name?: string;
  uid?: string;
  rv?: string;
  phase?: string;
  restartCount?: number;
  waiting?: { reason: string; message?: string };
  running?: string;
  last?: { exitCode: number; reason: string; finishedAt: string };
  terminated?: { exitCode: number; reason: string; finishedAt: string };
  deletionTimestamp?: string;
  owner?: { kind: string; name: string; uid: string; apiVersion?: string };
  node?: string;
  statusReason?: string;
  scheduled?: { status: string; reason?: string; at: string };
}

export function pod(f: PodFixture = {}): ObjectJson {
  const name = f.name ?? "web-7d4b9c-x2x9k";
  const state = f.waiting ? { waiting: f.waiting } : f.terminated ? { terminated: f.terminated } : { running: { startedAt: f.running ?? "2026-01-01T00:00:05Z" } };
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: "shop",
      uid: f.uid ?? "pod-uid-1",
      resourceVersion: f.rv ?? "100",
      creationTimestamp: "2026-01-01T00:00:00Z",
      ...(f.deletionTimestamp ? { deletionTimestamp: f.deletionTimestamp } : {}),
      ownerReferences: f.owner ? [{ apiVersion: f.owner.apiVersion ?? "apps/v1", kind: f.owner.kind, name: f.owner.name, uid: f.owner.uid, controller: true }] : [],
      labels: { app: "web" },
      managedFields: [{ manager: "kubelet", time: "2026-01-01T00:00:00Z" }],
    },
    spec: { nodeName: f.node ?? "node-1", containers: [{ name: "app", image: "shop/web:1" }] },
    status: {
      phase: f.phase ?? "Running",
      ...(f.statusReason ? { reason: f.statusReason, message: "The node was low on resource: memory." } : {}),
      conditions: [{ type: "PodScheduled", status: f.scheduled?.status ?? "True", ...(f.scheduled?.reason ? { reason: f.scheduled.reason, message: "0/3 nodes are available" } : {}), lastTransitionTime: f.scheduled?.at ?? "2026-01-01T00:00:01Z" }],
      containerStatuses: [
        {
          name: "app",
          restartCount: f.restartCount ?? 0,
          ready: !f.waiting,
          state,
          ...(f.last ? { lastState: { terminated: f.last } } : {}),
        },
      ],
    },
  };
}
