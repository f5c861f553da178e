// Runs the real kubectl binary against the simulator for the tests under test/kubectl and test/rbac.
import { execFile, execFileSync } from "node:child_process";
import path from "node:path";

/** The kubectl binary, or undefined (the tests skip, saying so) when none is installed. */
export function findKubectl(): string | undefined {
  for (const bin of [process.env.FARO_KUBECTL_BIN, "/usr/bin/kubectl", "kubectl"]) {
    if (!bin) continue;
    try {
      execFileSync(bin, ["version", "--client"], { stdio: "ignore", timeout: 10_000 });
      return bin;
    } catch {
      // next candidate; the caller warns when none works
    }
  }
  return undefined;
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** kubectl with a request timeout, a process timeout and its own cache directory under `dir`. */
export function kubectl(bin: string, dir: string, kubeconfig: string, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      bin,
      ["--request-timeout=10s", "--kubeconfig", kubeconfig, "--cache-dir", path.join(dir, "cache"), ...args],
      { env: { ...process.env, HOME: dir, KUBECONFIG: "" }, timeout: 30_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}
