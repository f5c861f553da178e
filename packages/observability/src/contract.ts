// checkServiceContract: the shared test helper asserting a running service follows docs/spec/service.md.
import { ContractError } from "./errors.js";
import { REQUIRED_METRICS } from "./metrics.js";

export interface ContractReport {
  readonly metrics: string;
  readonly healthStatus: number;
  readonly readyStatus: number;
  readonly readyBody: unknown;
}

/**
 * Fetches /metrics, /healthz and /readyz from `baseUrl` and throws ContractError listing every
 * violation: a required metric missing, a non-Prometheus /metrics, /healthz not 200, /readyz not
 * 200/503 with a JSON body (or not 200 when `expectReady`).
 */
export async function checkServiceContract(baseUrl: string, options: { expectReady?: boolean } = {}): Promise<ContractReport> {
  const problems: string[] = [];
  const get = async (path: string) => {
    const res = await fetch(new URL(path, baseUrl), { signal: AbortSignal.timeout(5000) });
    return { status: res.status, type: res.headers.get("content-type") ?? "", text: await res.text() };
  };
  let metrics, health, ready;
  try {
    [metrics, health, ready] = await Promise.all([get("/metrics"), get("/healthz"), get("/readyz")]);
  } catch (err) {
    throw new ContractError(baseUrl, [`cannot fetch the endpoints: ${(err as Error).message}`], { cause: err });
  }
  if (metrics.status !== 200) problems.push(`/metrics answered ${metrics.status}, expected 200`);
  if (!metrics.type.startsWith("text/plain")) problems.push(`/metrics content-type is "${metrics.type}", expected Prometheus text`);
  const declared = new Set([...metrics.text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
  for (const name of REQUIRED_METRICS) if (!declared.has(name)) problems.push(`/metrics lacks ${name}`);
  if (!/^process_cpu_seconds_total\b/m.test(metrics.text) && !declared.has("process_cpu_seconds_total"))
    problems.push("/metrics lacks the default process metrics (process_cpu_seconds_total)");
  if (!/^faro_service_info\{[^}]*service="[^"]+"/m.test(metrics.text)) problems.push("faro_service_info has no service label");
  if (health.status !== 200) problems.push(`/healthz answered ${health.status}, expected 200 while running`);
  let readyBody: unknown;
  try {
    readyBody = JSON.parse(ready.text);
  } catch (err) {
    problems.push(`/readyz body is not JSON (${(err as Error).message})`);
  }
  if (ready.status !== 200 && ready.status !== 503) problems.push(`/readyz answered ${ready.status}, expected 200 or 503`);
  if (options.expectReady === true && ready.status !== 200) problems.push(`/readyz answered ${ready.status} (${ready.text}), expected 200`);
  if (problems.length > 0) throw new ContractError(baseUrl, problems);
  return { metrics: metrics.text, healthStatus: health.status, readyStatus: ready.status, readyBody };
}
