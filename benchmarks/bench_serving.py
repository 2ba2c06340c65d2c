"""Serving throughput and latency with ``wrk``: the app against a bare Starlette baseline.

Setup: a temporary SQLite file database, upgraded, seeded with the reference mechanisms (or
the test fixture if they are missing), with an admin user and an API token. Then, on 127.0.0.1
only, two uvicorn processes (1 worker each, httptools + uvloop when installed):

* the app: ``uvicorn stcoord.web.app:create_app --factory``;
* the baseline: ``uvicorn --app-dir benchmarks bare_starlette:create_app --factory``, Starlette
  routes running the same queries in SQLAlchemy Core on the same file.

Each read runs ``wrk -t2 -c32 -d10s --latency`` after a short warm-up, app and baseline side
by side; the server's CPU time per request is read from /proc. The write run PATCHes bodies'
``description`` with the bearer token through a generated wrk Lua script: each wrk thread owns
a disjoint set of bodies, never has two requests in flight for the same body, and sends the
version the previous response returned, so no request should conflict (409s are counted, not
hidden). Every write also writes its audit record; the script counts the ``body.update`` audit
records afterwards.

Targets (issue 2): reads >= 0.5x the baseline's req/s; read p99 < 100 ms at 32 connections;
write p99 <= 3x the read p99 of the same resource (GET of one body, which is what the PATCH
returns); zero errors (non-2xx and socket errors).

    .venv/bin/python benchmarks/bench_serving.py [--duration 10 --connections 32 --threads 2]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from benchlib import MINI_FIXTURE, REFERENCE_DIR, sqlite_url, verdict
from sqlalchemy import func, select
from synthetic import SyntheticSizes, synthetic_mechanism

from stcoord.audit.models import AuditRecord
from stcoord.auth.permissions import SYSTEM, Role
from stcoord.auth.service import actor_for, create_token, create_user
from stcoord.db.engine import make_engine
from stcoord.db.migrate import upgrade
from stcoord.db.session import Database
from stcoord.institutions.mechanism_file import parse_mechanism
from stcoord.institutions.models import Body, Jurisdiction
from stcoord.institutions.service import load_mechanism

HERE = Path(__file__).resolve().parent
HOST = "127.0.0.1"
WRK = "/usr/bin/wrk"


# ---------------------------------------------------------------- setup


@dataclass
class Setup:
    url: str
    token: str
    codes: list[str]
    reference: bool
    write_targets: list[tuple[str, str, int]]  # (code, key, version)


def prepare_database(url: str, min_write_targets: int) -> Setup:
    """Schema, mechanisms, an admin with a token, and the bodies the write run will edit."""
    upgrade(url)
    db = Database(make_engine(url))
    files = sorted(REFERENCE_DIR.glob("*.yaml"))
    reference = bool(files)
    try:
        with db.scope(write=True) as session:
            for path in files or [MINI_FIXTURE]:
                spec = parse_mechanism(path.read_text(encoding="utf-8"), path.name)
                load_mechanism(session, SYSTEM, spec)
            n_bodies = session.scalar(select(func.count(Body.id))) or 0
            if n_bodies < min_write_targets:  # e.g. only the 6-body fixture: add bodies to edit
                sizes = SyntheticSizes(100, 300, 200, 150, procedures=1, code="SYN")
                load_mechanism(session, SYSTEM, parse_mechanism(synthetic_mechanism(sizes)))
            user = create_user(
                session, SYSTEM, username="bench-admin", password="bench-password", role=Role.admin
            )
            token = create_token(session, actor_for(user), name="bench_serving").token
        with db.scope(write=False) as session:
            codes = list(session.scalars(select(Jurisdiction.code).order_by(Jurisdiction.code)))
            targets = [
                (code, key, version)
                for code, key, version in session.execute(
                    select(Jurisdiction.code, Body.key, Body.version)
                    .join(Jurisdiction)
                    .order_by(Jurisdiction.code, Body.position)
                )
            ]
    finally:
        db.engine.dispose()
    return Setup(url, token, codes, reference, targets)


def count_audit(url: str, action: str) -> int:
    db = Database(make_engine(url))
    try:
        with db.scope(write=False) as session:
            stmt = select(func.count(AuditRecord.id)).where(AuditRecord.action == action)
            return session.scalar(stmt) or 0
    finally:
        db.engine.dispose()


# ---------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def uvicorn_options() -> list[str]:
    fast = [m for m in ("httptools", "uvloop") if importlib.util.find_spec(m) is not None]
    options = ["--workers", "1", "--no-access-log", "--log-level", "warning"]
    if "httptools" in fast:
        options += ["--http", "httptools"]
    if "uvloop" in fast:
        options += ["--loop", "uvloop"]
    return options


@dataclass
class Server:
    name: str
    base: str
    process: subprocess.Popen[bytes]
    log: Path


@contextlib.contextmanager
def uvicorn(name: str, target: list[str], env: dict[str, str], logdir: Path) -> Iterator[Server]:
    """Start uvicorn on a free loopback port; always terminate it (and only it) afterwards."""
    port = free_port()
    log = logdir / f"{name}.log"
    command = [sys.executable, "-m", "uvicorn", *target, "--host", HOST, "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, *uvicorn_options()], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        yield Server(name, f"http://{HOST}:{port}", process, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def wait_ready(server: Server, path: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited:\n{server.log.read_text()[-3000:]}")
        if status_of(server.base + path) == 200:
            return
        time.sleep(0.2)
    raise RuntimeError(f"{server.name} not ready after {timeout} s:\n{server.log.read_text()}")


def status_of(url: str, headers: dict[str, str] | None = None) -> int | None:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


# ---------------------------------------------------------------- wrk


@dataclass
class WrkResult:
    label: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non2xx: int
    socket_errors: int
    lines: dict[str, str] = field(default_factory=dict)
    server_cpu_ms: float = 0.0  # server process CPU time (all threads) per request

    @property
    def errors(self) -> int:
        return self.non2xx + self.socket_errors


UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(match.group(1)) * UNITS_MS[match.group(2)]


def parse_wrk(label: str, output: str) -> WrkResult:
    def grab(pattern: str, default: str = "0") -> str:
        match = re.search(pattern, output, re.MULTILINE)
        return match.group(1) if match else default

    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    extra = dict(re.findall(r"^(WRITES) (.*)$", output, re.MULTILINE))
    return WrkResult(
        label=label,
        rps=float(grab(r"^Requests/sec:\s+([\d.]+)")),
        p50_ms=_ms(grab(r"^\s+50%\s+(\S+)", "0ms")),
        p99_ms=_ms(grab(r"^\s+99%\s+(\S+)", "0ms")),
        requests=int(grab(r"^\s+(\d+) requests in")),
        non2xx=int(grab(r"^\s+Non-2xx or 3xx responses: (\d+)")),
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
        lines=extra,
    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_wrk(
    label: str,
    server: Server,
    path: str,
    args: argparse.Namespace,
    script: Path | None = None,
    warmup: bool = True,
) -> WrkResult:
    base = [WRK, f"-t{args.threads}", f"-c{args.connections}", "--timeout", "10s"]
    if script is not None:
        base += ["-s", str(script)]
    url = server.base + path
    if warmup and args.warmup > 0:
        subprocess.run([*base, f"-d{args.warmup}s", url], capture_output=True, check=True)
    command = [*base, f"-d{args.duration}s", "--latency", url]
    cpu_before = cpu_seconds(server.process.pid)
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    cpu = cpu_seconds(server.process.pid) - cpu_before
    result = parse_wrk(label, done.stdout)
    result.server_cpu_ms = cpu * 1000 / max(result.requests, 1)
    if args.verbose:
        print(done.stdout)
    print(
        f"{label:<52} {result.rps:7.1f} req/s  p50 {result.p50_ms:7.2f} ms  "
        f"p99 {result.p99_ms:7.2f} ms  errors {result.errors}  "
        f"server CPU {result.server_cpu_ms:.2f} ms/req",
        flush=True,
    )
    return result


LUA_WRITES = """-- Generated by benchmarks/bench_serving.py: PATCH descriptions with a bearer token.
-- Each wrk thread owns a disjoint set of bodies, never has two requests in flight for one
-- body, and sends the version the last response returned, so no request should conflict.
local token = "{token}"
local nthreads = {threads}
local targets = {{
{targets}
}}
local counter = 0
local threads = {{}}

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  free, version, paths = {{}}, {{}}, {{}}
  for i, t in ipairs(targets) do
    if (i - 1) % nthreads == tid then
      local id = t[1] .. "/" .. t[2]
      version[id] = t[3]
      paths[id] = "/api/v1/mechanisms/" .. t[1] .. "/bodies/" .. t[2]
      table.insert(free, id)
    end
  end
  fallback = free[1]
  sent, ok, conflicts, failed, unmatched, starved = 0, 0, 0, 0, 0, 0
end

function request()
  local id = table.remove(free, 1)
  if id == nil then
    starved = starved + 1
    id = fallback
  end
  sent = sent + 1
  local body = string.format(
    '{{"version": %d, "description": "Edited by wrk (thread %d, request %d)"}}',
    version[id], tid, sent)
  local headers = {{
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
    ["X-Request-Id"] = id,
  }}
  return wrk.format("PATCH", paths[id], headers, body)
end

function response(status, headers, body)
  local id, v
  if status == 200 then
    ok = ok + 1
    local code = body:match('^{{"jurisdiction":"([^"]+)"')
    local key = body:match('"body":{{.-"key":"([^"]+)"')
    if code and key then id = code .. "/" .. key end
    v = body:match(',"version":(%d+),"outgoing"')
  else
    if status == 409 then conflicts = conflicts + 1 else failed = failed + 1 end
    id = body:match('"request_id":"([^"]+)"')
    v = body:match('"current":{{.-"version":(%d+)')
  end
  if id == nil or version[id] == nil then
    unmatched = unmatched + 1
    return
  end
  if v then version[id] = tonumber(v) end
  table.insert(free, id)
end

function done(summary, latency, requests)
  local names = {{"sent", "ok", "conflicts", "failed", "unmatched", "starved"}}
  local parts = {{}}
  for _, name in ipairs(names) do
    local n = 0
    for _, thread in ipairs(threads) do n = n + thread:get(name) end
    table.insert(parts, name .. "=" .. n)
  end
  io.write("WRITES " .. table.concat(parts, " ") .. "\\n")
end
"""


def write_script(path: Path, setup: Setup, threads: int) -> Path:
    targets = "\n".join(f'  {{"{c}", "{k}", {v}}},' for c, k, v in setup.write_targets)
    path.write_text(LUA_WRITES.format(token=setup.token, threads=threads, targets=targets))
    return path


# ---------------------------------------------------------------- main


@dataclass
class Read:
    label: str
    app_path: str
    bare_path: str | None
    result: WrkResult | None = None
    bare: WrkResult | None = None


def reads_for(setup: Setup) -> list[Read]:
    code = next((c for c in ("JP", "XA") if c in setup.codes), setup.codes[0])
    key = next(k for c, k, _ in setup.write_targets if c == code)
    return [
        Read("api  GET /api/v1/mechanisms", "/api/v1/mechanisms", "/bare/mechanisms"),
        Read(
            f"api  GET /api/v1/mechanisms/{code}/bodies?limit=50",
            f"/api/v1/mechanisms/{code}/bodies?limit=50",
            f"/bare/mechanisms/{code}/bodies?limit=50",
        ),
        Read(
            f"api  GET /api/v1/mechanisms/{code}/bodies/{key}",
            f"/api/v1/mechanisms/{code}/bodies/{key}",
            None,
        ),
        Read("page GET / (overview)", "/", "/bare/mechanisms"),
        Read(f"page GET /mechanisms/{code}", f"/mechanisms/{code}", None),
    ]


def benchmark(setup: Setup, args: argparse.Namespace, workdir: Path) -> None:
    env = {**os.environ, "STCOORD_DATABASE_URL": setup.url, "STCOORD_SECRET_KEY": "bench-secret"}
    env["STCOORD_READ_CACHE"] = "0" if args.no_read_cache else "1"
    app_target = ["stcoord.web.app:create_app", "--factory"]
    bare_target = ["--app-dir", str(HERE), "bare_starlette:create_app", "--factory"]
    print(
        f"uvicorn options: {' '.join(uvicorn_options())}; read cache: {env['STCOORD_READ_CACHE']}"
    )
    print(
        f"wrk: -t{args.threads} -c{args.connections} -d{args.duration}s --latency "
        f"(after a {args.warmup} s warm-up), on {HOST} only"
    )
    with (
        uvicorn("app", app_target, env, workdir) as app,
        uvicorn("bare", bare_target, env, workdir) as bare,
    ):
        wait_ready(app, "/api/v1/mechanisms")
        wait_ready(bare, "/bare/mechanisms")
        reads = []
        for read in reads_for(setup):
            status = status_of(app.base + read.app_path)
            if status != 200:
                print(f"{read.label:<52} skipped: the app answers {status}")
                continue
            read.result = run_wrk(f"app  {read.label}", app, read.app_path, args)
            if read.bare_path:
                read.bare = run_wrk(f"bare {read.label}", bare, read.bare_path, args)
            reads.append(read)
        before = count_audit(setup.url, "body.update")
        script = write_script(workdir / "writes.lua", setup, args.threads)
        # No warm-up run for writes: the first request of each body must carry its seed version.
        writes = run_wrk(
            "app  PATCH /api/v1/mechanisms/<code>/bodies/<key>",
            app,
            "/",
            args,
            script,
            warmup=False,
        )
    audited = count_audit(setup.url, "body.update") - before
    report(reads, writes, audited, args)


def report(reads: list[Read], writes: WrkResult, audited: int, args: argparse.Namespace) -> None:
    print()
    print("ratios (app req/s / bare req/s):")
    for read in reads:
        if read.result and read.bare:
            print(f"  {read.label:<52} {read.result.rps / read.bare.rps:5.2f}x")
    print(f"writes: {writes.lines.get('WRITES', '(no Lua summary)')}; audit records: {audited}")
    measured = [r.result for r in reads if r.result]
    for read in reads:
        if read.result and read.bare:
            ratio = read.result.rps / read.bare.rps
            verdict(f"{read.label} >= 0.5x bare ({ratio:.2f}x)", ratio >= 0.5)
    for result in measured:
        verdict(
            f"{result.label} p99 < 100 ms at {args.connections} connections "
            f"({result.p99_ms:.1f} ms)",
            result.p99_ms < 100,
        )
    same_resource = next((r.result for r in reads if r.bare_path is None and r.result), None)
    if same_resource is not None:
        factor = writes.p99_ms / same_resource.p99_ms
        verdict(
            f"write p99 <= 3x read p99 of the same body ({writes.p99_ms:.1f} ms vs "
            f"{same_resource.p99_ms:.1f} ms = {factor:.1f}x)",
            factor <= 3,
        )
    slowest = max(measured, key=lambda r: r.p99_ms)
    print(
        f"(write p99 vs the slowest read's p99, {slowest.label.strip()}: "
        f"{writes.p99_ms / slowest.p99_ms:.1f}x)"
    )
    counts = {
        name: int(n) for name, n in (p.split("=") for p in writes.lines.get("WRITES", "").split())
    }
    write_errors = writes.errors + counts.get("unmatched", 0) + counts.get("starved", 0)
    all_errors = sum(r.errors for r in measured) + write_errors
    bare_errors = sum(r.bare.errors for r in reads if r.bare)
    # Requests still in flight when wrk stops are committed (and audited) but never counted as
    # answered, so: answered 200 <= audited <= sent.
    audit_ok = counts.get("ok", -1) <= audited <= counts.get("sent", -1)
    verdict(
        f"zero errors (app reads + writes: {all_errors}; baseline: {bare_errors}; writes "
        f"answered 200: {counts.get('ok', '?')} <= audited {audited} <= sent "
        f"{counts.get('sent', '?')})",
        all_errors == 0 and bare_errors == 0 and audit_ok,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per read")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--verbose", action="store_true", help="print wrk's own output")
    parser.add_argument(
        "--no-read-cache",
        action="store_true",
        help="serve with STCOORD_READ_CACHE=0: every read renders (the first read after a change)",
    )
    args = parser.parse_args()
    # On SIGTERM, unwind through the finally blocks that stop the servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if not Path(WRK).exists():
        sys.exit(f"{WRK} not found: apt-get install wrk")
    with tempfile.TemporaryDirectory(prefix="stcoord-serving-") as tmp:
        workdir = Path(tmp)
        setup = prepare_database(sqlite_url(workdir / "serving.db"), args.connections * 2)
        if not setup.reference:
            print(f"NOTE: no reference mechanisms in {REFERENCE_DIR}; using {MINI_FIXTURE}")
        print(f"database: {setup.url}; mechanisms {', '.join(setup.codes)}")
        print(f"write targets: {len(setup.write_targets)} bodies")
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        benchmark(setup, args, workdir)
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
