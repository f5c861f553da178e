// Makes a throw-away CA, a server certificate for 127.0.0.1/localhost and a client certificate with openssl (TLS and mTLS tests).
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export interface TestCerts {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

/** Writes the files into a new temporary directory; remove it with fs.rmSync(certs.dir, …). */
export function makeCerts(): TestCerts {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-certs-"));
  const f = (n: string) => path.join(dir, n);
  openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f("ca-key.pem"), "-out", f("ca.pem"), "-days", "2", "-subj", "/CN=faro-test-ca"], dir);
  const leaf = (name: string, ext: string) => {
    fs.writeFileSync(f(`${name}.ext`), ext);
    openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", f(`${name}-key.pem`), "-out", f(`${name}.csr`), "-subj", `/CN=${name}`], dir);
    openssl(["x509", "-req", "-in", f(`${name}.csr`), "-CA", f("ca.pem"), "-CAkey", f("ca-key.pem"), "-CAcreateserial", "-out", f(`${name}.pem`), "-days", "2", "-extfile", f(`${name}.ext`)], dir);
  };
  leaf("server", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  leaf("client", "extendedKeyUsage=clientAuth\n");
  return { dir, ca: f("ca.pem"), serverCert: f("server.pem"), serverKey: f("server-key.pem"), clientCert: f("client.pem"), clientKey: f("client-key.pem") };
}
