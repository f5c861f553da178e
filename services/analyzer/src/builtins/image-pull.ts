// Image pull failures: which registry, a tag or a digest, and whether the registry said "not found", refused
// the credentials, or could not be reached — read from the Events' messages and the pod's image field.
import type { Finding } from "@faro/contracts";
import { refs, type IncidentView } from "../view.js";
import { builtinLabel, type BuiltinAnalyzer } from "./types.js";

const REASONS = new Set(["ImagePullBackOff", "ErrImagePull", "InvalidImageName"]);

export interface ImageRef {
  /** The registry host; docker.io when the reference names none. */
  registry: string;
  /** True when the host was not written out (Docker Hub implied). */
  implicitRegistry: boolean;
  repository: string;
  tag?: string;
  digest?: string;
}

/** Splits an image reference the way container runtimes read it. */
export function parseImageRef(image: string): ImageRef {
  let rest = image;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const first = rest.split("/")[0]!;
  const hasHost = rest.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
  return {
    registry: hasHost ? first : "docker.io",
    implicitRegistry: !hasHost,
    repository: hasHost ? rest.slice(first.length + 1) : rest.includes("/") ? rest : `library/${rest}`,
    ...(tag !== undefined ? { tag } : {}),
    ...(digest !== undefined ? { digest } : {}),
  };
}

export type PullFailure = "not_found" | "unauthorized" | "unreachable" | "invalid_name" | "rate_limited" | "unknown";

/** What the runtime's message says went wrong. */
export function classifyPullError(message: string): PullFailure {
  if (/toomanyrequests|rate limit/i.test(message)) return "rate_limited";
  if (/unauthorized|authentication required|access denied|denied|forbidden|\b401\b|\b403\b|no basic auth credentials|pull access denied/i.test(message)) return "unauthorized";
  if (/not found|manifest unknown|NotFound|does not exist|name unknown/i.test(message)) return "not_found";
  if (/InvalidImageName|invalid reference format|couldn't parse image/i.test(message)) return "invalid_name";
  if (/no such host|i\/o timeout|connection refused|dial tcp|TLS handshake|x509|context deadline exceeded|network is unreachable/i.test(message)) return "unreachable";
  return "unknown";
}

const IMAGE_IN_MESSAGE = /(?:pulling image|pull image|image) "([^"]+)"/i;

export const imagePull: BuiltinAnalyzer = {
  name: "image-pull",
  analyze(view: IncidentView): Finding | undefined {
    const ic = view.incident;
    const failed = view.events("Failed", /pull|image/i);
    const backOff = view.events("BackOff", /pulling image/i);
    const inspect = view.events(/^(Failed|InspectFailed|ErrImageNeverPull)$/, /image/i);
    if (!REASONS.has(ic.reason) && failed.length === 0 && !/ErrImagePull|ImagePullBackOff|InvalidImageName/.test(ic.message)) return undefined;
    // The most telling message: a "Failed to pull image" Event, else the incident's own message.
    const detailIndex = [...failed].reverse().find((i) => /Failed to pull image/i.test(ic.events[i]!.message)) ?? failed.at(-1) ?? inspect.at(-1);
    const detail = detailIndex !== undefined ? ic.events[detailIndex]!.message : ic.message;
    const c = view.container();
    const pod = view.manifest("Pod");
    const image = (IMAGE_IN_MESSAGE.exec(detail)?.[1] ?? (c?.spec["image"] as string | undefined) ?? IMAGE_IN_MESSAGE.exec(ic.message)?.[1]) as string | undefined;
    if (!image && ic.reason !== "InvalidImageName") return undefined;
    const ref = image ? parseImageRef(image) : undefined;
    const kind = ic.reason === "InvalidImageName" ? "invalid_name" : classifyPullError(detail);
    const evidence = refs(
      detailIndex !== undefined ? view.ref("event", detailIndex, "message") : view.field("message"),
      backOff.length ? view.ref("event", backOff.at(-1)!, "message") : undefined,
      c ? view.manifestRef(pod, `${c.specPath}/image`) : undefined,
      c?.statusPath ? view.manifestRef(pod, `${c.statusPath}/state/waiting/reason`) : undefined,
      c ? view.manifestRef(pod, "/spec/imagePullSecrets") : undefined,
    );
    const where = ref ? `${ref.registry}${ref.implicitRegistry ? " (Docker Hub, no registry named)" : ""}` : "the registry";
    const what = ref ? (ref.digest ? `digest ${ref.digest}` : ref.tag ? `tag "${ref.tag}"` : `no tag (":latest" implied)`) : "";
    const img = image ? `image ${image}` : "the image";
    const steps: string[] = [];
    let cause: string;
    let confidence: number;
    switch (kind) {
      case "not_found":
        cause = ref?.digest
          ? `${where} has no manifest for ${ref.repository} at ${what}: the digest does not exist in that repository (pushed elsewhere, garbage-collected, or mistyped).`
          : `${where} does not know ${img}: the repository or the ${what} does not exist (a typo, a tag never pushed, or the wrong registry).`;
        confidence = 0.9;
        steps.push(ref?.digest ? `Resolve the digest again from a tag that exists (crane digest ${ref.registry}/${ref.repository}:<tag>) and update the workload.` : `Check that ${ref?.repository ?? "the repository"}:${ref?.tag ?? "latest"} exists (crane ls ${ref ? `${ref.registry}/${ref.repository}` : "<repo>"}), or fix the image reference.`);
        if (ref?.implicitRegistry) steps.push("The reference names no registry, so Docker Hub is used: prefix the image with your registry host if it lives elsewhere.");
        break;
      case "unauthorized":
        cause = `${where} refused to serve ${img} without valid credentials (${what}): the pod has no imagePullSecret for it, or the secret's credentials are wrong or expired.`;
        confidence = 0.85;
        steps.push(`Add an imagePullSecrets entry (or one on the ServiceAccount) holding credentials for ${ref?.registry ?? "the registry"}, and check they can pull (docker login; docker pull ${image ?? "<image>"}).`);
        break;
      case "rate_limited":
        cause = `${where} is rate-limiting pulls of ${img}.`;
        confidence = 0.85;
        steps.push("Authenticate pulls (imagePullSecrets) or mirror the image to a registry you control.");
        break;
      case "unreachable":
        cause = `The node could not reach ${where} to pull ${img} (DNS, network policy, proxy or TLS trouble), so the pull failed before the registry could answer.`;
        confidence = 0.75;
        steps.push(`From the node, resolve and reach ${ref?.registry ?? "the registry"} (nslookup, curl https://${ref?.registry ?? "<registry>"}/v2/); check egress rules, proxies and CA certificates.`);
        break;
      case "invalid_name":
        cause = `The image reference ${image ? `"${image}" ` : ""}is not a valid image name: the runtime cannot parse it.`;
        confidence = 0.85;
        steps.push("Fix the image field: [registry/]repository[:tag][@sha256:digest], lowercase repository.");
        break;
      default:
        cause = `Pulling ${img} from ${where} fails: ${detail.slice(0, 200)}`;
        confidence = 0.5;
        steps.push(`Pull the image by hand from a node (crictl pull ${image ?? "<image>"}) to see the full error.`);
    }
    // Seen from another incident (a stuck rollout, say), a pull failure is a cause behind the cause.
    if (!REASONS.has(ic.reason)) confidence -= 0.2;
    steps.push("Until the image can be pulled, the pod stays Pending; kubectl rollout undo restores the previous image if a rollout introduced this one.");
    return { analyzer: builtinLabel("image-pull"), probableCause: cause, evidence, nextSteps: steps, confidence };
  },
};
