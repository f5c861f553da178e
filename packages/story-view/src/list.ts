// The list of stories `faro serve` shows: a filter form (cluster, namespace, reason, time) and one row per story file.
import { esc } from "./escape.js";
import { PAGE_CSS } from "./page-style.js";

export interface StoryListItem {
  /** File stem, `<storyId>-w<window>`. */
  id: string;
  href: string;
  cluster: string;
  namespace: string;
  /** `Kind/name`. */
  workload: string;
  window: number;
  pods: number;
  /** Incidents by reason. */
  incidents: Record<string, number>;
  state: "closed" | "snapshot";
  openedAt: string;
  closedAt?: string | undefined;
}

export interface StoryListFilters {
  cluster?: string | undefined;
  namespace?: string | undefined;
  reason?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
}

export interface StoryListPage {
  items: StoryListItem[];
  filters: StoryListFilters;
  /** Values offered by the selects, from every story in the directory. */
  choices: { clusters: string[]; namespaces: string[]; reasons: string[] };
  /** Stories in the directory before filtering. */
  total: number;
  dir: string;
  /** Filter problems to show (an unparseable time). */
  problems?: string[];
  /** Stories left out by the listing bound. */
  omitted?: number;
}

function select(name: string, label: string, values: string[], current: string | undefined): string {
  const opts = [`<option value="">all</option>`, ...values.map((v) => `<option value="${esc(v)}"${v === current ? " selected" : ""}>${esc(v || "(cluster-scoped)")}</option>`)];
  return `<label>${esc(label)}<select name="${esc(name)}">${opts.join("")}</select></label>`;
}

/** Renders the story list page (no script at all; filtering is a GET form). */
export function renderStoryListHtml(page: StoryListPage): string {
  const f = page.filters;
  const rows = page.items.map((s) => {
    const reasons = Object.entries(s.incidents)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([r, n]) => `<span class="pill">${esc(n > 1 ? `${r}×${n}` : r)}</span>`)
      .join("");
    return `<tr class="story${reasons ? " has-incident" : ""}" data-id="${esc(s.id)}"><td><a href="${esc(s.href)}">${esc(s.workload)}</a></td><td>${esc(s.namespace || "(cluster)")}</td><td>${esc(s.cluster)}</td><td>${esc(s.window)}</td><td>${esc(s.pods)}</td><td>${reasons || '<span class="dim">-</span>'}</td><td>${esc(s.state)}</td><td><time>${esc(s.openedAt)}</time></td><td><code class="dim">${esc(s.id)}</code></td></tr>`;
  });
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Faro stories</title>
<style>${PAGE_CSS}</style>
</head>
<body>
<header><h1>Faro stories</h1><p class="meta">${esc(page.dir)} · <span id="count">${esc(page.items.length)}</span> of ${esc(page.total)} stor${page.total === 1 ? "y" : "ies"}${page.omitted ? ` · ${esc(page.omitted)} more not listed (--max-stories)` : ""}</p></header>
<main>
<form class="filters" method="get" action="/">
${select("cluster", "cluster", page.choices.clusters, f.cluster)}
${select("namespace", "namespace", page.choices.namespaces, f.namespace)}
${select("reason", "incident reason", page.choices.reasons, f.reason)}
<label>since (RFC3339 or 30m, 2h, 1d)<input name="since" value="${esc(f.since ?? "")}" size="22"></label>
<label>until<input name="until" value="${esc(f.until ?? "")}" size="22"></label>
<button type="submit">filter</button> <a href="/">clear</a>
</form>
${(page.problems ?? []).map((p) => `<p class="incident">${esc(p)}</p>`).join("")}
<table class="stories"><thead><tr><th>workload</th><th>namespace</th><th>cluster</th><th>window</th><th>pods</th><th>incidents</th><th>state</th><th>opened</th><th>id</th></tr></thead><tbody>
${rows.join("\n")}
</tbody></table>
${page.items.length === 0 ? '<p class="dim">No story matches.</p>' : ""}
</main>
</body>
</html>
`;
}
