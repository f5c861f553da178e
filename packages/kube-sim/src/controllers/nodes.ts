// Simulated nodes: Ready nodes with capacity, created at start so the scheduler has somewhere to bind.
import type { KubeObject, SimClock, Store } from "../types.js";
import { T } from "./util.js";

export interface NodeSpec {
  name: string;
  labels?: Record<string, string>;
  cpu?: string;
  memory?: string;
  pods?: number;
}

/** Creates (or keeps) the nodes; default `sim-node-1..count` with 4 CPUs, 16Gi, 110 pods. */
export function createNodes(store: Store, clock: SimClock, nodes: number | NodeSpec[] = 3): KubeObject[] {
  const specs: NodeSpec[] = typeof nodes === "number" ? Array.from({ length: nodes }, (_, i) => ({ name: `sim-node-${i + 1}` })) : nodes;
  const type = T.nodes(store);
  const now = clock.isoNow();
  return specs.map((n, i) => {
    const existing = store.get(type, undefined, n.name);
    if (existing) return existing;
    const cap = { cpu: n.cpu ?? "4", memory: n.memory ?? "16Gi", pods: String(n.pods ?? 110), "ephemeral-storage": "100Gi" };
    const cond = (type: string, status: string, reason: string, message: string) => ({ type, status, reason, message, lastHeartbeatTime: now, lastTransitionTime: now });
    const created = store.create(type, {
      apiVersion: "v1",
      kind: "Node",
      metadata: {
        name: n.name,
        labels: {
          "kubernetes.io/hostname": n.name,
          "kubernetes.io/os": "linux",
          "kubernetes.io/arch": "amd64",
          "beta.kubernetes.io/os": "linux",
          "beta.kubernetes.io/arch": "amd64",
          "topology.kubernetes.io/zone": `sim-zone-${String.fromCharCode(97 + (i % 3))}`,
          ...n.labels,
        },
      },
      spec: { podCIDR: `10.244.${i + 1}.0/24`, podCIDRs: [`10.244.${i + 1}.0/24`] },
    });
    return store.updateStatus(type, {
      ...created,
      status: {
        capacity: cap,
        allocatable: cap,
        conditions: [
          cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
          cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
          cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
          cond("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
        ],
        addresses: [
          { type: "InternalIP", address: `10.0.0.${i + 11}` },
          { type: "Hostname", address: n.name },
        ],
        daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
        nodeInfo: {
          machineID: `sim${i + 1}`,
          systemUUID: `sim-${i + 1}`,
          bootID: `sim-boot-${i + 1}`,
          kernelVersion: "6.1.0-sim",
          osImage: "Faro Simulated Linux",
          containerRuntimeVersion: "containerd://1.7.0-sim",
          kubeletVersion: "v1.31.0-sim",
          kubeProxyVersion: "v1.31.0-sim",
          operatingSystem: "linux",
          architecture: "amd64",
        },
      },
    });
  });
}
