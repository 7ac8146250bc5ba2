"""The ``branchwatch`` command line."""

from __future__ import annotations

import logging
import os
from importlib import resources
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from rich.table import Table

from api import logs
from api.cli import errors
from api.cli.calibrate import calibrate
from api.cli.eval import eval_command
from api.cli.events import events_app
from api.cli.evidence import evidence_app
from api.cli.notices import notices, report
from api.cli.notify import notify_app
from api.cli.reference import reference_app
from api.cli.retention import retention_app
from api.cli.rules import rules_app
from api.cli.score import score
from api.cli.serve import serve
from api.cli.users import users_app
from api.config import ConfigError, load_config
from api.config.effective import effective_rules

logger = logging.getLogger(__name__)

app = typer.Typer(
    name="branchwatch",
    help="Compliance checks of bank-branch CCTV against service standards.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(events_app, name="events")
app.add_typer(evidence_app, name="evidence")
app.add_typer(reference_app, name="reference")
app.command()(calibrate)
app.command()(score)
app.add_typer(users_app, name="users")
app.add_typer(notify_app, name="notify")
app.add_typer(retention_app, name="retention")
app.add_typer(rules_app, name="rules")
app.command()(serve)
app.command()(notices)
app.command()(report)
app.command(name="eval")(eval_command)
console = Console(stderr=True, soft_wrap=True)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="BRANCHWATCH_DB",
        help="SQLAlchemy URL of the store (default: sqlite file in the work folder).",
    ),
]


def log_handler(target: Console) -> RichHandler:
    """A log handler writing to ``target`` with ISO 8601 local times, without tracebacks
    (they go to the log file; ``--debug`` shows them)."""
    handler = RichHandler(
        console=target,
        show_path=False,
        rich_tracebacks=False,
        log_time_format="%Y-%m-%dT%H:%M:%S%z",
        omit_repeated_times=False,
    )
    handler.addFilter(logs.NoTraceback())
    return handler


def _print_version(value: bool) -> None:
    if value:
        try:
            number = version("branchwatch")
        except PackageNotFoundError:
            number = "unknown (not installed; run `pip install .`)"
        Console().print(f"branchwatch {number}", highlight=False)
        raise typer.Exit(0)


@app.callback()
def _main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Print the traceback of an error on the terminal too.")
    ] = False,
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    logs.set_debug(debug)
    terminal = log_handler(console)
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        handlers=[logs.LogFileHandler(), terminal],
    )
    for noisy in ("ultralytics", "alembic", "matplotlib", "PIL", "numexpr", "fontTools"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Folder to write branchwatch.yaml into.")],
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented example configuration to DIRECTORY/branchwatch.yaml."""
    target = directory / "branchwatch.yaml"
    if target.exists() and not force:
        console.print(f"[red]{target} exists; use --force to overwrite[/red]")
        raise typer.Exit(2)
    directory.mkdir(parents=True, exist_ok=True)
    text = resources.files("api.config").joinpath("example.yaml").read_text(encoding="utf-8")
    target.write_text(text, encoding="utf-8")
    console.print(f"wrote {target}")


@app.command()
def check(
    config: Annotated[Path, typer.Option("--config", "-c", help="Configuration file.")],
    branch: Annotated[
        str | None, typer.Option(help="Print the rules that apply to this branch's camera.")
    ] = None,
    camera: Annotated[str | None, typer.Option(help="Camera of --branch.")] = None,
) -> None:
    """Validate a configuration file and report every problem with its line; with --branch
    and --camera, print the effective rules of that camera and where each setting comes from."""
    try:
        site = load_config(config)
    except ConfigError as exc:
        console.print(f"[red]{exc}[/red]", highlight=False)
        raise typer.Exit(2) from exc
    cameras = sum(len(b.cameras) for b in site.branches)
    console.print(f"{config}: ok ({len(site.branches)} branches, {cameras} cameras)")
    if branch is None and camera is None:
        return
    if branch is None or camera is None:
        console.print("[red]give both --branch and --camera[/red]")
        raise typer.Exit(2)
    try:
        rows = effective_rules(site, branch, camera)
    except KeyError as exc:
        console.print(f"[red]{exc.args[0]}[/red]", highlight=False)
        raise typer.Exit(2) from exc
    table = Table(title=f"{branch} / {camera} 生效规则")
    for header in ("项目代码", "检查项目", "状态", "参数(非默认值及来源)"):
        table.add_column(header)
    for row in rows:
        settings = "; ".join(f"{k}={v} ({layer})" for k, v, layer in row.settings)
        table.add_row(row.item, row.name, row.status, settings)
    Console(width=200).print(table)


@app.command()
def scan(
    paths: Annotated[list[Path], typer.Argument(help="Export files or folders to scan.")],
    config: Annotated[Path, typer.Option("--config", "-c", help="Configuration file.")],
    db: DbOption = None,
    work: Annotated[
        Path | None,
        typer.Option(help="Folder for timelines and evidence (default: next to the database)."),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(min=0, help="Workers: processes, or Ray actors (0: one per core / CPU)."),
    ] = 0,
    executor: Annotated[
        str,
        typer.Option(help="Where files are analysed: local (process pool) or ray (a cluster)."),
    ] = "local",
    address: Annotated[
        str | None,
        typer.Option(help="Ray cluster address (HOST:PORT or ray://HOST:PORT); default: local."),
    ] = None,
    threads: Annotated[
        int,
        typer.Option(min=1, help="Inference threads per worker; each worker takes as many cores."),
    ] = 1,
) -> None:
    """Run the nightly batch over DVR exports: sample, detect, track, apply rules, store.

    A killed run resumes when started again with the same command; several machines may scan
    into one PostgreSQL database at once.
    """
    from api.scan.options import ScanOptions
    from api.scan.run import run_scan
    from api.scan.summary import summary_exit_code
    from api.scan.worker import ExecutorError

    try:
        site = load_config(config)
    except ConfigError as exc:
        console.print(f"[red]{exc}[/red]", highlight=False)
        raise typer.Exit(2) from exc
    if executor not in ("local", "ray"):
        console.print(f"[red]--executor must be local or ray, not {executor!r}[/red]")
        raise typer.Exit(2)
    if address is not None and executor != "ray":
        console.print("[red]--address needs --executor ray[/red]", highlight=False)
        raise typer.Exit(2)
    options = ScanOptions.build(
        db_url=db,
        work_dir=work,
        workers=workers,
        executor=executor,
        address=address,
        threads=threads,
    )
    try:
        summary = run_scan(site, config, paths, options, console=console)
    except ExecutorError as exc:
        console.print(f"[red]{exc}[/red]", highlight=False)
        raise typer.Exit(1) from exc
    if not summary.files:
        where = ", ".join(str(p) for p in paths)
        console.print(
            f"[red]no video files of a configured camera found in {where}; check the folder "
            f"and the cameras' file patterns in {config}[/red]",
            highlight=False,
        )
        raise typer.Exit(2)
    raise typer.Exit(summary_exit_code(summary))


@app.command()
def demo(
    out: Annotated[
        Path, typer.Option(help="Folder for footage, config, database, evidence.")
    ] = Path("branchwatch-demo"),
    duration: Annotated[int, typer.Option(min=120, max=3600, help="Seconds of footage.")] = 600,
    serve_ui: Annotated[
        bool,
        typer.Option("--serve", help="Then run the review UI on the demo store (demo login)."),
    ] = False,
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port of --serve.")] = 8000,
) -> None:
    """Generate sample footage of one branch, scan it with the real model, review it as the
    demo supervisor, print a scorecard, write the notice; --serve then opens the review UI.

    Progress and results go to stdout (``demo > log`` keeps them), warnings and errors to
    stderr.
    """
    from api.demo import run_demo, serve_environment
    from api.service.settings import get_settings

    out_console = Console(soft_wrap=True)
    split_log_streams(out_console)
    code = run_demo(out, duration, console=out_console)
    if not serve_ui or code != 0:
        raise typer.Exit(code)
    os.environ.update(serve_environment(out.resolve()))
    get_settings.cache_clear()
    out_console.print(f"review UI: http://127.0.0.1:{port}/ (Ctrl-C stops it)", highlight=False)
    serve(host="127.0.0.1", port=port, db=None)


def split_log_streams(out: Console) -> None:
    """Log INFO and DEBUG records to ``out`` (stdout) and warnings and errors to stderr."""
    root = logging.getLogger()
    level = root.level
    info = log_handler(out)
    info.addFilter(lambda record: record.levelno < logging.WARNING)
    problems = log_handler(console)
    problems.setLevel(logging.WARNING)
    for handler in list(root.handlers):
        if not isinstance(handler, logs.LogFileHandler):
            root.removeHandler(handler)
    root.addHandler(info)
    root.addHandler(problems)
    root.setLevel(level)


@app.command()
def doctor(db: DbOption = None) -> None:
    """Show what is installed and usable: backends, CUDA, weights, fonts, video, database, Ray.

    Exits 1 when a piece the default install needs is missing.
    """
    from api.doctor import Status, examine

    findings = examine(db)
    colour = {Status.OK: "green", Status.MISSING: "red", Status.OPTIONAL: "yellow"}
    out = Console(soft_wrap=True)
    for f in findings:
        out.print(
            f"[{colour[f.status]}]{f.status.value:>8}[/] {f.area:<9} "
            f"{escape(f.name)}: {escape(f.detail)}",
            highlight=False,
        )
    missing = [f.name for f in findings if f.status is Status.MISSING]
    if missing:
        out.print(f"[red]missing: {', '.join(missing)}[/red]", highlight=False)
        raise typer.Exit(1)


def main() -> None:
    """The ``branchwatch`` command: the app, with every escaped error as one line (exit 2)."""
    errors.run(app)
