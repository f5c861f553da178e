// Unit tests of kubeconfig loading: explicit file, $KUBECONFIG, context selection and clear errors.
import fs from "node:fs";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadKubeConfig } from "./config.js";
import { KubeConfigError } from "./errors.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-kube-config-"));
const file = path.join(dir, "config");
fs.writeFileSync(
  file,
  `apiVersion: v1
kind: Config
clusters:
- name: sim
  cluster: { server: "http://127.0.0.1:1234", insecure-skip-tls-verify: true }
- name: other
  cluster: { server: "https://10.0.0.1:6443" }
users:
- name: u
  user: { token: abc }
contexts:
- name: sim
  context: { cluster: sim, user: u }
- name: other
  context: { cluster: other, user: u }
current-context: sim
`,
);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("loadKubeConfig", () => {
  it("loads an explicit file and its current context", () => {
    const kc = loadKubeConfig({ kubeconfig: file });
    expect(kc.getCurrentCluster()?.server).toBe("http://127.0.0.1:1234");
  });

  it("switches to a named context", () => {
    expect(loadKubeConfig({ kubeconfig: file, context: "other" }).getCurrentCluster()?.server).toBe("https://10.0.0.1:6443");
  });

  it("reads $KUBECONFIG when no file is given", () => {
    const old = process.env.KUBECONFIG;
    process.env.KUBECONFIG = file;
    try {
      expect(loadKubeConfig().getCurrentCluster()?.server).toBe("http://127.0.0.1:1234");
      process.env.KUBECONFIG = path.join(dir, "missing");
      expect(() => loadKubeConfig()).toThrow(/KUBECONFIG/);
    } finally {
      if (old === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = old;
    }
  });

  it("fails clearly for a missing file, an unknown context and a bad file", () => {
    expect(() => loadKubeConfig({ kubeconfig: path.join(dir, "nope") })).toThrow(KubeConfigError);
    expect(() => loadKubeConfig({ kubeconfig: file, context: "prod" })).toThrow(/context "prod" not found.*sim, other/);
    const bad = path.join(dir, "bad");
    fs.writeFileSync(bad, "clusters: [: not yaml");
    expect(() => loadKubeConfig({ kubeconfig: bad })).toThrow(KubeConfigError);
  });
});

describe("KubeConfigLite credentials", () => {
  const write = (name: string, text: string) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, text);
    return p;
  };
  const ca = Buffer.from("-----BEGIN CERTIFICATE-----\nnot really\n-----END CERTIFICATE-----\n").toString("base64");

  it("applies a token, a token file (relative to the kubeconfig) and basic auth", async () => {
    write("tok", "from-file\n");
    const f = write(
      "creds",
      `clusters:
- name: c
  cluster:
    server: http://127.0.0.1:1
contexts:
- {name: t, context: {cluster: c, user: t}}
- {name: f, context: {cluster: c, user: f}}
- {name: b, context: {cluster: c, user: b}}
users:
- {name: t, user: {token: abc}}
- {name: f, user: {tokenFile: tok}}
- {name: b, user: {username: me, password: pw}}
current-context: t
`,
    );
    type Opts = https.RequestOptions & { headers?: Record<string, unknown> };
    const opts: Opts = {};
    await loadKubeConfig({ kubeconfig: f }).applyToHTTPSOptions(opts);
    expect(opts.headers?.Authorization).toBe("Bearer abc");
    expect(opts.agent).toBeUndefined(); // plain http: the default agent
    const fromFile: Opts = {};
    await loadKubeConfig({ kubeconfig: f, context: "f" }).applyToHTTPSOptions(fromFile);
    expect(fromFile.headers?.Authorization).toBe("Bearer from-file");
    const basic: Opts = {};
    await loadKubeConfig({ kubeconfig: f, context: "b" }).applyToHTTPSOptions(basic);
    expect(basic.auth).toBe("me:pw");
    expect(basic.headers?.Authorization).toBeUndefined();
  });

  it("gives https clusters one keep-alive agent with their CA and TLS settings", async () => {
    const f = write(
      "tls",
      `clusters:
- name: c
  cluster: {server: "https://10.0.0.1:6443", certificate-authority-data: ${ca}, tls-server-name: api.internal}
- name: i
  cluster: {server: "https://10.0.0.2:6443", insecure-skip-tls-verify: true}
contexts:
- {name: c, context: {cluster: c, user: u}}
- {name: i, context: {cluster: i, user: u}}
users:
- {name: u, user: {token: t}}
current-context: c
`,
    );
    const kc = loadKubeConfig({ kubeconfig: f });
    const a: { agent?: https.Agent } = {};
    const b: { agent?: https.Agent } = {};
    await kc.applyToHTTPSOptions(a);
    await kc.applyToHTTPSOptions(b);
    expect(a.agent).toBeInstanceOf(https.Agent);
    expect(b.agent).toBe(a.agent);
    expect(a.agent!.options).toMatchObject({ keepAlive: true, rejectUnauthorized: true, servername: "api.internal" });
    expect(String(a.agent!.options.ca)).toContain("not really");
    const insecure: { agent?: https.Agent } = {};
    await loadKubeConfig({ kubeconfig: f, context: "i" }).applyToHTTPSOptions(insecure);
    expect(insecure.agent!.options.rejectUnauthorized).toBe(false);
  });

  it("merges $KUBECONFIG files: the first one naming an entry or the current context wins", () => {
    const a = write("a", `clusters: [{name: x, cluster: {server: "http://a:1"}}]\ncontexts: [{name: x, context: {cluster: x}}]\ncurrent-context: x\n`);
    const b = write("b", `clusters: [{name: x, cluster: {server: "http://b:1"}}, {name: y, cluster: {server: "http://b:2"}}]\ncontexts: [{name: y, context: {cluster: y}}]\ncurrent-context: y\n`);
    const old = process.env.KUBECONFIG;
    process.env.KUBECONFIG = [a, b].join(path.delimiter);
    try {
      expect(loadKubeConfig().getCurrentCluster()?.server).toBe("http://a:1");
      expect(loadKubeConfig({ context: "y" }).getCurrentCluster()?.server).toBe("http://b:2");
    } finally {
      if (old === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = old;
    }
  });

  it("hands exec credential plugins to @kubernetes/client-node, loaded on first use", async () => {
    const plugin = write(
      "plugin.sh",
      `#!/bin/sh\necho '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"from-exec"}}'\n`,
    );
    fs.chmodSync(plugin, 0o755);
    const f = write(
      "exec",
      `clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
contexts: [{name: c, context: {cluster: c, user: e}}]
users:
- name: e
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: ${plugin}, interactiveMode: Never}
current-context: c
`,
    );
    const kc = loadKubeConfig({ kubeconfig: f });
    expect(kc.needsClientLibrary()).toBe(true);
    const opts: https.RequestOptions & { headers?: Record<string, unknown> } = {};
    await kc.applyToHTTPSOptions(opts);
    expect(opts.headers?.Authorization).toBe("Bearer from-exec");
  });
});
