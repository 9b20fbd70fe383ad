"""The inline stylesheet of report.html (kept apart so html.py reads as structure)."""

from __future__ import annotations

__all__ = ["STYLE"]

STYLE = """
:root{--pass:#1a7f37;--fail:#cf222e;--warn:#9a6700;--unsupported:#6e7781;--disabled:#8c959f;
--error:#8250df;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#ffffff;--code:#f6f8fa}
*{box-sizing:border-box}
body{margin:0 auto;max-width:72rem;padding:1.5rem;color:var(--fg);background:var(--bg);
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
h1{font-size:1.5rem;margin:0 0 .5rem}h2{font-size:1.15rem;margin:2rem 0 .6rem;
border-bottom:1px solid var(--line);padding-bottom:.3rem}
code,pre{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{background:var(--code);border:1px solid var(--line);border-radius:6px;padding:.6rem;
margin:.3rem 0;white-space:pre-wrap;overflow-wrap:anywhere}
.verdict{font-size:1.3rem;padding:.6rem 1rem;border-radius:6px;border-left:6px solid;margin:.5rem 0}
.v-conformant{border-color:var(--pass);background:#dafbe1}
.v-partial{border-color:var(--warn);background:#fff8c5}
.v-non-conformant{border-color:var(--fail);background:#ffebe9}
.v-incomplete{border-color:var(--error);background:#fbefff}
.badge{display:inline-block;padding:0 .5rem;border-radius:1rem;color:#fff;font-size:12px;
font-weight:600}
.o-pass{background:var(--pass)}.o-fail{background:var(--fail)}.o-warn{background:var(--warn)}
.o-unsupported{background:var(--unsupported)}.o-disabled{background:var(--disabled)}
.o-error{background:var(--error)}
.n{display:inline-block;min-width:1.6rem;text-align:center;border-radius:4px;color:#fff}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.1rem 1rem;margin:.8rem 0}
dl.meta dt{color:var(--muted)}dl.meta dd{margin:0;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%}
th,td{border:1px solid var(--line);padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:var(--code)}
table.matrix td:nth-child(n+3),table.num td:nth-child(n+2){text-align:right}
table.ops td:nth-child(2),table.ops td:nth-child(8){text-align:left}
details.finding{border:1px solid var(--line);border-radius:6px;margin:.6rem 0;padding:.4rem .8rem;
background:var(--bg)}
details.finding summary{cursor:pointer}
.cap,.lbl{color:var(--muted)}.lbl{margin:.5rem 0 0;font-size:12px}
.exchange{border-top:1px dashed var(--line);margin-top:.5rem}
.req{font-family:ui-monospace,monospace;margin:.4rem 0 0;overflow-wrap:anywhere}
.ok{color:var(--pass)}.bad{color:var(--fail)}
footer{margin-top:2rem;color:var(--muted);font-size:12px}
[hidden]{display:none!important}
.filters{position:sticky;top:0;z-index:1;display:flex;flex-wrap:wrap;gap:.4rem .8rem;
align-items:center;padding:.5rem .8rem;margin:.8rem 0;background:var(--code);
border:1px solid var(--line);border-radius:6px}
.filters label{cursor:pointer;white-space:nowrap}
button{font:inherit;font-size:12px;padding:.05rem .5rem;border:1px solid var(--line);
border-radius:4px;background:var(--bg);cursor:pointer}
.step{margin:.1rem 0;font-weight:600}
.headline{display:block;margin:.15rem 0 0 1.1rem;color:var(--fg);overflow-wrap:anywhere}
details.finding[open]>summary .headline{display:none}
details>summary h2{display:inline-block;border:0;margin:1.4rem 0 .4rem}
section>details>summary{cursor:pointer}
details.finding details{margin:.4rem 0}details.finding details>summary{color:var(--muted)}
details.na{color:var(--muted);margin:.4rem 0}details.na>summary{cursor:pointer}
ul.plain{list-style:none;padding-left:1rem;margin:.3rem 0}
table.passed td:nth-child(3){text-align:right}
"""
