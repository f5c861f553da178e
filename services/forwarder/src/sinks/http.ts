// HTTP helpers every HTTP sink shares: one request with a timeout, Retry-After parsing, and the status → retry
// decision (5xx, 408, 425, 429 and network errors are retried; any other 4xx is permanent).
import { DeliveryError, permanent, retryable } from "../errors.js";

/** Retry-After as delta-seconds or an HTTP date, in ms from now; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

const RETRY_STATUS = new Set([408, 425, 429]);

/** The DeliveryError for a response that was not 2xx. Only the status and a short, bounded body excerpt go into it. */
export function httpFailure(sink: string, key: string, res: Response, bodyText: string): DeliveryError {
  const excerpt = bodyText.replace(/\s+/g, " ").slice(0, 200);
  const detail = `HTTP ${res.status}${excerpt ? ` ${excerpt}` : ""}`;
  const retryAfterMs = parseRetryAfter(res.headers.get("retry-after"));
  if (res.status >= 500 || RETRY_STATUS.has(res.status)) {
    return retryable(sink, key, detail, { status: res.status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });
  }
  return permanent(sink, key, detail, { status: res.status });
}

/** fetch with a timeout and the drain signal; network errors and timeouts become retryable DeliveryErrors. */
export async function request(sink: string, key: string, url: string, init: RequestInit, timeoutMs: number, signal: AbortSignal): Promise<Response> {
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    return await fetch(url, { ...init, signal: AbortSignal.any([timeout, signal]) });
  } catch (err) {
    if (timeout.aborted) throw retryable(sink, key, `no response within ${timeoutMs}ms`, { kind: "timeout" });
    const cause = (err as { cause?: { code?: string } }).cause;
    throw retryable(sink, key, `request failed (${cause?.code ?? (err as Error).message})`, { kind: "network" }, err);
  }
}
