"""Every command of the CLI, through the errors a user can cause: one line, exit 2, no traceback.

The commands are discovered from the typer app, so a new command fails
:func:`test_every_command_has_error_cases` until its error paths are listed here. Each case runs
``python -m api.cli`` in a subprocess, as a user's terminal would see it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
import typer
import typer.main

from api.cli import errors
from api.cli.main import app
from api.logs import set_debug

ROOT = Path(__file__).resolve().parents[3]
UNREACHABLE_PG = "postgresql+psycopg://nobody@127.0.0.1:9/test"
SECRET = "cli-error-paths-" + "x" * 32
STORE_FREE = frozenset({"reference set", "reference show"})
"""Commands whose ``--db`` only locates the work folder: a malformed URL is still refused."""


@dataclass(frozen=True)
class Case:
    """One error path: the arguments, the exit status and a fragment of the line expected."""

    args: tuple[str, ...]
    says: str
    status: int = 2


def command_paths() -> list[str]:
    """Every leaf command of the app, as ``"users add"``."""
    out: list[str] = []

    def walk(command: Any, path: list[str]) -> None:
        if hasattr(command, "list_commands"):  # a group (typer's own click)
            ctx = typer.Context(command)
            for name in command.list_commands(ctx):
                walk(command.get_command(ctx, name), [*path, name])
        else:
            out.append(" ".join(path))

    walk(typer.main.get_command(app), [])
    return out


def _options(path: str) -> set[str]:
    command: Any = typer.main.get_command(app)
    for name in path.split():
        command = command.get_command(typer.Context(command), name)
    return {o for p in command.params if p.param_type_name == "option" for o in p.opts}


# Valid arguments of each command except the one a generic case below breaks.
BASE: dict[str, tuple[str, ...]] = {
    "calibrate": ("{video}", "-c", "{config}", "--camera", "lobby", "--at", "1"),
    "score": ("--period", "2026-11"),
    "serve": ("--port", "{port}"),
    "notices": ("--period", "2026-11", "--out", "{tmp}/notices"),
    "report": ("--period", "2026-11", "--out", "{tmp}/reports"),
    "init": ("{tmp}/site",),
    "check": ("-c", "{config}"),
    "scan": ("{tmp}/empty", "-c", "{config}", "--workers", "1"),
    "demo": ("--duration", "120"),
    "events export": ("--format", "jsonl"),
    "evidence backfill": ("-c", "{config}"),
    "reference set": ("{video}", "-c", "{config}", "--camera", "lobby", "--at", "1"),
    "reference show": ("-c", "{config}"),
    "users add": ("carol", "--role", "admin", "--password", "pw-123456789"),
    "users list": (),
    "users disable": ("alice",),
    "users enable": ("alice",),
    "users token": ("alice",),
    "doctor": (),
    "eval": ("{tmp}/labels.yaml",),
    "rules quality": ("-c", "{config}"),
    "notify subscribe": (
        "ops", "--channel", "webhook", "--target", "http://127.0.0.1:9/hook",
        "--role", "supervisor", "-t", "run_failed",
    ),
    "notify list": (),
    "notify deliveries": (),
    "notify send": (),
    "notify remind": (),
    "retention apply": (),
}  # fmt: skip

# Error paths particular to one command.
SPECIFIC: dict[str, list[Case]] = {
    "calibrate": [
        Case(("{video}", "-c", "{config}", "--camera", "nope"), "no camera 'nope'"),
        Case(("{video}", "-c", "{config}", "--camera", "lobby", "--branch", "nope"), "nope"),
        Case(("{tmp}/none.mp4", "-c", "{config}", "--camera", "lobby"), "none.mp4"),
        Case(("{textmp4}", "-c", "{config}", "--camera", "lobby"), "not a video"),
        Case(
            ("{video}", "-c", "{config}", "--camera", "lobby", "--port", "{busy}", "--at", "1"),
            "in use",
        ),
    ],
    "score": [Case(("--period", "2026-11", "--db", "{okdb}", "--branch", "nope"), "nope")],
    "serve": [Case(("--port", "{busy}", "--db", "{okdb}"), "in use")],
    "notices": [
        Case(("--period", "soon", "--db", "{okdb}"), "soon"),
        Case(("--period", "2026-11", "--db", "{okdb}", "--branch", "nope"), "nope"),
        Case(("--period", "2026-11", "--db", "{okdb}", "--out", "{file}/sub"), "{file}"),
    ],
    "report": [Case(("--period", "2026-11", "--db", "{okdb}", "--out", "{file}/sub"), "{file}")],
    "init": [Case(("{file}/sub",), "{file}")],
    "check": [Case(("-c", "{typo}"), "intervl_s: unknown key")],
    "scan": [
        Case(("{tmp}/empty", "-c", "{config}", "--db", "{okdb}", "--work", "{tmp}/w"), "no video"),
        Case(("{tmp}/missing", "-c", "{config}", "--db", "{okdb}"), "missing"),
        Case(("{textmp4}", "-c", "{config}", "--db", "{okdb}", "--work", "{tmp}/w"), "not a", 1),
        Case(("{video}", "-c", "{config}", "--db", "{okdb}", "--work", "{file}/w"), "{file}"),
    ],
    "demo": [Case(("--out", "{file}/demo"), "{file}")],
    "events export": [
        Case(("--db", "{okdb}", "--out", "{file}/x.jsonl"), "{file}"),
        Case(("--db", "{okdb}", "--since", "yesterday"), "yesterday"),
    ],
    "evidence backfill": [
        Case(("-c", "{config}", "--db", "{okdb}", "--work", "{file}/w"), "{file}"),
    ],
    "reference set": [
        Case(("{video}", "-c", "{config}", "--camera", "nope", "--db", "{okdb}"), "nope"),
        Case(("{textmp4}", "-c", "{config}", "--camera", "lobby", "--db", "{okdb}"), "not a"),
    ],
    "reference show": [
        Case(("-c", "{config}", "--camera", "nope", "--db", "{okdb}"), "nope"),
        Case(("-c", "{config}", "--db", "{okdb}", "--out", "{file}/sub"), "{file}"),
    ],
    "users add": [
        Case(("alice", "--role", "admin", "--password", "pw-123456789", "--db", "{okdb}"), "alice")
    ],
    "users list": [],
    "users disable": [Case(("nobody", "--db", "{okdb}"), "nobody")],
    "users enable": [Case(("nobody", "--db", "{okdb}"), "nobody")],
    "users token": [Case(("nobody", "--db", "{okdb}"), "nobody")],
    "doctor": [],
    "eval": [
        Case(("{tmp}/labels.yaml",), "labels.yaml"),
        Case(("{file}",), "afile"),
    ],
    "rules quality": [],
    "notify subscribe": [
        Case(
            (
                "ops",
                "--channel",
                "webhook",
                "--target",
                "not a url",
                "--role",
                "supervisor",
                "-t",
                "run_failed",
                "--db",
                "{okdb}",
            ),
            "not a url",
        ),
        Case(
            (
                "ops",
                "--channel",
                "email",
                "--target",
                "nobody",
                "--role",
                "supervisor",
                "-t",
                "run_failed",
                "--db",
                "{okdb}",
            ),
            "nobody",
        ),
    ],  # fmt: skip
    "notify list": [],
    "notify deliveries": [],
    "notify send": [],
    "notify remind": [],
    "retention apply": [],
}


def generic_cases(path: str) -> list[Case]:
    """Errors every command with the option can meet: bad, unreachable, uncreatable stores;
    a missing configuration, one with a typo."""
    options, base = _options(path), BASE[path]
    status = 1 if path == "doctor" else 2  # the doctor ran and found a problem
    cases: list[Case] = []
    if "--db" in options:
        cases.append(Case((*base, "--db", "notaurl"), "notaurl", status))
        if path not in STORE_FREE:
            cases += [
                Case((*base, "--db", UNREACHABLE_PG), "127.0.0.1", status),
                Case((*base, "--db", "sqlite:///{file}/sub/x.db"), "{file}", status),
            ]
    if "--config" in options and "-c" in base:
        swap = list(base)
        at = swap.index("-c") + 1
        for config, says in (("{tmp}/none.yaml", "none.yaml"), ("{typo}", "{typo_at}")):
            swap[at] = config
            cases.append(Case(tuple(swap), says))
    return cases


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Files the cases refer to, and a port that something already listens on."""
    tmp = tmp_path_factory.mktemp("cli-errors")
    (tmp / "empty").mkdir()
    (tmp / "empty" / "notes.txt").write_text("no video here", encoding="utf-8")
    (tmp / "afile").write_text("a file, not a folder", encoding="utf-8")
    (tmp / "ch01_20261122080000_20261122090000.mp4").write_text("not a video", encoding="utf-8")
    config = tmp / "site" / "branchwatch.yaml"
    typo = tmp / "typo.yaml"
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    values = {
        "tmp": str(tmp),
        "file": str(tmp / "afile"),
        "config": str(config),
        "typo": str(typo),
        "okdb": f"sqlite:///{tmp / 'ok.db'}",
        "video": str(tmp / "clip.mp4"),
        "textmp4": str(tmp / "ch01_20261122080000_20261122090000.mp4"),
        "busy": str(holder.getsockname()[1]),
        "port": str(free.getsockname()[1]),
    }
    free.close()
    assert run_cli(("init", str(tmp / "site")), values).returncode == 0
    text = config.read_text(encoding="utf-8")
    typo.write_text(text.replace("  interval_s:", "  intervl_s:"), encoding="utf-8")
    line = 1 + text[: text.index("  interval_s:")].count("\n")
    values["typo_at"] = f"typo.yaml:{line}:"
    made = run_cli(("users", "add", "alice", "--role", "admin", "--password", "pw-1234567"), values)
    assert made.returncode == 0, made.stderr
    _tiny_video(Path(values["video"]))
    yield values
    holder.close()


def _tiny_video(path: Path) -> None:
    """Three seconds of a moving gradient, 320×180 at 5 fps."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=5)
        stream.width, stream.height, stream.pix_fmt = 320, 180, "yuv420p"
        for i in range(15):
            image = np.full((180, 320, 3), (i * 16) % 256, np.uint8)
            image[:, : 20 * i % 320] = 255
            out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        out.mux(stream.encode(None))


def run_cli(args: tuple[str, ...], values: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``python -m api.cli ARGS`` with the placeholders filled, as a fresh user would run it."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HOME": f"{values['tmp']}/home",
        "BRANCHWATCH_LOG": f"{values['tmp']}/branchwatch.log",
        "BRANCHWATCH_DB": values["okdb"],
        "BRANCHWATCH_SECRET_KEY": SECRET,
        "COLUMNS": "80",
    }
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *(a.format(**values) for a in args)],
        cwd=values["tmp"],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )


def test_every_command_has_error_cases() -> None:
    paths = command_paths()
    assert "users add" in paths and "scan" in paths
    assert set(paths) == set(BASE) == set(SPECIFIC)


def test_no_error_path_prints_a_traceback(world: dict[str, str]) -> None:
    cases = [
        (path, case) for path in command_paths() for case in generic_cases(path) + SPECIFIC[path]
    ]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda pc: run_cli((*pc[0].split(), *pc[1].args), world), cases))
    wrong = []
    for (path, case), result in zip(cases, results, strict=True):
        shown = result.stdout + result.stderr
        says = case.says.format(**world)
        if "Traceback" in shown or result.returncode != case.status or says not in shown:
            wrong.append(f"{path} {' '.join(case.args)} -> {result.returncode}\n{shown[-1500:]}")
    assert not wrong, "\n\n".join(wrong)


def _raise(exc: Exception) -> None:
    raise exc


@pytest.mark.parametrize("debug", [False, True])
def test_an_unexpected_error_is_one_line_and_its_traceback_goes_to_the_log(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    debug: bool,
) -> None:
    log = tmp_path / "logs" / "branchwatch.log"
    monkeypatch.setenv("BRANCHWATCH_LOG", str(log))
    monkeypatch.delenv("BRANCHWATCH_DEBUG", raising=False)
    set_debug(debug)
    try:
        with pytest.raises(SystemExit) as exited:
            errors.run(lambda **_: _raise(KeyError("lost")))
    finally:
        set_debug(False)
    assert exited.value.code == errors.EXIT_FAULT
    shown = capsys.readouterr().err
    assert ("Traceback" in shown) is debug
    assert f"internal error: KeyError: 'lost'; the traceback is in {log}" in shown
    assert "Traceback (most recent call last)" in log.read_text(encoding="utf-8")


def test_a_user_error_that_escapes_a_command_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BRANCHWATCH_LOG", str(tmp_path / "branchwatch.log"))
    denied = PermissionError(13, "Permission denied", "/srv/notices")
    with pytest.raises(SystemExit) as exited:
        errors.run(lambda **_: _raise(denied))
    assert exited.value.code == errors.EXIT_USAGE
    assert capsys.readouterr().err.strip().startswith("cannot write or read /srv/notices")
