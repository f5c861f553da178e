// Errors of the cluster-behaviour half (scenarios); the API half's errors live in ../errors.ts.

/** A scenario file or step is invalid or cannot be applied; `field` names what is wrong. */
export class ScenarioError extends Error {
  constructor(
    message: string,
    readonly scenario: string,
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    super(`scenario ${scenario}${field ? ` (${field})` : ""}: ${message}`, options);
    this.name = "ScenarioError";
  }
}
