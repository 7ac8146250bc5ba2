"""The review service holds one database engine: 500 overview views leave memory and open
file descriptors where they were."""

from __future__ import annotations

import gc
import os
import resource

from fastapi.testclient import TestClient

from tests.api.service.conftest import login

VIEWS = 500
WARM_UP = 40


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _resident_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize()


def _views(client: TestClient, count: int) -> None:
    for i in range(count):
        assert client.get("/" if i % 2 else "/api/branches").status_code == 200
    gc.collect()


def test_overview_views_keep_memory_and_fds_flat(client: TestClient) -> None:
    """The first views may open the pool's connections (with SQLite's WAL files); after that,
    500 more views open nothing and keep memory level (an engine per view leaked 36 fds)."""
    login(client, "admin")
    _views(client, WARM_UP)
    fds, memory = _open_fds(), _resident_bytes()
    _views(client, VIEWS // 2)
    half_fds = _open_fds()
    _views(client, VIEWS // 2)
    grown_fds, grown_memory = _open_fds() - fds, _resident_bytes() - memory
    assert grown_fds <= 3, f"{grown_fds} more open file descriptors after {VIEWS} views"
    assert _open_fds() <= half_fds, "open file descriptors still grow after 250 views"
    assert grown_memory < 8_000_000, f"{grown_memory / 1e6:.1f} MB more resident memory"
