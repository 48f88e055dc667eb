"""`vidsift app`: open the Streamlit page on this machine."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from vidsift.cli.common import DEFAULT_WS, WorkspaceOpt, workspace
from vidsift.errors import BadInputError
from vidsift.services.contents import WORKSPACE_ENV
from vidsift.services.search import MAX_UPLOAD_MB


def app_script() -> Path:
    """The page's script, ``vidsift/page.py`` (in a checkout ``app.py`` runs the same page)."""
    import vidsift

    path = Path(vidsift.__file__).resolve().parent / "page.py"
    if not path.is_file():
        raise BadInputError(f"{path}: the page's script is missing; reinstall vidsift")
    return path


def streamlit_command(port: int, host: str, max_upload_mb: int = MAX_UPLOAD_MB) -> list[str]:
    """The `streamlit run` command line: headless, local address, small uploads, no telemetry."""
    return [
        sys.executable, "-m", "streamlit", "run", str(app_script()),
        "--server.port", str(port),
        "--server.address", host,
        "--server.headless", "true",
        "--server.maxUploadSize", str(max_upload_mb),
        "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "minimal",
    ]


def serve(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8501,
    host: Annotated[str, typer.Option(help="Address to listen on (127.0.0.1: this machine only).")] = "127.0.0.1",
    ws: WorkspaceOpt = DEFAULT_WS,
) -> None:
    """Open the page (Library, Search, Discover, Evaluate, Train) at http://HOST:PORT."""
    if not 0 < port < 65536:
        raise BadInputError(f"--port must be 1..65535, got {port}")
    root = workspace(ws).root
    if host not in ("127.0.0.1", "localhost", "::1"):
        typer.echo(f"warning: listening on {host}: anyone who can reach it can read and write {root}", err=True)
    typer.echo(f"vidsift page on http://{host}:{port}  (workspace {root}; Ctrl-C to stop)")
    env = {**os.environ, WORKSPACE_ENV: str(root)}
    proc = subprocess.Popen(streamlit_command(port, host), env=env)

    def forward(signum: int, _frame: object) -> None:  # `kill PID` stops the server too
        proc.send_signal(signum)

    previous = signal.signal(signal.SIGTERM, forward)
    try:
        code = proc.wait()
    except KeyboardInterrupt:  # let streamlit shut down cleanly (a terminal's Ctrl-C reached it too)
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
    finally:
        signal.signal(signal.SIGTERM, previous)
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command("app")(serve)
