// The API-server half of kube-sim, re-exported by the package barrel: store, HTTP server, errors, built-in types.
export { createStore } from "./store.js";
export type { SimStore, StoreOptions } from "./store.js";
export { createApiServer } from "./server/http.js";
export type { ApiServer, ApiServerOptions } from "./server/http.js";
export { ApiError, alreadyExists, badRequest, conflict, gone, invalid, methodNotAllowed, notFound } from "./errors.js";
export type { ApiErrorDetails, StatusObject } from "./errors.js";
export { builtinTypes } from "./builtin-types.js";
export { parseFieldSelector, parseLabelSelector } from "./server/selectors.js";
export { jsonPatch, mergePatch, strategicMergePatch } from "./server/patch.js";
