// Unit tests for secret-name classification.
import { describe, expect, it } from "vitest";
import { isSecretName, nameSegments } from "./names.js";

describe("isSecretName", () => {
  it.each([
    "DB_PASSWORD", "MYSQL_ROOT_PASSWORD", "API_KEY", "PRIVATE_KEY", "AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN",
    "SMTP_PASS", "GOOGLE_APPLICATION_CREDENTIALS", "client_secret", "apiKey", "accessToken", "DBPassword",
    "x-api-key", "token", "password", "secret", "JWT_SIGNING_KEY", "BASIC_AUTH", "passphrase", "AccountKey",
  ])("%s is secret", (n) => expect(isSecretName(n)).toBe(true));

  it.each([
    "secretName", "secretKeyRef", "imagePullSecrets", "POSTGRES_PASSWORD_FILE", "TOKEN_URL", "key", "LOG_LEVEL",
    "max_tokens", "token_type", "PUBLIC_KEY", "AWS_ACCESS_KEY_ID", "DATABASE_URL", "secret_ref", "auth", "keys",
  ])("%s is not secret", (n) => expect(isSecretName(n)).toBe(false));

  it("splits camel case, acronyms and separators", () => {
    expect(nameSegments("DBPassword")).toEqual(["db", "password"]);
    expect(nameSegments("x-api-key")).toEqual(["x", "api", "key"]);
    expect(nameSegments("awsSecretAccessKey")).toEqual(["aws", "secret", "access", "key"]);
  });
});
