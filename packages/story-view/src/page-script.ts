// The page's only script (inlined; the page's Content-Security-Policy allows exactly this text by its hash):
// click a marker or a narrative line to see the entry, toggle entry kinds. It writes text nodes only.
export const PAGE_SCRIPT = `(function(){
"use strict";
var data=JSON.parse(document.getElementById("faro-story").textContent);
var bySeq=new Map();data.entries.forEach(function(e){bySeq.set(e.seq,e);});
var panel=document.getElementById("detail");
function el(tag,text,cls){var n=document.createElement(tag);if(text!=null)n.textContent=String(text);if(cls)n.className=cls;return n;}
function json(v){try{var s=JSON.stringify(v,null,1);return s==null?"":s;}catch(_){return String(v);}}
function show(seq){
  var e=bySeq.get(seq);if(!e)return;
  panel.textContent="";
  var h=el("h3",e.timestamp+"  "+e.kind+(e.pod?"  "+e.pod+(e.container?"/"+e.container:""):""));panel.appendChild(h);
  panel.appendChild(el("p",e.sentence,"sentence"));
  if(e.summary!==e.sentence)panel.appendChild(el("p",e.summary,"dim"));
  var d=e.data||{};
  if(e.kind==="change"&&Array.isArray(d.diff)){
    var t=el("table",null,"diff");var hr=el("tr");["op","path","from","to"].forEach(function(x){hr.appendChild(el("th",x));});t.appendChild(hr);
    d.diff.forEach(function(op){var r=el("tr");r.appendChild(el("td",op.op));r.appendChild(el("td",op.path||"(whole object)"));r.appendChild(el("td",op.from===undefined?"":json(op.from)));r.appendChild(el("td",op.to===undefined?"":json(op.to)));t.appendChild(r);});
    panel.appendChild(t);
  }else if(e.kind==="log"&&Array.isArray(d.lines)){
    var lg=el("div",null,"log");d.lines.forEach(function(l){lg.appendChild(el("div",l.timestamp+"  "+l.line,"logline"));});panel.appendChild(lg);
  }else{panel.appendChild(el("pre",json(d)));}
  document.querySelectorAll(".sel").forEach(function(n){n.classList.remove("sel");});
  document.querySelectorAll('[data-seq="'+seq+'"]').forEach(function(n){n.classList.add("sel");});
}
document.addEventListener("click",function(ev){
  var t=ev.target&&ev.target.closest?ev.target.closest("[data-seq]"):null;if(!t)return;
  var seq=Number(t.getAttribute("data-seq"));show(seq);
  if(t.tagName==="BUTTON"){var row=document.getElementById("e"+seq);if(row&&row.scrollIntoView)row.scrollIntoView({block:"nearest"});}
  else if(panel.scrollIntoView)panel.scrollIntoView({block:"nearest"});
});
document.querySelectorAll("input[data-kind]").forEach(function(cb){cb.addEventListener("change",function(){
  var k=cb.getAttribute("data-kind");document.querySelectorAll("tr.k-"+k).forEach(function(r){r.hidden=!cb.checked;});
});});
})();`;
