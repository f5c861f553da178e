// Starts every controller of the simulated control plane and stops them together.
import type { SimClock, Store } from "../types.js";
import { createCronJobController } from "./cronjob.js";
import { createDaemonSetController } from "./daemonset.js";
import { createDeploymentController } from "./deployment.js";
import type { EventRecorder } from "./events.js";
import { createHpaController } from "./hpa.js";
import { createJobController } from "./job.js";
import { createPvcController } from "./pvc.js";
import { createReplicaSetController } from "./replicaset.js";
import { createScheduler } from "./scheduler.js";
import { createStatefulSetController } from "./statefulset.js";

export function startControllers(store: Store, clock: SimClock, events: EventRecorder): { stop(): void } {
  const all = [
    createScheduler(store, clock, events),
    createReplicaSetController(store, events),
    createDeploymentController(store, clock, events),
    createJobController(store, clock, events),
    createCronJobController(store, clock, events),
    createStatefulSetController(store, events),
    createDaemonSetController(store, events),
    createPvcController(store, events),
    createHpaController(store, clock, events),
  ];
  let stopped = false;
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      for (const c of all) c.stop();
    },
  };
}
