// Built-in detectors for well-known credential formats in free text (log lines, messages, values).
//
// Every pattern here is a JS RegExp written to run in linear time on V8's backtracking engine: no
// nested quantifiers, every repetition is over a character class that cannot also match what follows
// it (or is bounded), and each pattern starts with a literal or a word boundary. USER patterns never
// run here; they go through RE2 (see matchers.ts).

/** Formats a mask so readers see which rule fired. */
export function mask(rule: string): string {
  return `[REDACTED:${rule}]`;
}

/**
 * One built-in detector. `quick` is a cheap substring check run before the regex. The regex may use
 * named groups `pre` and `post` (kept verbatim) around `secret` (masked); without them the whole
 * match is masked.
 */
export interface Builtin {
  readonly rule: string;
  readonly re: RegExp;
  readonly quick: (s: string) => boolean;
}

const has = (...lits: string[]) => (s: string) => lits.some((l) => s.includes(l));

export const BUILTINS: readonly Builtin[] = [
  {
    // Unterminated blocks are masked to the end of the text: fail closed on truncated keys.
    rule: "pem-private-key",
    re: /-----BEGIN[A-Z ]{0,40} PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END[A-Z ]{0,40} PRIVATE KEY(?: BLOCK)?-----|$)/g,
    quick: has("-----BEGIN"),
  },
  {
    // The lookbehind (not \b) allows one start per run of token characters: `eyJ-eyJ-eyJ…` would
    // otherwise restart at every `eyJ` and rescan the run each time.
    rule: "jwt",
    re: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g,
    quick: has("eyJ"),
  },
  {
    // Keeps scheme and user name, masks the password: `postgres://app:[REDACTED:url-credentials]@db`.
    rule: "url-credentials",
    re: /(?<pre>\b[A-Za-z][A-Za-z0-9+.-]{1,30}:\/\/[^\s:/@"'<>]{0,256}:)(?<secret>[^\s/@"'<>]{1,256})(?<post>@)/g,
    quick: has("://"),
  },
  {
    rule: "authorization-header",
    re: /(?<pre>\b(?:proxy-)?authorization\\?["']?[ \t]*[:=][ \t]*\\?["']?(?:(?:bearer|basic|token|digest|negotiate|ntlm|apikey|aws4-hmac-sha256)[ \t]+)?)(?<secret>[^\s"'\\,;]{1,4096})/gi,
    quick: (s) => s.includes("uthorization") || s.includes("UTHORIZATION"),
  },
  {
    // A bare `Bearer xyz` outside a header; the lookahead requires a digit before any `=` so
    // `Bearer expires_in=3600` survives.
    rule: "bearer-token",
    re: /(?<pre>\bbearer[ \t]+)(?<secret>(?=[A-Za-z._~+/-]{0,4096}[0-9])[A-Za-z0-9._~+/-]{8,4096}={0,3})/gi,
    quick: (s) => s.includes("earer") || s.includes("EARER"),
  },
  {
    rule: "aws-access-key-id",
    re: /\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA|ASCA)[A-Z0-9]{16}\b/g,
    quick: has("AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AIPA", "ANPA", "ANVA", "AROA", "APKA", "ASCA"),
  },
  {
    rule: "github-token",
    re: /\b(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,255})\b/g,
    quick: has("gh", "github_pat_"),
  },
  {
    rule: "slack-token",
    re: /\bxox[abposr]-[A-Za-z0-9-]{10,250}/g,
    quick: has("xox"),
  },
  {
    rule: "slack-webhook",
    re: /(?<pre>https:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/)(?<secret>[A-Za-z0-9_/-]{8,300})/g,
    quick: has("hooks.slack.com"),
  },
  {
    // pk_live_ keys are public by design and stay readable.
    rule: "stripe-key",
    re: /\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,247}\b/g,
    quick: has("k_live_", "k_test_"),
  },
  {
    rule: "google-api-key",
    re: /\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g,
    quick: has("AIza"),
  },
  {
    rule: "npm-token",
    re: /\bnpm_[A-Za-z0-9]{36}\b/g,
    quick: has("npm_"),
  },
  {
    rule: "sendgrid-key",
    re: /\bSG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{16,64}(?![A-Za-z0-9_-])/g,
    quick: has("SG."),
  },
];

/**
 * One cheap test before the loop over BUILTINS: matches whenever any builtin's `quick` would (most
 * log lines contain none of these and skip the loop). Literal alternatives only: linear.
 */
export const BUILTIN_QUICK =
  /-----BEGIN|eyJ|:\/\/|uthorization|UTHORIZATION|earer|EARER|A[BCGIKNPRS][A-Z]A|gh[pousr]_|github_pat_|xox|hooks\.slack\.com|k_live_|k_test_|AIza|npm_|SG\./;

/**
 * `key=value` / `key: value` / `"key": "value"` pairs (also with JSON-escaped quotes inside a JSON
 * string). The key is checked by the caller; the value is double-quoted, single-quoted, escaped-quoted
 * or bare. Linear: the key is bounded, each value alternative starts with a distinct character.
 */
export const KEY_VALUE_RE =
  /(?<pre>\b(?<key>[A-Za-z_][A-Za-z0-9_.-]{0,63})(?:\\?["'])?[ \t]*[:=][ \t]*)(?:(?<eq>\\")(?<edq>[^"\\\n]{0,4096})\\"|"(?<dq>(?:[^"\\\n]|\\.){0,4096})"|'(?<sq>[^'\n]{0,4096})'|(?<bare>[^\s,;&"'}\])\\]{1,4096}))/g;

/** Cheap check before KEY_VALUE_RE and FLAG_VALUE_RE: some secret-ish word must occur. */
export const SECRET_WORD_QUICK = /pass|pw|secret|token|key|credential|auth/i;

/** `--password value` / `-token value` command-line style (the `=` form is caught by KEY_VALUE_RE). */
export const FLAG_VALUE_RE =
  /(?<pre>(?:^|[\s"'[,])--?(?<key>[A-Za-z][A-Za-z0-9_.-]{0,63})[ \t]+)(?:"(?<dq>[^"\n]{0,4096})"|'(?<sq>[^'\n]{0,4096})'|(?<bare>[^\s"'-][^\s"',\]]{0,4096}))/g;
