"""`vidsift app` (the Streamlit page), `vidsift serve` (the HTTP API) and `vidsift token`.

Both listen on 127.0.0.1 unless told otherwise. `vidsift serve` beyond this machine needs a token
(`vidsift token create`); `vidsift app` has no login of its own: put it behind the reverse proxy
of docs/serve.md. `vidsift app` runs Streamlit as a child process and hands it every SIGTERM and
SIGINT, then exits with it (and the child dies with it even on SIGKILL, on Linux).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from vidsift.cli.common import DEFAULT_WS, JsonOpt, WorkspaceOpt, emit, workspace
from vidsift.errors import BadInputError
from vidsift.services.contents import WORKSPACE_ENV
from vidsift.services.uploads import MAX_UPLOAD_MB


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
    no_login: Annotated[
        bool,
        typer.Option("--no-login", help="Listen beyond this machine although the page has no login of its own "
                                         "(put it behind the token proxy of docs/serve.md instead)."),
    ] = False,
    ws: WorkspaceOpt = DEFAULT_WS,
) -> None:
    """Open the page (Library, Search, Discover, Duplicates, Evaluate, Train) at http://HOST:PORT."""
    if not 0 < port < 65536:
        raise BadInputError(f"--port must be 1..65535, got {port}")
    root = workspace(ws).root
    if not is_loopback(host):
        # the page reads and writes the workspace and has no login: beyond this machine it goes
        # behind the reverse proxy that asks `vidsift serve` for a token (docs/serve.md)
        if not no_login:
            raise BadInputError(
                f"--host {host}: the page has no login; keep it on 127.0.0.1 behind the token proxy of "
                "docs/serve.md, or pass --no-login to let anyone who can reach it read and write the workspace"
            )
        typer.echo(f"warning: listening on {host} without a login: anyone who can reach it can read and write {root}",
                   err=True)
    typer.echo(f"vidsift page on http://{host}:{port}  (workspace {root}; Ctrl-C to stop)")
    env = {**os.environ, WORKSPACE_ENV: str(root)}
    raise typer.Exit(run_child(streamlit_command(port, host), env))


def _die_with_parent() -> None:  # runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(Exception):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def run_child(cmd: list[str], env: dict[str, str] | None = None, grace: float = 10.0) -> int:
    """Run ``cmd`` until it ends; SIGTERM/SIGINT sent to us go to it, and it gets ``grace``
    seconds to stop before a SIGKILL. Returns its exit code (128 + N when signal N ended it).

    The handlers are in place before the child starts, so no signal can leave it orphaned; on
    Linux the child also gets SIGTERM when we die (even by SIGKILL).
    """
    got: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        got.append(signum)
        if proc is not None and proc.poll() is None:
            proc.send_signal(signum)

    proc: subprocess.Popen | None = None
    previous = {s: signal.signal(s, forward) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        proc = subprocess.Popen(cmd, env=env, preexec_fn=_die_with_parent)  # noqa: PLW1509
        if got:  # a signal came while it started
            proc.send_signal(got[0])
        deadline = None
        while True:
            try:
                code = proc.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                if got and deadline is None:
                    deadline = time.monotonic() + grace
                if deadline is not None and time.monotonic() > deadline:  # asked to stop, did not
                    proc.kill()
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        for s, handler in previous.items():
            signal.signal(s, handler)
    return 128 - code if code < 0 else code


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine only (127.0.0.0/8, ::1, localhost)."""
    import ipaddress

    if host in LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def api(
    host: Annotated[str, typer.Option(help="Address to listen on (127.0.0.1: this machine only; "
                                           "anything else needs a token).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8765,
    token_file: Annotated[Path | None, typer.Option(
        "--token-file", help="Tokens file (default WORKSPACE/api/tokens.json, made by `vidsift token create`).")] = None,
    cors_origin: Annotated[list[str] | None, typer.Option(
        "--cors-origin", help="Let a browser page from this origin call the API (repeatable; default: none).")] = None,
    max_upload_mb: Annotated[float, typer.Option(help="Largest image upload, in MB.")] = MAX_UPLOAD_MB,
    rate: Annotated[float, typer.Option(help="Requests a second per token or client, on average (0: no limit).")] = 20.0,
    burst: Annotated[int, typer.Option(help="Requests a client may send at once above --rate.")] = 100,
    ws: WorkspaceOpt = DEFAULT_WS,
) -> None:
    """Serve the workspace as an HTTP JSON API (OpenAPI docs at /docs); see docs/serve.md."""
    import uvicorn

    from vidsift.api.app import create_app
    from vidsift.api.auth import Limits, TokenStore, tokens_path

    if not 0 < port < 65536:
        raise BadInputError(f"--port must be 1..65535, got {port}")
    if max_upload_mb <= 0 or rate < 0 or burst < 1:
        raise BadInputError("--max-upload-mb must be > 0, --rate >= 0 and --burst >= 1")
    wsp = workspace(ws)
    path = token_file if token_file is not None else tokens_path(wsp)
    if token_file is not None and not token_file.is_file():
        raise BadInputError(f"--token-file {token_file}: no such file; make one with `vidsift token create --token-file ...`")
    store: TokenStore | None = TokenStore(path)
    if store is not None and len(store) == 0:
        if not is_loopback(host):
            raise BadInputError(
                f"--host {host}: listening beyond this machine needs a token; create one with "
                f"`vidsift token create --scope read -w {wsp.root}` (or stay on 127.0.0.1)"
            )
        store = None
    app = create_app(wsp, tokens=store, limits=Limits(max_upload_mb, rate, burst), cors_origins=tuple(cors_origin or ()))
    shown = f"[{host}]" if ":" in host else host
    auth = f"tokens from {path}" if store is not None else "no token needed (this machine only)"
    typer.echo(f"vidsift API on http://{shown}:{port}  (docs /docs; workspace {wsp.root}; {auth}; Ctrl-C to stop)")
    # uvicorn handles SIGTERM/SIGINT itself: it finishes the requests in flight, closes the port, exits
    uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False, timeout_graceful_shutdown=10)


token_app = typer.Typer(help="Tokens for `vidsift serve`: read (query) or admin (also change the workspace).",
                        no_args_is_help=True)


def _token_path(ws: Path, token_file: Path | None) -> Path:
    from vidsift.api.auth import tokens_path

    return token_file if token_file is not None else tokens_path(workspace(ws))


TokenFileOpt = Annotated[Path | None, typer.Option("--token-file", help="Tokens file (default WORKSPACE/api/tokens.json).")]


@token_app.command("create")
def token_create(
    scope: Annotated[str, typer.Option("--scope", help="read or admin.")] = "read",
    note: Annotated[str | None, typer.Option("--note", help="Who or what it is for.")] = None,
    token_file: TokenFileOpt = None,
    ws: WorkspaceOpt = DEFAULT_WS,
    as_json: JsonOpt = False,
) -> None:
    """Make a token; it is printed once (only its hash is kept, in a 0600 file)."""
    from vidsift.api.auth import create_token

    path = _token_path(ws, token_file)
    token, entry = create_token(path, scope, note)
    out = {"token": token, "id": entry["id"], "scope": entry["scope"], "file": str(path)}
    emit(out, as_json, lambda o: typer.echo(
        f"{o['token']}\n(id {o['id']}, scope {o['scope']}; shown once: keep it, e.g. in $VIDSIFT_TOKEN; "
        f"hash kept in {o['file']})"))


@token_app.command("list")
def token_list(token_file: TokenFileOpt = None, ws: WorkspaceOpt = DEFAULT_WS, as_json: JsonOpt = False) -> None:
    """The tokens a server of this workspace accepts (ids and scopes, never the tokens)."""
    from vidsift.api.auth import read_tokens

    rows = [{k: e.get(k) for k in ("id", "scope", "created", "note")} for e in read_tokens(_token_path(ws, token_file))]
    emit(rows, as_json, lambda rs: [typer.echo(f"{r['id']}  {r['scope']:<5}  {r['note'] or ''}") for r in rs]
         or typer.echo("no tokens"))


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[str, typer.Argument(help="The id shown by `vidsift token list`.")],
    token_file: TokenFileOpt = None,
    ws: WorkspaceOpt = DEFAULT_WS,
) -> None:
    """Stop accepting a token (a running server notices at once)."""
    from vidsift.api.auth import revoke_token

    if not revoke_token(_token_path(ws, token_file), token_id):
        raise BadInputError(f"no token with id {token_id!r}; see `vidsift token list`")
    typer.echo(f"revoked {token_id}")


def register(app: typer.Typer) -> None:
    app.command("app")(serve)
    app.command("serve")(api)
    app.add_typer(token_app, name="token")
