#!/usr/bin/env python3
"""Benchmark of ``siren proxy`` beside its reference points, in one bounded run on loopback.

Configurations (each behind the same origin, an nginx answering ``return 200``):

- ``direct``: the origin itself;
- ``siren``: ``siren proxy`` (one process, block mode, built-in rules, no configuration file);
- ``nginx``: a plain nginx reverse proxy, one worker, no WAF;
- ``modsec``: nginx + ModSecurity v3 + OWASP CRS at paranoia level 1, one worker.

The nginx instances come from ``../shared/peers/modsec/start.sh``, started here under a private
prefix and base port and stopped with its ``stop.sh`` (only what this run started).

For a small GET (browser-like headers, a query string) and a 1 KB JSON POST, at 1, 16 and 64
connections, wrk (one thread) measures requests/s and p50/p99 latency; the CPU time the serving
process used per request is read from /proc (steadier than req/s on a shared machine). Then the
RSS of the siren process after the load, and a replay of the labelled corpora through the proxy
(``../shared/wafbench/replay.py``) compared with ``siren eval`` on the same files, request by
request; both run one frozen copy of the ``siren`` package so a rule edit elsewhere in the tree
cannot change one side and not the other.

Usage::

    python bench/proxy.py                     # everything, ~2 min of load + the replay
    python bench/proxy.py --duration 3 --no-replay
    python bench/proxy.py --report out.json   # print the tables of an earlier run

Everything is bounded: every wrk run by ``-d`` and a timeout, the replay by ``--max-seconds``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
PEER = SHARED / "peers" / "modsec"
REPLAY = SHARED / "wafbench" / "replay.py"
CORPUS = sorted((SHARED / "corpus").glob("*.jsonl"))
TICK = os.sysconf("SC_CLK_TCK")
CONFIGS = ("direct", "siren", "nginx", "modsec")
PEER_NAMES = {"direct": "upstream", "nginx": "proxy", "modsec": "pl1"}

GET_PATH = "/search?q=running-shoes&category=sports&page=2&sort=price_asc&lang=en"
POST_PATH = "/api/v1/orders"

# wrk: one fixed request from environment variables; done() prints one machine-readable line.
WRK_LUA = r"""
wrk.method = os.getenv("BENCH_METHOD")
wrk.path = os.getenv("BENCH_PATH")
wrk.headers["Host"] = "localhost"
wrk.headers["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
wrk.headers["Accept"] = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
wrk.headers["Accept-Language"] = "en-GB,en;q=0.7"
local body = os.getenv("BENCH_BODY_FILE")
if body and body ~= "" then
  local f = assert(io.open(body, "rb"))
  wrk.body = f:read("*a")
  f:close()
  wrk.headers["Content-Type"] = "application/json"
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCHJSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,' ..
    '"timeout":%d,"p50_us":%d,"p99_us":%d,"mean_us":%.1f}\n', summary.requests, summary.duration, e.connect, e.read,
    e.write, e.status, e.timeout, latency:percentile(50), latency:percentile(99), latency.mean))
end
"""


def order_json() -> bytes:
    """A ~1 KB JSON order, the kind of body an API takes."""
    items = [
        {"sku": f"SKU-{4100 + i}", "title": f"trail shoe {i} blue", "qty": 1 + i % 3, "price": 49.5 + i, "discount": 0.0}
        for i in range(6)
    ]
    doc = {
        "order_ref": "ORD-2026-004211", "customer": 91827, "currency": "EUR", "channel": "mobile-app", "items": items,
        "shipping": {"name": "Jo Example", "street": "12 Long Road", "city": "Lyon", "zip": "69003", "country": "FR"},
        "gift": False, "coupon": "SPRING10", "note": "leave the parcel with the neighbour if nobody is home",
    }
    return json.dumps(doc, separators=(",", ":")).encode()


# -- processes ------------------------------------------------------------------------------------


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def wait_port(port: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not port_free(port):
            return
        time.sleep(0.05)
    raise SystemExit(f"nothing listens on 127.0.0.1:{port} after {seconds:.0f}s")


def peer_env(prefix: str, base: int) -> dict[str, str]:
    return dict(os.environ, MODSEC_PEER_PREFIX=prefix, MODSEC_PEER_BASE_PORT=str(base), MODSEC_PEER_ONLY="upstream proxy pl1",
                MODSEC_PEER_WORKERS="1")


def nginx_workers(prefix: str, name: str) -> list[int]:
    master = int(Path(prefix, name, "nginx.pid").read_text().strip())
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2 :].split()[1]) == master:
                kids.append(int(entry))
    return kids


def cpu_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text()
        fields_after = fields[fields.rindex(")") + 2 :].split()
        total += int(fields_after[11]) + int(fields_after[12])
    return total


def memory(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key.lower() + "_kb"] = int(value.split()[0])
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        m = re.match(r"(Pss|Private_Dirty):\s+(\d+) kB", line)
        if m:
            out[m.group(1).lower() + "_kb"] = int(m.group(2))
    return out


def start_siren(pythonpath: str, port: int, upstream: int, log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=pythonpath)
    cmd = [sys.executable, "-m", "siren.cli", "proxy", "--listen", f"127.0.0.1:{port}", "--upstream", f"http://127.0.0.1:{upstream}",
           "--admin", ""]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=out, env=env)
    deadline = time.monotonic() + 600  # a first start may compile the rule database
    while time.monotonic() < deadline:
        if b'"listening"' in log.read_bytes():
            return proc
        if proc.poll() is not None:
            raise SystemExit(f"siren proxy exited: {log.read_text()[-2000:]}")
        time.sleep(0.1)
    stop_pid(proc)
    raise SystemExit("siren proxy did not start")


def stop_pid(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(30)


def status_of(port: int, method: str, path: str, body: bytes) -> int:
    head = f"{method} {path} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) bench\r\nAccept: */*\r\n"
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.encode() + b"Connection: close\r\n\r\n" + body)
        data = sock.recv(4096)
    return int(data.split(b" ", 2)[1])


# -- load ------------------------------------------------------------------------------------------


def run_wrk(port: int, kind: str, conns: int, seconds: int, lua: Path, body_file: Path, pids: list[int]) -> dict[str, Any]:
    env = dict(os.environ, BENCH_METHOD="GET" if kind == "get" else "POST", BENCH_PATH=GET_PATH if kind == "get" else POST_PATH,
               BENCH_BODY_FILE="" if kind == "get" else str(body_file))
    t0 = cpu_ticks(pids)
    proc = subprocess.run(["wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--timeout", "5s", "-s", str(lua), f"http://127.0.0.1:{port}"],
                          capture_output=True, text=True, env=env, timeout=seconds + 60)
    t1 = cpu_ticks(pids)
    m = re.search(r"^BENCHJSON (\{.*\})$", proc.stdout, re.M)
    if not m:
        raise SystemExit(f"wrk gave no result: {proc.stdout}\n{proc.stderr}")
    r: dict[str, Any] = json.loads(m.group(1))
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    r["cpu_us_per_req"] = (t1 - t0) / TICK * 1e6 / max(1, r["requests"])
    r["errors"] = r["connect"] + r["read"] + r["write"] + r["timeout"]
    return r


# -- replay ------------------------------------------------------------------------------------------

DECIDE = """
import json, sys
from pathlib import Path
from siren.corpus import read_corpus
from siren.engine import Engine
from siren.evaluation import evaluate
decided = {}
def note(record, verdict):
    decided[record.source + "/" + record.id] = verdict.score >= verdict.threshold
ev = evaluate(Engine.create(), sys.argv[1:], on_record=note)
print(json.dumps({"evaluation": ev.as_dict(), "decided": decided}))
"""


def replay(pythonpath: str, port: int, work: Path, limit: int, max_seconds: int) -> dict[str, Any]:
    out = work / "replay.json"
    files = [str(p) for p in CORPUS]
    t0 = time.monotonic()
    run = subprocess.run([sys.executable, str(REPLAY), "--target", f"http://127.0.0.1:{port}", *files, "--concurrency", "8",
                          "--limit", str(limit), "--timeout", "30", "--max-seconds", str(max_seconds), "--json-out", str(out),
                          "--label", "siren proxy"], capture_output=True, text=True, timeout=max_seconds + 120)
    replay_seconds = time.monotonic() - t0
    if run.returncode != 0:
        raise SystemExit(f"replay failed: {run.stderr[-2000:]}")
    doc = json.loads(out.read_text())
    t0 = time.monotonic()
    if limit:  # the same spread subset of lines for siren eval
        subset = []
        for path in CORPUS:
            wanted = {r["line"] for r in doc["records"] if r["file"] == path.name}
            sub = work / path.name
            with path.open() as src, sub.open("w") as dst:
                dst.writelines(line for n, line in enumerate(src, 1) if n in wanted)
            subset.append(str(sub))
        files = subset
    ev = subprocess.run([sys.executable, "-c", DECIDE, *files], capture_output=True, text=True, timeout=7200,
                        env=dict(os.environ, PYTHONPATH=pythonpath))
    eval_seconds = time.monotonic() - t0
    if ev.returncode != 0:
        raise SystemExit(f"siren eval failed: {ev.stderr[-2000:]}")
    evaluated = json.loads(ev.stdout)
    decided = evaluated["decided"]
    noisy = {"other", "scanner"}
    figures: dict[str, dict[str, int]] = {}
    differ = []
    for r in doc["records"]:
        key = f"{r['source']}/{r['id']}"
        blocked = r["outcome"] == "blocked"
        if blocked != decided.get(key):
            differ.append({"id": key, "proxy": r["outcome"], "eval_blocked": decided.get(key)})
        label = "benign" if r["label"] == "benign" else ("attack" if r["category"] not in noisy else None)
        if label:
            f = figures.setdefault(r["file"], {"attack": 0, "attack_blocked": 0, "benign": 0, "benign_blocked": 0})
            f[label] += 1
            f[label + "_blocked"] += int(blocked)
    eval_files = {Path(k).name: v for k, v in evaluated["evaluation"]["files"].items()}
    return {
        "requests": len(doc["records"]),
        "errors": sum(1 for r in doc["records"] if r["outcome"] == "error"),
        "not_sent": doc["summary"]["overall"].get("not_sent", 0),
        "replay_seconds": round(replay_seconds, 1),
        "eval_seconds": round(eval_seconds, 1),
        "proxy": figures,
        "eval": {name: {"attack": c["attack"]["total"], "attack_blocked": c["attack"]["blocked"], "benign": c["benign"]["total"],
                        "benign_blocked": c["benign"]["blocked"]} for name, c in eval_files.items()},
        "differ": differ[:50],
        "differ_count": len(differ),
    }


# -- report ------------------------------------------------------------------------------------------


def report(doc: dict[str, Any]) -> None:
    meta = doc["meta"]
    print(f"\nwrk -t1, {meta['duration_s']} s per run, {meta['reps']} rep(s), medians; {meta['nproc']} CPUs; "
          f"load average before: {meta['loadavg']}")
    rows = doc["medians"]
    for kind in ("get", "post"):
        print(f"\n{'GET ' + GET_PATH if kind == 'get' else 'POST ' + POST_PATH + ' (1 KB JSON)'}\n")
        print("| conns | config | status | req/s | p50 ms | p99 ms | CPU µs/req | errors |")
        print("|---:|---|---:|---:|---:|---:|---:|---:|")
        for r in rows:
            if r["kind"] == kind:
                print(f"| {r['conns']} | {r['config']} | {r['http_status']} | {r['rps']:.0f} | {r['p50_us'] / 1000:.3f} | "
                      f"{r['p99_us'] / 1000:.3f} | {r['cpu_us_per_req']:.0f} | {r['errors'] + r['status']} |")
    c = doc["checks"]
    print("\nchecks (16 connections, one siren process vs one nginx worker):")
    for name, value in c.items():
        print(f"  {name}: {value}")
    mem = doc["memory"]
    print(f"\nsiren proxy memory: idle {mem['idle']['vmrss_kb'] / 1024:.1f} MB RSS -> after load {mem['after']['vmrss_kb'] / 1024:.1f} MB RSS "
          f"(peak {mem['after']['vmhwm_kb'] / 1024:.1f} MB, PSS {mem['after']['pss_kb'] / 1024:.1f} MB)")
    rep = doc.get("replay")
    if rep:
        print(f"\nreplay through siren proxy ({rep['requests']} requests, {rep['errors']} errors, {rep['replay_seconds']} s) "
              f"vs siren eval in-process ({rep['eval_seconds']} s), attacks without 'other'/'scanner':")
        print("| file | proxy attacks blocked | eval attacks blocked | proxy benign blocked | eval benign blocked |")
        print("|---|---:|---:|---:|---:|")
        for name in sorted(rep["proxy"]):
            p, e = rep["proxy"][name], rep["eval"].get(name, {})
            print(f"| {name} | {p['attack_blocked']}/{p['attack']} | {e.get('attack_blocked')}/{e.get('attack')} | "
                  f"{p['benign_blocked']}/{p['benign']} | {e.get('benign_blocked')}/{e.get('benign')} |")
        print(f"requests decided differently by the proxy and in-process: {rep['differ_count']}")


def checks(med: list[dict[str, Any]], mem: dict[str, Any], rep: dict[str, Any] | None) -> dict[str, str]:
    idx = {(r["kind"], r["conns"], r["config"]): r for r in med}
    out: dict[str, str] = {}

    def ratio(kind: str, a: str, b: str) -> float | None:
        if (kind, 16, a) in idx and (kind, 16, b) in idx:
            return float(idx[(kind, 16, a)]["rps"] / idx[(kind, 16, b)]["rps"])
        return None

    for kind, need in (("get", 5.0), ("post", 10.0)):
        x = ratio(kind, "siren", "modsec")
        if x is not None:
            out[f"{kind} siren/modsec-PL1 throughput"] = f"{x:.2f}x (need >= {need:g}x): {'PASS' if x >= need else 'FAIL'}"
        y = ratio(kind, "siren", "nginx")
        if y is not None:
            out[f"{kind} siren/plain-nginx throughput"] = f"{y:.2f} (need >= 0.20): {'PASS' if y >= 0.2 else 'FAIL'}"
        if (kind, 1, "siren") in idx and (kind, 1, "direct") in idx:
            s, d = idx[(kind, 1, "siren")], idx[(kind, 1, "direct")]
            p50 = (s["p50_us"] - d["p50_us"]) / 1000
            p99 = (s["p99_us"] - d["p99_us"]) / 1000
            out[f"{kind} added latency at 1 conn"] = (f"p50 +{p50:.3f} ms (need <= 0.5): {'PASS' if p50 <= 0.5 else 'FAIL'}, "
                                                      f"p99 +{p99:.3f} ms (need <= 2): {'PASS' if p99 <= 2 else 'FAIL'}")
    rss = mem["after"]["vmrss_kb"] / 1024
    out["siren RSS after the load"] = f"{rss:.1f} MB (need <= 50): {'PASS' if rss <= 50 else 'FAIL'}"
    if rep:
        same = rep["differ_count"] == 0 and rep["errors"] == 0
        out["replay through the proxy == siren eval"] = f"{rep['differ_count']} requests differ, {rep['errors']} errors: {'PASS' if same else 'FAIL'}"
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--duration", type=int, default=5, help="seconds per wrk run (default 5)")
    ap.add_argument("--conns", default="1,16,64")
    ap.add_argument("--kinds", default="get,post")
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--base-port", type=int, default=28380, help="peer instances use BASE..BASE+2, siren BASE+9")
    ap.add_argument("--no-replay", action="store_true")
    ap.add_argument("--replay-limit", type=int, default=0, help="lines per corpus file for the replay (0 = all)")
    ap.add_argument("--replay-max-seconds", type=int, default=1800)
    ap.add_argument("--out", default="", help="write the results here (JSON)")
    ap.add_argument("--report", metavar="JSON", help="print the tables of an earlier run and exit")
    a = ap.parse_args()
    if a.report:
        report(json.loads(Path(a.report).read_text()))
        return 0
    for tool in ("wrk",):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed")
    configs = [c for c in a.configs.split(",") if c]
    conns = [int(c) for c in a.conns.split(",")]
    kinds = [k for k in a.kinds.split(",") if k]
    base = a.base_port
    ports = {"direct": base, "nginx": base + 1, "modsec": base + 2, "siren": base + 9}
    for port in ports.values():
        if not port_free(port):
            raise SystemExit(f"port {port} is in use; choose another --base-port")

    work = Path(tempfile.mkdtemp(prefix="siren-bench-"))
    prefix = str(work / "peer")
    lua = work / "bench.lua"
    lua.write_text(WRK_LUA)
    body_file = work / "order.json"
    body_file.write_bytes(order_json())
    import siren as package

    shutil.copytree(Path(package.__file__).parent, work / "snapshot" / "siren", ignore=shutil.ignore_patterns("__pycache__"))
    pythonpath = str(work / "snapshot")
    siren_proc: subprocess.Popen[bytes] | None = None
    peer_started = False
    try:
        start = subprocess.run(["bash", str(PEER / "start.sh")], env=peer_env(prefix, base), capture_output=True, text=True, timeout=900)
        peer_started = True
        if start.returncode != 0:
            raise SystemExit(f"peer start failed: {start.stdout[-1000:]}{start.stderr[-2000:]}")
        siren_proc = start_siren(pythonpath, ports["siren"], ports["direct"], work / "siren.log")
        for port in ports.values():
            wait_port(port, 60)
        pids = {c: (nginx_workers(prefix, PEER_NAMES[c]) if c != "siren" else [siren_proc.pid]) for c in configs}
        body = body_file.read_bytes()
        statuses = {c: {k: status_of(ports[c], "GET" if k == "get" else "POST", GET_PATH if k == "get" else POST_PATH,
                                     b"" if k == "get" else body) for k in kinds} for c in configs}
        print("status of the benchmark requests:", statuses, flush=True)
        mem_idle = memory(siren_proc.pid)
        for c in configs:  # warm-up
            for k in kinds:
                run_wrk(ports[c], k, 16, 1, lua, body_file, pids[c])
        runs = []
        total = len(configs) * len(conns) * len(kinds) * a.reps
        n = 0
        for rep in range(a.reps):
            order = configs if rep % 2 == 0 else list(reversed(configs))
            for k in kinds:
                for cc in conns:
                    for c in order:
                        n += 1
                        r = run_wrk(ports[c], k, cc, a.duration, lua, body_file, pids[c])
                        r.update(config=c, kind=k, conns=cc, rep=rep)
                        runs.append(r)
                        print(f"[{n}/{total}] {k:4} c={cc:<3} {c:7} {r['rps']:8.0f} req/s p50={r['p50_us'] / 1000:7.3f}ms "
                              f"p99={r['p99_us'] / 1000:7.3f}ms cpu/req={r['cpu_us_per_req']:6.0f}us non2xx={r['status']} "
                              f"sockerr={r['errors']}", flush=True)
        mem_after = memory(siren_proc.pid)
        med = []
        for k in kinds:
            for cc in conns:
                for c in configs:
                    rs = [r for r in runs if (r["config"], r["kind"], r["conns"]) == (c, k, cc)]
                    row: dict[str, Any] = {"config": c, "kind": k, "conns": cc, "http_status": statuses[c][k]}
                    for f in ("rps", "p50_us", "p99_us", "cpu_us_per_req"):
                        row[f] = statistics.median(r[f] for r in rs)
                    row["errors"] = sum(r["errors"] for r in rs)
                    row["status"] = sum(r["status"] for r in rs)
                    med.append(row)
        rep_doc = None
        if not a.no_replay and CORPUS and REPLAY.exists():
            print(f"replaying {len(CORPUS)} corpus files through siren proxy ...", flush=True)
            rep_doc = replay(pythonpath, ports["siren"], work, a.replay_limit, a.replay_max_seconds)
        mem = {"idle": mem_idle, "after": mem_after}
        doc = {
            "meta": {"duration_s": a.duration, "reps": a.reps, "conns": conns, "configs": configs, "nproc": os.cpu_count(),
                     "loadavg": open("/proc/loadavg").read().split()[:3], "uname": " ".join(os.uname()), "wrk_threads": 1,
                     "command": " ".join([Path(sys.executable).name, *sys.argv])},
            "statuses": statuses, "medians": med, "runs": runs, "memory": mem, "replay": rep_doc,
            "checks": checks(med, mem, rep_doc),
        }
        if a.out:
            Path(a.out).parent.mkdir(parents=True, exist_ok=True)
            Path(a.out).write_text(json.dumps(doc, indent=1))
        report(doc)
        return 0
    finally:
        if siren_proc is not None:
            stop_pid(siren_proc)
        if peer_started:
            subprocess.run(["bash", str(PEER / "stop.sh")], env=peer_env(prefix, base), capture_output=True, timeout=120)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
