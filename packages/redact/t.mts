import { RE2 } from "re2-wasm";
const mk = (f:(i:number)=>string) => Array.from({length:100},(_,i)=>f(i));
const lines = mk(i=> `2024-05-01T10:00:00.123Z INFO  GET /api/v1/orders/${i} 200 12ms request_id=7f3a9c1e-2b4d-4e6f-8a0b`);
const joined = lines.join("\n");
const bench = (label:string, fn:()=>void, reps=200) => { const t=performance.now(); for (let k=0;k<reps;k++) fn(); console.log(label, ((performance.now()-t)/reps*1000).toFixed(1), "µs per 100 lines"); };
for (const src of ["GET /(?:healthz|readyz|livez)|kube-probe/[0-9.]+", "kube-probe/[0-9.]+", "GET /healthz", "zzzz"]) {
  const re = new RE2(src, "u"), reg = new RE2(src,"gmu");
  console.log("==", src);
  bench("joined test", ()=>re.test(joined));
  bench("per-line test", ()=>{ for (const l of lines) re.test(l); });
  bench("joined exec g", ()=>{ reg.lastIndex=0; reg.exec(joined); });
}
const re = new RE2("zzzz","u"); const big = joined+joined+joined+joined;
bench("400 lines joined test zzzz", ()=>re.test(big));
const tiny = new RE2("zzzz","u"); bench("100x test on 1-char", ()=>{ for (let i=0;i<100;i++) tiny.test("a"); });
