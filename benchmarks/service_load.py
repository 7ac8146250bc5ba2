"""Load benchmark of the review service (issue 21): concurrent clients on SQLite and PostgreSQL.

For each store the benchmark seeds a fresh database (two branches, :data:`EVENTS_PER_BRANCH`
events each with a real still and a real H.264 clip, four accounts), starts ``branchwatch
serve`` on 127.0.0.1 as a subprocess (one uvicorn process, the production entry point) and runs
``--clients`` concurrent clients, half with an API token (scopes read and review) and half with
a browser session cookie (logged in through the form, all at once, CSRF token sent with every
change). Together they send ``--requests`` requests, spread evenly: event lists with filters,
event details, stills, clips (range requests from the first byte, as a player starts) and review
decisions (confirm, dismiss, reopen on random events of their branch, so clients collide; 409
is a correct answer to a decision another client made first).

After the run it checks that nothing was lost: every review answered 200 has its review row and
its audit record, and every still or clip answered 200 has its audit record.

With ``--kill-connections`` (PostgreSQL), every database connection of the service is ended
with ``pg_terminate_backend`` twice during the run, standing in for a server restart without
disturbing other users of the shared server; errors are then expected only inside those
windows and are reported apart.

PostgreSQL is the server at ``--pg-url`` (trust auth); the store is a schema of its own in that
database, dropped at the end. Nothing listens beyond 127.0.0.1; every request has a timeout.

Run: ``python benchmarks/service_load.py [--stores sqlite,postgresql] [--clients 50]
[--requests 2000] [--kill-connections]``. Each store ends with a line
``store=… requests=… errors_5xx=… p50_ms=… p95_ms=… rps=…``.
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from api.auth import TokenScope, create_api_token
from api.db.auth_models import AuditLog, User
from api.db.models import EventRecord, Review, utcnow
from api.db.session import make_engine
from tests.api.service.seed import PASSWORD, make_media, seed_store

HOST = "127.0.0.1"
EVENTS_PER_BRANCH = 100
REQUEST_TIMEOUT_S = 60.0
SERVER_START_S = 180.0
KILL_WINDOW_S = 5.0
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
APP_NAME = "branchwatch-load"
SECRET = "load-benchmark-" + secrets.token_hex(24)
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
ACCOUNTS = {"sup1": "b1", "sup2": "b2"}
MIX: tuple[tuple[str, int], ...] = (
    ("list", 25),
    ("detail", 20),
    ("still", 20),
    ("clip", 15),
    ("review", 20),
)
"""Kinds of requests and their weights (per cent)."""


@dataclass
class Outcome:
    """What the clients saw."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: collections.defaultdict(list))
    codes: collections.Counter[tuple[str, int]] = field(default_factory=collections.Counter)
    errors_5xx: list[tuple[float, float, str, int]] = field(default_factory=list)
    """Start and end (seconds from the run's start), kind and status of each 5xx answer."""
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, code: int, seconds: float, at: float) -> None:
        with self.lock:
            self.latencies[kind].append(seconds)
            self.codes[(kind, code)] += 1
            if code >= 500:
                self.errors_5xx.append((at, at + seconds, kind, code))

    def count(self, kind: str, code: int) -> int:
        return self.codes[(kind, code)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def store_url(store: str, folder: Path, pg_url: str) -> Iterator[str]:
    """An empty database of the store kind, removed afterwards (PostgreSQL: a schema)."""
    if store == "sqlite":
        yield f"sqlite:///{folder / 'load.db'}"
        return
    schema = f"bw_load_{os.getpid()}_{secrets.token_hex(3)}"
    admin = make_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = (
        make_url(pg_url)
        .update_query_dict({"options": f"-csearch_path={schema}", "application_name": APP_NAME})
        .render_as_string(hide_password=False)
    )
    try:
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def seed(url: str, media: dict[str, str]) -> tuple[dict[str, list[int]], dict[str, str]]:
    """Seed the store and add events; returns event ids per branch and a token per account."""
    seed_store(url, media)
    engine = make_engine(url)
    with Session(engine) as db:
        template = db.scalars(select(EventRecord).order_by(EventRecord.id)).first()
        assert template is not None
        for branch in ACCOUNTS.values():
            for i in range(EVENTS_PER_BRANCH):
                db.add(
                    EventRecord(
                        key=f"load-{branch}-{i}",
                        item=template.item,
                        branch_id=branch,
                        camera_id="c1",
                        start_ts=template.start_ts + timedelta(minutes=i),
                        end_ts=template.end_ts + timedelta(minutes=i),
                        zone=template.zone,
                        people=template.people,
                        details=template.details,
                        evidence=template.evidence,
                        evidence_ts=template.evidence_ts,
                        status="pending",
                        rule_version=template.rule_version,
                        detector_version=template.detector_version,
                        video_id=template.video_id,
                    )
                )
        tokens = {}
        for name in ACCOUNTS:
            user = db.scalars(select(User).where(User.username == name)).one()
            tokens[name], _ = create_api_token(
                db,
                user.id,
                "load",
                SECRET,
                [TokenScope.READ, TokenScope.REVIEW],
                utcnow() + timedelta(days=1),
            )
        db.commit()
        events = {
            branch: list(db.scalars(select(EventRecord.id).where(EventRecord.branch_id == branch)))
            for branch in ACCOUNTS.values()
        }
    engine.dispose()
    return events, tokens


@contextmanager
def server(url: str, folder: Path) -> Iterator[str]:
    """``branchwatch serve`` on a free local port; yields its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "BRANCHWATCH_SECRET_KEY": SECRET,
        "BRANCHWATCH_ENVIRONMENT": "production",
        "BRANCHWATCH_NOTICES_DIR": str(folder / "notices"),
    }
    log = (folder / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--host", HOST, "--port", str(port),
         "--db", url],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the service did not start; see {folder / 'server.log'}")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


class LoginFailed(RuntimeError):
    """The login form did not lead to a session."""

    def __init__(self, code: int) -> None:
        super().__init__(f"login failed with {code}")
        self.code = code


def login(client: httpx.Client, username: str) -> str:
    """Log in through the form; returns the session's CSRF token."""
    page = client.get("/login")
    token = CSRF_INPUT.search(page.text)
    if token is None:
        raise LoginFailed(page.status_code)
    answer = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token.group(1)},
    )
    if answer.status_code != 303:
        raise LoginFailed(answer.status_code)
    meta = CSRF_META.search(client.get("/review").text)
    if meta is None:
        raise LoginFailed(answer.status_code)
    return meta.group(1)


@dataclass
class Client:
    """One simulated user: an HTTP client, its account's events and its CSRF token if any."""

    http: httpx.Client
    events: list[int]
    csrf: str | None
    rng: random.Random


def request(c: Client, kind: str) -> httpx.Response:
    """One request of the given kind."""
    event = c.rng.choice(c.events)
    if kind == "list":
        params: dict[str, str | int] = {"limit": c.rng.choice([10, 50, 100])}
        if c.rng.random() < 0.5:
            params["status"] = c.rng.choice(["pending", "confirmed", "dismissed"])
        if c.rng.random() < 0.3:
            params["day"] = c.rng.choice(["2026-11-20", "2026-11-21"])
        return c.http.get("/api/events", params=params)
    if kind == "detail":
        return c.http.get(f"/api/events/{event}")
    if kind == "still":
        return c.http.get(f"/api/events/{event}/still.jpg")
    if kind == "clip":
        return c.http.get(f"/api/events/{event}/clip.mp4", headers={"Range": "bytes=0-"})
    action = c.rng.choice(["confirm", "dismiss", "reopen"])
    body = {"action": action, "reason": "负载测试" if action == "dismiss" else ""}
    headers = {"X-CSRF-Token": c.csrf} if c.csrf else {}
    return c.http.post(f"/api/events/{event}/review", json=body, headers=headers)


def run_clients(
    base: str,
    events: dict[str, list[int]],
    tokens: dict[str, str],
    clients: int,
    requests: int,
    outcome: Outcome,
    t0: float,
) -> None:
    """``clients`` threads, half token, half cookie, sending ``requests`` requests in all."""
    kinds = [k for k, weight in MIX for _ in range(weight)]
    names = list(ACCOUNTS)

    def one(index: int) -> None:
        name = names[index % len(names)]
        rng = random.Random(index)
        share = requests // clients + (1 if index < requests % clients else 0)
        with httpx.Client(base_url=base, timeout=REQUEST_TIMEOUT_S) as http:
            csrf = None
            if index % 2 == 0:
                http.headers["Authorization"] = f"Bearer {tokens[name]}"
            else:
                start = time.perf_counter()
                try:
                    csrf = login(http, name)
                except LoginFailed as exc:
                    outcome.add("login", exc.code, time.perf_counter() - start, start - t0)
                    return
                outcome.add("login", 303, time.perf_counter() - start, start - t0)
            c = Client(http, events[ACCOUNTS[name]], csrf, rng)
            for _ in range(share):
                kind = rng.choice(kinds)
                start = time.perf_counter()
                try:
                    code = request(c, kind).status_code
                except httpx.HTTPError as exc:
                    with outcome.lock:
                        outcome.failures.append(f"{kind}: {type(exc).__name__}: {exc}")
                    continue
                outcome.add(kind, code, time.perf_counter() - start, start - t0)

    with ThreadPoolExecutor(clients) as pool:
        for future in [pool.submit(one, i) for i in range(clients)]:
            future.result()


def kill_connections(pg_url: str, at: list[float], t0: float, windows: list[float]) -> None:
    """End every connection of the service at the given offsets (seconds from ``t0``)."""
    admin = make_engine(pg_url)
    try:
        for offset in at:
            time.sleep(max(0.0, t0 + offset - time.perf_counter()))
            windows.append(time.perf_counter() - t0)
            with admin.begin() as conn:
                ended = conn.execute(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE application_name = :name"
                    ),
                    {"name": APP_NAME},
                ).scalar()
            print(f"  t={windows[-1]:.1f}s: ended {ended} service connections")
    finally:
        admin.dispose()


def verify(url: str, outcome: Outcome) -> list[str]:
    """Every 200 answer left its rows: reviews and audit records of decisions and views (and
    nothing else was stored, but for requests whose answer was lost in transport)."""
    engine: Engine = make_engine(url)
    problems = []
    with Session(engine) as db:

        def audits(*actions: str) -> int:
            query = select(func.count(AuditLog.id)).where(AuditLog.action.in_(actions))
            return int(db.scalar(query) or 0)

        reviews = int(db.scalar(select(func.count(Review.id))) or 0)
        checks = {
            "review rows": (reviews, outcome.count("review", 200)),
            "review audit records": (
                audits("confirm", "dismiss", "reopen"),
                outcome.count("review", 200),
            ),
            "still views audited": (audits("still_viewed"), outcome.count("still", 200)),
            "clip views audited": (
                audits("clip_viewed"),
                outcome.count("clip", 200) + outcome.count("clip", 206),
            ),
        }
    engine.dispose()
    for name, (stored, answered) in checks.items():
        # A request whose answer the client never got (transport failure) may still be stored.
        if not answered <= stored <= answered + len(outcome.failures):
            problems.append(f"{name}: {stored} stored, {answered} answered")
    return problems


def report(store: str, outcome: Outcome, wall_s: float, windows: list[float]) -> int:
    """Print the figures; returns the number of 5xx outside the connection-kill windows."""
    all_ms = np.array([s for ls in outcome.latencies.values() for s in ls]) * 1000
    for kind in [k for k, _ in MIX] + ["login"]:
        ms = np.array(outcome.latencies.get(kind, [])) * 1000
        if ms.size:
            codes = {c: n for (k, c), n in sorted(outcome.codes.items()) if k == kind}
            print(
                f"  {kind:7s} n={ms.size:5d} p50={np.percentile(ms, 50):7.1f} ms "
                f"p95={np.percentile(ms, 95):7.1f} ms codes={codes}"
            )
    # A request is in a window if it was in flight when the connections were ended, or began
    # within KILL_WINDOW_S after (while the pool finds out which connections are dead).
    in_window = [
        e
        for e in outcome.errors_5xx
        if any(e[0] <= w + KILL_WINDOW_S and e[1] >= w for w in windows)
    ]
    outside = len(outcome.errors_5xx) - len(in_window)
    if windows:
        print(f"  connections ended at {', '.join(f'{w:.1f}' for w in windows)} s")
        for start, end, kind, code in outcome.errors_5xx:
            print(f"  {code} {kind}: in flight {start:.1f}-{end:.1f} s")
        print(f"  5xx inside the connection-kill windows: {len(in_window)}; outside: {outside}")
    for failure in outcome.failures[:5]:
        print(f"  transport failure: {failure}")
    print(
        f"store={store} requests={all_ms.size} errors_5xx={outside} "
        f"transport_failures={len(outcome.failures)} p50_ms={np.percentile(all_ms, 50):.1f} "
        f"p95_ms={np.percentile(all_ms, 95):.1f} rps={all_ms.size / wall_s:.0f}"
    )
    return outside + len(outcome.failures)


def run_store(store: str, args: argparse.Namespace, media: dict[str, str], folder: Path) -> int:
    """Seed, serve, load and check one store; returns the number of problems."""
    with store_url(store, folder, args.pg_url) as url:
        events, tokens = seed(url, media)
        with server(url, folder) as base:
            outcome = Outcome()
            windows: list[float] = []
            t0 = time.perf_counter()
            killer: threading.Thread | None = None
            if args.kill_connections and store == "postgresql":
                killer = threading.Thread(
                    target=kill_connections, args=(args.pg_url, [3.0, 8.0], t0, windows)
                )
                killer.start()
            run_clients(base, events, tokens, args.clients, args.requests, outcome, t0)
            wall = time.perf_counter() - t0
            if killer is not None:
                killer.join()
        print(f"{store}: {args.clients} clients, {wall:.1f} s")
        if outcome.errors_5xx:
            log = (folder / "server.log").read_text(errors="replace").splitlines()
            for line in [x for x in log if "database" in x or "rror" in x][:20]:
                print(f"  server: {line}")
        bad = report(store, outcome, wall, windows)
        problems = verify(url, outcome)
        for problem in problems:
            print(f"  LOST: {problem}")
    return bad + len(problems)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--kill-connections", action="store_true")
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= 200 or not 1 <= args.requests <= 100_000:
        parser.error("--clients must be 1..200 and --requests 1..100000")
    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    with open("/proc/loadavg") as fh:
        print(f"load before: {fh.read().split()[:3]}")
    problems = 0
    with tempfile.TemporaryDirectory(prefix="bw-load-") as tmp:
        media = make_media(Path(tmp) / "media")
        for store in stores:
            folder = Path(tmp) / store
            folder.mkdir()
            problems += run_store(store, args, media, folder)
    with open("/proc/loadavg") as fh:
        print(f"load after: {fh.read().split()[:3]}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
