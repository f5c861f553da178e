// The ingester's service definition: what `faro run ingester`, `faro up` and the tests start through the kernel.
import { ConfigError } from "@faro/config";
import { FARO_DLQ, FARO_RAW } from "@faro/contracts";
import { defineService } from "@faro/kernel";
import { configSchema, type IngesterConfig } from "./config.js";
import { TokenFileError } from "./errors.js";
import { createIngester, readToken } from "./service.js";

// The token is read once when the configuration is validated (a missing file exits 2 naming the field).
const tokens = new WeakMap<IngesterConfig, string | undefined>();

export const ingesterService = defineService({
  name: "ingester",
  summary: "Falco and falcosidekick alerts over authenticated HTTP, validated and published as Events on FARO_RAW",
  schema: configSchema,
  streams: [FARO_RAW, FARO_DLQ],
  redis: false,
  validate: (config) => {
    if (config.auth.tokenFile !== undefined && config.auth.token !== undefined) {
      throw new ConfigError("ingester", [{ path: "auth.token", message: "set auth.tokenFile or auth.token, not both" }]);
    }
    try {
      tokens.set(config, readToken(config));
    } catch (err) {
      if (err instanceof TokenFileError) throw new ConfigError("ingester", [{ path: "auth.tokenFile", message: `cannot read the token file: ${err.detail}`, value: err.file }], { cause: err });
      throw err;
    }
  },
  create: (ctx) => createIngester(ctx, tokens.has(ctx.config) ? tokens.get(ctx.config) : readToken(ctx.config)),
});
