// `faro sim`: runs the simulated Kubernetes cluster until SIGINT/SIGTERM, writing a kubeconfig.
import fs from "node:fs";
import { startCluster } from "@faro/kube-sim";
import { parseFlags, type Command } from "../command.js";
import { CommandError, UsageError } from "../errors.js";

export const simCommand: Command = {
  name: "sim",
  summary: "run the simulated Kubernetes cluster (API server, controllers, kubelet, logs)",
  usage: "faro sim [--scenario NAME|FILE] [--port N] [--host ADDR] [--advertise-url URL] [--kubeconfig PATH] [--sa-kubeconfig NS/SA=PATH[,…]] [--speed X] [--nodes N]",
  async run(args, io) {
    const f = parseFlags(args, { scenario: "string", port: "number", host: "string", "advertise-url": "string", kubeconfig: "string", "sa-kubeconfig": "string", speed: "number", nodes: "number", help: "boolean" }, "sim");
    if (f.help) {
      io.out(`usage: ${simCommand.usage}`);
      return 0;
    }
    if (f.speed !== undefined && !((f.speed as number) > 0)) throw new UsageError("--speed must be > 0", "sim");
    // Service-account kubeconfigs: RBAC from the cluster's Roles and bindings applies to them (docs/simulator.md).
    const saKubeconfigs = f["sa-kubeconfig"]
      ? String(f["sa-kubeconfig"])
          .split(",")
          .map((spec) => {
            const m = /^([a-z0-9-]+)\/([a-z0-9.-]+)=(.+)$/.exec(spec.trim());
            if (!m) throw new UsageError(`--sa-kubeconfig: "${spec}" is not NAMESPACE/SERVICEACCOUNT=PATH`, "sim");
            return { namespace: m[1]!, name: m[2]!, path: m[3]! };
          })
      : [];
    let cluster;
    try {
      cluster = await startCluster({
        port: (f.port as number | undefined) ?? 0,
        host: f.host as string | undefined,
        advertiseUrl: f["advertise-url"] as string | undefined,
        speed: f.speed as number | undefined,
        scenario: f.scenario as string | undefined,
        nodes: f.nodes as number | undefined,
      });
    } catch (err) {
      throw new CommandError((err as Error).message, "sim", { cause: err });
    }
    try {
      if (f.kubeconfig) cluster.writeKubeconfig(f.kubeconfig as string);
      for (const sa of saKubeconfigs) fs.writeFileSync(sa.path, cluster.serviceAccountKubeconfig(sa.namespace, sa.name), { mode: 0o600 });
      io.out(`kube-sim API server: ${cluster.url}${f.kubeconfig ? ` (kubeconfig: ${f.kubeconfig})` : ""}${f.scenario ? ` scenario: ${f.scenario}` : ""} speed: ${cluster.clock.speed}x`);
      await new Promise<void>((resolve) => {
        if (io.signal.aborted) return resolve();
        io.signal.addEventListener("abort", () => resolve(), { once: true });
      });
      io.out("kube-sim: stopping");
    } finally {
      await cluster.stop();
    }
    return 0;
  },
};
