// The page's stylesheet, inlined into every story page and the story list (no network).
export const PAGE_CSS = `
:root{--bg:#fbfbfd;--fg:#1d2330;--dim:#6b7280;--line:#e3e6ec;--ok:#2f9e6e;--bad:#d64545;--warn:#e08a1e;--chg:#5b6fd6;--run:#8fd1b0;--wait:#c9ccd4}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
header,main{padding:12px 24px}
header{background:#fff;border-bottom:1px solid var(--line)}
h1{margin:4px 0;font-size:22px}h2{font-size:17px;margin:18px 0 8px}h3{font-size:15px;margin:4px 0}h4{margin:8px 0 4px;font-size:13px}
code,pre,.log{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px}
pre{background:#f3f4f7;padding:8px;overflow:auto;max-height:320px}
.dim{color:var(--dim)}.meta{margin:2px 0 6px;color:var(--dim)}
a.back{font-size:13px}
.owners{display:flex;flex-wrap:wrap;align-items:center;gap:6px}.owner{display:inline-block;background:#eef0f6;border-radius:4px;padding:2px 8px}.owner summary{cursor:pointer}.arrow{color:var(--dim)}
.incident{border:1px solid #f1b5b5;border-left:6px solid var(--bad);background:#fff6f6;border-radius:6px;padding:8px 12px;margin:8px 0}
.incident.sev-medium{border-left-color:var(--warn);background:#fffaf2;border-color:#f3d3a5}
.incident .reason{color:var(--bad)}.incident.sev-medium .reason{color:var(--warn)}
.sev{font-size:12px;text-transform:uppercase;background:#fff;border:1px solid currentColor;border-radius:3px;padding:0 4px;color:var(--dim)}
.exitcode{font-family:ui-monospace,monospace;background:var(--bad);color:#fff;border-radius:3px;padding:0 5px;font-size:12px}
.lastline code{background:#2a2f3a;color:#ffd7d7;padding:2px 6px;border-radius:3px}
.where{margin:2px 0;color:var(--dim)}.story-of{margin:4px 0}
details{margin:4px 0}summary{cursor:pointer;color:#3a4a8c}
.legend{color:var(--dim);font-size:12px}
.seg-key,.m-key{display:inline-block;width:14px;height:10px;margin:0 4px 0 10px;vertical-align:middle;border-radius:2px}
.lanes{position:relative;background:#fff;border:1px solid var(--line);border-radius:6px;padding:4px 0;overflow:hidden}
.lane{display:flex;align-items:center;min-height:30px;border-top:1px solid #f0f1f4}
.lane.axis{border-top:0;min-height:22px}.lane.pod{border-top:1px solid var(--line);background:#fafbff}
.label{flex:0 0 260px;padding:2px 10px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;font-size:12px}
.lane.container .label{padding-left:26px}
.track{position:relative;flex:1;height:26px;margin-right:16px}
.tick{position:absolute;top:3px;transform:translateX(-50%);font-size:11px;color:var(--dim)}
.bands{position:absolute;left:260px;right:16px;top:0;bottom:0;pointer-events:none}
.band{position:absolute;top:0;bottom:0;width:2px;background:rgba(214,69,69,.55)}
.band span{position:absolute;top:2px;left:4px;font-size:11px;color:var(--bad);font-weight:600;white-space:nowrap;background:rgba(255,255,255,.85)}
.podbar{position:absolute;top:9px;height:8px;background:#d7dcf0;border-radius:4px}.podbar.gone{background:repeating-linear-gradient(90deg,#d7dcf0 0 6px,#eef0f7 6px 10px)}
.seg{position:absolute;top:5px;height:16px;border-radius:3px;background:var(--run);overflow:visible}
.seg.done,.seg-key.done{background:#b9c3cf}.seg.failed,.seg-key.failed{background:#f0a8a8;border-right:3px solid var(--bad)}.seg.running,.seg-key.running{background:var(--run)}
.seg.waiting,.seg-key.waiting{background:repeating-linear-gradient(45deg,#e6e8ee 0 4px,var(--wait) 4px 8px)}
.seg .exit{position:absolute;right:-2px;top:-1px;transform:translateX(100%);font-size:11px;font-weight:600;color:var(--bad);white-space:nowrap;padding:0 3px;z-index:3;background:rgba(255,255,255,.8);border-radius:2px}
.seg .exit.in{right:2px;transform:none}
.seg.done .exit{color:var(--dim)}
.m{position:absolute;top:6px;width:10px;height:14px;margin-left:-5px;padding:0;border:0;border-radius:2px;background:#7d8597;cursor:pointer;font-size:10px;line-height:14px;color:#fff;text-align:center}
.m.log{width:2px;margin-left:-1px;background:rgba(70,80,110,.22);top:9px;height:8px}
.m.warning{background:var(--warn)}.m.error{background:var(--bad)}.m.chg{background:var(--chg);width:6px;margin-left:-3px}
.m-key.ev{background:#7d8597}.m-key.warning{background:var(--warn)}.m-key.chg{background:var(--chg);width:6px}.m-key.inc{background:var(--bad);border:2px solid #fff;outline:2px solid var(--bad)}
.m.inc{background:var(--bad);width:14px;margin-left:-7px;top:4px;height:18px;box-shadow:0 0 0 2px #fff,0 0 0 4px var(--bad)}
.m.lc.error{width:14px;margin-left:-7px}
.m:hover,.m.sel{outline:2px solid #1d2330;z-index:2}
#detail{margin-top:8px;background:#fff;border:1px solid var(--line);border-radius:6px;padding:8px 12px;min-height:48px}
#detail table,table.diff{border-collapse:collapse;font-size:12px}table.diff td,table.diff th{border:1px solid var(--line);padding:2px 6px;vertical-align:top;text-align:left;max-width:520px;white-space:pre-wrap;word-break:break-word}
.failure{background:#fff;border:1px solid var(--line);border-radius:6px;padding:6px 12px;margin:8px 0}
.log{background:#1f2430;color:#e6e6e6;border-radius:4px;padding:6px 8px;overflow:auto;max-height:300px}
.logline{white-space:pre-wrap;word-break:break-word}.logline time{color:#8b93a7}.logline.after{color:#a9d8bf}
.cut{color:#ff9d9d;font-weight:600;margin:2px 0}
.toggles{font-size:12px;margin-bottom:6px}.toggles label{margin-right:8px}
table.narrative{border-collapse:collapse;width:100%;background:#fff;font-size:13px}
table.narrative td{border-top:1px solid #f0f1f4;padding:2px 8px;vertical-align:top}table.narrative td:first-child{white-space:nowrap;font-family:ui-monospace,monospace;font-size:12px;color:var(--dim)}
table.narrative td:nth-child(2){white-space:nowrap;font-size:12px}
tr.t-error td:last-child{color:var(--bad);font-weight:600}tr.t-warning td:last-child{color:#a35f00}
tr.sel{background:#fff3c4}tr[data-seq]{cursor:pointer}
table.stories{border-collapse:collapse;width:100%;background:#fff}table.stories th,table.stories td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;font-size:13px}
table.stories tr.has-incident td:first-child{border-left:4px solid var(--bad)}
form.filters{display:flex;flex-wrap:wrap;gap:10px;align-items:end;margin:8px 0}form.filters label{display:flex;flex-direction:column;font-size:12px;color:var(--dim)}
.pill{display:inline-block;border-radius:10px;padding:0 7px;font-size:12px;background:#fde2e2;color:var(--bad);margin-right:3px}
`;
