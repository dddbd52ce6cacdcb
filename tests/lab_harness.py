"""JupyterLab test harness: a real ``jupyter lab`` server, driven by headless Chromium, offline.

Not a test module (no ``test_`` prefix). Most tests just take the ``lab`` fixture from
``tests/conftest.py``: a server rooted at ``tmp_path`` plus a watched page on it, built on the
session-scoped ``browser`` fixture (so it skips without Chromium or playwright on a laptop, but
fails when ``CI=true``):

    def test_notebook_widgets(lab, tmp_path):
        nbformat.write(notebook, tmp_path / "demo.ipynb")   # or shutil.copy a repo notebook
        panel = lab.open_notebook("demo.ipynb")   # waits for the kernel to be idle
        lab.run_all_cells()                       # waits until every cell has run; raises on errors
        panel.locator(".widget-slider").wait_for()
        lab.screenshot("demo")                    # artifacts/demo.png
        assert lab.console_errors == [] and lab.external_requests == []

or build their own from ``lab_server(root)`` and ``lab_page(browser, server)`` (e.g. one server
for a whole module). Copy repository notebooks into ``tmp_path`` rather than serving
``notebooks/``: running cells changes the notebook in the lab, and although autosave is off, a
stray Ctrl+S would write outputs into a tracked file.

Named ``lab_harness`` rather than ``jupyterlab``: ``tests/`` comes first on ``sys.path`` inside
pytest, and a ``jupyterlab.py`` here would shadow the real package.

``lab_server`` starts ``python -m jupyter lab`` (this interpreter's) on 127.0.0.1, on a free port,
with a random token, its runtime/config/settings/workspace directories in a temporary directory
(the data directories of ``sys.prefix`` stay on the path, so the installed ipywidgets and
anywidget lab extensions and the ``python3`` kernel are found), and nothing that reaches the
internet (news feed, update check, PyPI extension manager). Its output goes to
``artifacts/jupyterlab-server.log`` (or ``log_path``). On exit it shuts the kernels and the
server down, whatever happened, and kills what is left.

``lab_page`` opens a fresh browser context on that server in which every request to another
host is aborted and recorded (``external_requests``), and console errors and uncaught page
errors are collected (``console_errors``). ``LabPage`` then opens notebooks, runs all cells,
waits for the kernel and takes screenshots. The server exposes the JupyterLab application as
``window.jupyterapp`` (``LabApp.expose_app_in_browser``, as JupyterLab's own galata tests do),
so commands and kernel state are read from the app rather than guessed from the DOM.
"""

from __future__ import annotations

import ctypes
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from browser import ARTIFACTS, VIEWPORT

if TYPE_CHECKING:  # playwright is a dev dependency; importing this module must not need it
    from playwright.sync_api import Browser, ConsoleMessage, Error, Locator, Page, Route, WebSocket

HOST = "127.0.0.1"
DEFAULT_LOG = ARTIFACTS / "jupyterlab-server.log"

# User settings written into the isolated settings directory before the server starts.
USER_SETTINGS: dict[str, dict[str, Any]] = {
    # With ``fetchNews`` at its default ("none": ask), every first start shows a "Would you like
    # to get notified about official Jupyter news?" toast, even with ``LabApp.news_url=None``
    # (that only stops the server fetching). Answering "Never" up front means it never asks.
    "@jupyterlab/apputils-extension/notification": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    # Autosave (every 120 s) would write executed outputs back into the notebook under test,
    # which may be a tracked file in the repository.
    "@jupyterlab/docmanager-extension/plugin": {
        "autosave": False,
    },
    # The default windowing mode ("contentVisibility") skips layout of cells far off screen, so
    # their widgets would measure 0x0 until scrolled to; tests want every output laid out.
    "@jupyterlab/notebook-extension/tracker": {
        "windowingMode": "none",
    },
}


class LabError(RuntimeError):
    """The server or the page did not reach the state a test waited for."""


@dataclass(frozen=True)
class LabServer:
    """A running JupyterLab server (see ``lab_server``)."""

    url: str  # base URL, ending in "/": http://127.0.0.1:<port>/
    token: str
    port: int
    root: Path  # the server's root directory; notebook names are relative to it
    log: Path  # the server's (and its kernels') stdout and stderr
    process: subprocess.Popen[bytes] = field(repr=False, compare=False)

    @property
    def origin(self) -> str:
        """Scheme, host and port: the only origin the browser is allowed to reach."""
        return self.url.rstrip("/")

    def notebook_url(self, name: str | Path) -> str:
        """URL that opens ``name`` (relative to ``root``) in the lab, token included."""
        path = Path(name).as_posix() if isinstance(name, Path) else name
        return f"{self.url}lab/tree/{quote(path)}?token={self.token}"

    def api(self, path: str, method: str = "GET", timeout: float = 10) -> Any:
        """Call the server's REST API (``path`` like ``"api/kernels"``); return the decoded JSON."""
        request = urllib.request.Request(
            self.url + path.lstrip("/"), method=method,
            headers={"Authorization": f"token {self.token}"},
            data=b"" if method in ("POST", "PUT", "PATCH") else None,
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no server log)"
        return "\n".join(text.splitlines()[-lines:])


def _free_port() -> int:
    # The OS hands out a free port; another process could in principle take it before the
    # server binds it, in which case the server exits (port_retries=0) and its log says so.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _server_args(root: Path, port: int, state: Path) -> list[str]:
    # CI containers run as root, where jupyter_server refuses to start unless told otherwise.
    as_root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    return [
        sys.executable, "-m", "jupyter", "lab",
        "--no-browser",
        f"--ServerApp.ip={HOST}",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",  # a different port than asked for would go unnoticed
        f"--ServerApp.root_dir={root}",
        # Offline: no Atom news feed, no PyPI version check, no PyPI-backed extension manager
        # (all three are fetched by the *server*, so the browser's request blocking cannot see
        # them; they would only show up as tracebacks or timeouts in the log).
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
        # Settings and workspaces default to ~/.jupyter/lab; a saved layout or a user's theme
        # there would leak into tests.
        f"--LabApp.user_settings_dir={state / 'config' / 'lab' / 'user-settings'}",
        f"--LabApp.workspaces_dir={state / 'config' / 'lab' / 'workspaces'}",
        # window.jupyterapp: run commands and read kernel status from the app itself.
        "--LabApp.expose_app_in_browser=True",
        "--ServerApp.log_level=INFO",
        *as_root,
    ]


def _server_env(token: str, state: Path) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("JUPYTER_TOKEN", "JUPYTER_PORT", "JUPYTER_CONFIG_PATH", "JUPYTER_PATH"):
        env.pop(name, None)  # a developer's own settings must not steer the test server
    env.update(
        # The token goes through the environment so that it does not show up in `ps`.
        JUPYTER_TOKEN=token,
        # Per-user Jupyter and IPython state in the temp dir; the sys.prefix (venv) config and
        # data dirs stay on the search path, which is where the lab extensions are installed.
        JUPYTER_CONFIG_DIR=str(state / "config"),
        JUPYTER_DATA_DIR=str(state / "data"),
        JUPYTER_RUNTIME_DIR=str(state / "runtime"),
        IPYTHONDIR=str(state / "ipython"),
        PYTHONUNBUFFERED="1",  # kernel/server output reaches the log before a crash
    )
    return env


def _write_user_settings(settings_dir: Path) -> None:
    for plugin, values in USER_SETTINGS.items():
        path = settings_dir / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values, indent=2), encoding="utf-8")


def _parent_death_signal() -> Callable[[], None] | None:
    """A ``preexec_fn`` making Linux SIGTERM the server when the process that started it dies.

    Without it, a pytest killed outright (no ``finally`` runs) leaves the server, a port and its
    kernels behind for good; with it the server shuts its kernels down itself. (Strictly it fires
    when the starting *thread* exits, so start servers from a thread that outlives them.)
    Everything is looked up here, in the parent: between fork and exec the child must not
    import (another thread may hold the import lock).
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig, sigterm = 1, int(signal.SIGTERM)

    def set_parent_death_signal() -> None:
        prctl(pr_set_pdeathsig, sigterm)

    return set_parent_death_signal


def _wait_until_ready(server: LabServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise LabError(f"jupyter lab exited with code {server.process.returncode} before "
                           f"answering; log {server.log}:\n{server.log_tail()}")
        try:
            server.api("api/status", timeout=2)
            return
        except (urllib.error.URLError, OSError, ValueError) as exc:
            last_error = exc
        time.sleep(0.2)
    raise LabError(f"jupyter lab did not answer {server.url}api/status within {timeout:.0f}s "
                   f"(last error: {last_error}); log {server.log}:\n{server.log_tail()}")


def _processes_mentioning(marker: str) -> list[int]:
    """PIDs whose command line contains ``marker`` (Linux /proc; empty elsewhere)."""
    pids = []
    for entry in Path("/proc").glob("[0-9]*"):
        with suppress(OSError):
            if marker.encode() in (entry / "cmdline").read_bytes():
                pids.append(int(entry.name))
    return [pid for pid in pids if pid != os.getpid()]


def _stop(server: LabServer, state: Path, grace: float) -> None:
    proc = server.process
    if proc.poll() is None:
        # Politely first, so kernels and server exit through their own clean-up (ports,
        # connection files, child processes) instead of being killed mid-write.
        with suppress(Exception):
            for kernel in server.api("api/kernels", timeout=5):
                with suppress(Exception):
                    server.api(f"api/kernels/{kernel['id']}", method="DELETE", timeout=10)
        with suppress(Exception):
            server.api("api/shutdown", method="POST", timeout=5)
        with suppress(subprocess.TimeoutExpired):
            proc.wait(grace)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if proc.poll() is not None:
            break
        # The server runs in its own session (start_new_session), so this reaches it and any
        # helper it spawned without touching pytest.
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        with suppress(subprocess.TimeoutExpired):
            proc.wait(grace)
    # jupyter_client starts each kernel in a session of its own, out of reach of killpg above.
    # Their command lines name a connection file in our private runtime dir, which identifies
    # exactly the kernels of this server and nothing else.
    for pid in _processes_mentioning(str(state / "runtime")):
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@contextmanager
def lab_server(
    root_dir: Path,
    *,
    log_path: Path | None = None,
    startup_timeout: float = 90,
    shutdown_grace: float = 10,
    extra_args: Sequence[str] = (),
) -> Iterator[LabServer]:
    """Run ``jupyter lab`` serving ``root_dir`` on 127.0.0.1 for the duration of the block.

    Yields once ``/api/status`` answers (``LabError`` with the log's tail after
    ``startup_timeout`` seconds, or if the server exits). Server and kernel output goes to
    ``log_path`` (default ``artifacts/jupyterlab-server.log``, overwritten). ``extra_args`` are
    appended to the command line, e.g. ``["--LabApp.collaborative=True"]``.
    """
    root = Path(root_dir).resolve()
    if not root.is_dir():
        raise NotADirectoryError(root)
    log = Path(log_path) if log_path is not None else DEFAULT_LOG
    log.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(24)
    port = _free_port()
    state = Path(tempfile.mkdtemp(prefix="jupyterlab-test-"))
    try:
        _write_user_settings(state / "config" / "lab" / "user-settings")
        (state / "runtime").mkdir()
        with open(log, "wb") as log_file:
            process = subprocess.Popen(
                [*_server_args(root, port, state), *extra_args],
                cwd=root, env=_server_env(token, state),
                stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_parent_death_signal(),
            )
        server = LabServer(url=f"http://{HOST}:{port}/", token=token, port=port, root=root,
                           log=log, process=process)
        try:
            _wait_until_ready(server, startup_timeout)
            yield server
        finally:
            _stop(server, state, shutdown_grace)
    finally:
        shutil.rmtree(state, ignore_errors=True)


# --- the browser side ----------------------------------------------------------------------

# Our own aborts make Chromium log this; the URLs are already in external_requests.
_BLOCKED_LOAD_ERROR = "Failed to load resource: net::ERR_BLOCKED_BY_CLIENT"

# JavaScript run in the page. `panelFor` finds the notebook panel showing `path` among the
# main-area widgets (not just the current one: a dialog or the launcher may have focus).
_PANEL_FOR = """
const panelFor = (path) => {
    const app = window.jupyterapp;
    if (!app) return null;
    for (const widget of app.shell.widgets('main')) {
        if (widget.context && widget.context.path === path && widget.content
            && widget.content.widgets) return widget;
    }
    return null;
};
"""

_NOTEBOOK_STATE = _PANEL_FOR + """
(path) => {
    const app = window.jupyterapp;
    if (!app) return {phase: 'loading app'};
    const panel = panelFor(path);
    if (!panel) return {phase: 'no panel'};
    if (!panel.context.isReady) return {phase: 'loading notebook'};
    const session = panel.sessionContext;
    const kernel = session.session && session.session.kernel;
    const cells = panel.content.widgets.filter(c => c.model.type === 'code');
    // A queued or running cell shows "[*]"; the model may say so before the prompt does.
    const busyCells = cells.filter(c => c.model.executionState === 'running'
        || (c.promptNode && c.promptNode.textContent.includes('*'))).length;
    return {
        phase: 'ready',
        id: panel.id,
        kernel: kernel ? kernel.status : null,
        connection: kernel ? kernel.connectionStatus : null,
        busyCells,
        codeCells: cells.length,
        unexecuted: cells.filter(c => c.model.sharedModel.getSource().trim()
            && c.model.executionCount === null).length,
        runAll: (window.__labHarness || {})[path] || null,
    };
}
"""

# Starts Run All Cells and returns at once: the command's promise only settles when the last cell
# has finished, and page.evaluate has no timeout of its own, so a hanging cell would hang the
# test. The outcome is parked on window and polled (with a deadline) through _NOTEBOOK_STATE.
_START_RUN_ALL = _PANEL_FOR + """
(path) => {
    const app = window.jupyterapp;
    const panel = panelFor(path);
    app.shell.activateById(panel.id);  // notebook commands act on the current notebook
    const runs = window.__labHarness = window.__labHarness || {};
    const run = runs[path] = {settled: false, ok: null, error: null};
    app.commands.execute('notebook:run-all-cells').then(
        ok => { run.ok = ok !== false; run.settled = true; },
        err => { run.ok = false; run.error = String(err); run.settled = true; });
}
"""

_CELL_ERRORS = _PANEL_FOR + """
(path) => {
    const panel = panelFor(path);
    const errors = [];
    panel.content.widgets.forEach((cell, index) => {
        if (cell.model.type !== 'code') return;
        const outputs = cell.model.outputs;
        for (let i = 0; i < outputs.length; i++) {
            const out = outputs.get(i).toJSON();
            if (out.output_type !== 'error') continue;
            errors.push(`cell ${index}: ${out.ename}: ${out.evalue}`);
        }
    });
    return errors;
}
"""


def _is_idle(state: dict[str, Any]) -> bool:
    return (state.get("phase") == "ready" and state.get("kernel") == "idle"
            and state.get("connection") == "connected" and state.get("busyCells") == 0)


def _run_all_finished(state: dict[str, Any]) -> bool:
    run = state.get("runAll") or {}
    return bool(run.get("settled")) and _is_idle(state)


@dataclass
class LabPage:
    """A Playwright page on a ``LabServer``, watched for errors and external requests.

    Make one with ``lab_page`` (fresh context) or ``LabPage.attach`` (an existing page).
    """

    page: Page
    server: LabServer
    console_errors: list[str] = field(default_factory=list)  # console.error + uncaught errors
    external_requests: list[str] = field(default_factory=list)  # aborted: not the lab server
    dialogs_dismissed: list[str] = field(default_factory=list)  # see dismiss_dialogs
    notebook: str | None = None  # path of the notebook last opened: the default for methods
    timeout_ms: float = 60_000

    @classmethod
    def attach(cls, page: Page, server: LabServer, *, timeout_ms: float = 60_000) -> LabPage:
        """Watch ``page``: abort and record requests to other origins, collect console errors."""
        lab = cls(page=page, server=server, timeout_ms=timeout_ms)
        page.set_default_timeout(timeout_ms)
        page.route("**/*", lab._on_route)
        page.on("console", lab._on_console)
        page.on("pageerror", lab._on_page_error)
        page.on("websocket", lab._on_websocket)
        return lab

    # Event handlers -------------------------------------------------------------------------

    def _is_local(self, url: str) -> bool:
        origin = self.server.origin
        ws_origin = origin.replace("http://", "ws://", 1)
        return any(url == o or url.startswith(o + "/") for o in (origin, ws_origin))

    def _on_route(self, route: Route) -> None:
        url = route.request.url
        if self._is_local(url):
            route.continue_()
        else:
            self.external_requests.append(url)
            route.abort("blockedbyclient")

    def _on_console(self, msg: ConsoleMessage) -> None:
        if msg.type == "error" and not msg.text.startswith(_BLOCKED_LOAD_ERROR):
            self.console_errors.append(msg.text)

    def _on_page_error(self, error: Error) -> None:
        name = getattr(error, "name", "") or "Error"
        self.console_errors.append(f"{name}: {error.message}")

    def _on_websocket(self, ws: WebSocket) -> None:
        # page.route does not see websockets; the kernel channels are local, anything else is not.
        if not self._is_local(ws.url):
            self.external_requests.append(ws.url)

    # Actions --------------------------------------------------------------------------------

    def dismiss_dialogs(self) -> None:
        """Clear whatever JupyterLab put in front of the notebook, without waiting for any.

        * "Select Kernel" (a notebook whose kernelspec is missing or not installed): accepted,
          which starts the preselected kernel (the default ``python3``).
        * Any other modal dialog: cancelled with Escape, as accepting an unknown question
          ("Restart kernel?", "Overwrite?") could do harm. Its title lands in ``dialogs_dismissed``.
        * Toast notifications: closed, as they can cover the cells a test clicks on; their text
          lands in ``dialogs_dismissed`` too, prefixed with "toast: ".
        """
        dialogs = self.page.locator(".jp-Dialog")
        for _ in range(5):  # dialogs can queue up behind each other
            if dialogs.count() == 0:
                break
            dialog = dialogs.first
            with suppress(Exception):  # the dialog may close itself while we look at it
                title = dialog.locator(".jp-Dialog-header").inner_text(timeout=2_000).strip()
                self.dialogs_dismissed.append(title)
                if title.lower().startswith("select kernel"):
                    dialog.locator(".jp-Dialog-button.jp-mod-accept").click(timeout=2_000)
                else:
                    self.page.keyboard.press("Escape")
                dialog.wait_for(state="detached", timeout=5_000)
        toasts = self.page.locator(".Toastify__toast")
        for index in reversed(range(toasts.count())):
            with suppress(Exception):  # toasts also time out and vanish by themselves
                toast = toasts.nth(index)
                message = toast.locator(".jp-toast-message").inner_text(timeout=1_000).strip()
                toast.locator(".jp-Notification-Toast-Close").click(timeout=1_000)
                self.dialogs_dismissed.append(f"toast: {message}")

    def _path(self, name: str | Path | None) -> str:
        if name is not None:
            return Path(name).as_posix()
        if self.notebook is None:
            raise LabError("no notebook is open; call open_notebook() first or pass its name")
        return self.notebook

    def _wait_for(self, path: str, done: Callable[[dict[str, Any]], bool], what: str,
                  timeout_ms: float | None) -> dict[str, Any]:
        limit = (timeout_ms if timeout_ms is not None else self.timeout_ms) / 1000
        deadline = time.monotonic() + limit
        state: dict[str, Any] = {}
        stable = 0
        while time.monotonic() < deadline:
            self.dismiss_dialogs()
            state = dict(self.page.evaluate(_NOTEBOOK_STATE, path))
            # Must hold on two polls in a row: between two executions the kernel is briefly
            # idle while the next request is still on its way.
            stable = stable + 1 if done(state) else 0
            if stable >= 2:
                return state
            self.page.wait_for_timeout(150)
        raise LabError(f"{what} not reached within {limit:.0f}s for {path}: {state}; "
                       f"dialogs dismissed: {self.dialogs_dismissed}; "
                       f"console errors: {self.console_errors}; "
                       f"server log:\n{self.server.log_tail(20)}")

    def open_notebook(self, name: str | Path, *, timeout_ms: float | None = None) -> Locator:
        """Open ``name`` (relative to the server root) in the lab and wait until its kernel is idle.

        It becomes the current notebook for the other methods. Returns the notebook panel's
        locator, to scope selectors to this notebook.
        """
        path = Path(name).as_posix()
        # A missing file would only show up as an error dialog and a timeout; fail fast instead.
        try:
            self.server.api(f"api/contents/{quote(path)}?content=0")
        except urllib.error.HTTPError as exc:
            raise FileNotFoundError(f"{path} under {self.server.root}: HTTP {exc.code}") from exc
        self.page.goto(self.server.notebook_url(path), wait_until="domcontentloaded")
        self.page.wait_for_function("() => window.jupyterapp !== undefined")
        self.page.evaluate("() => window.jupyterapp.restored.then(() => true)")
        self.notebook = path
        self.wait_for_kernel_idle(path, timeout_ms=timeout_ms)
        return self.panel(path)

    def panel(self, name: str | Path | None = None) -> Locator:
        """Locator of the notebook panel showing ``name`` (default: the current notebook)."""
        state = dict(self.page.evaluate(_NOTEBOOK_STATE, self._path(name)))
        if state.get("phase") != "ready":
            raise LabError(f"notebook {self._path(name)} is not open: {state}")
        return self.page.locator(f"[id='{state['id']}']")

    def wait_for_kernel_idle(self, name: str | Path | None = None, *,
                             timeout_ms: float | None = None) -> None:
        """Wait until the notebook's kernel is connected and idle and no cell shows ``[*]``."""
        self._wait_for(self._path(name), _is_idle, "an idle kernel", timeout_ms)

    def run_all_cells(self, name: str | Path | None = None, *, allow_errors: bool = False,
                      timeout_ms: float | None = None) -> None:
        """Run every cell of the notebook (default: the current one) and wait until all have run.

        Uses JupyterLab's ``notebook:run-all-cells`` command, which is what Run → Run All Cells
        does, without depending on the menu's layout. Raises ``LabError`` naming the failing cells
        if a cell raised (execution stops there), unless ``allow_errors``.
        """
        path = self._path(name)
        self.page.evaluate(_START_RUN_ALL, path)
        state = self._wait_for(path, _run_all_finished, "all cells run", timeout_ms)
        errors = list(self.page.evaluate(_CELL_ERRORS, path))
        run = state["runAll"]
        if run.get("error"):
            errors.append(f"run-all-cells command failed: {run['error']}")
        if not allow_errors and (errors or not run.get("ok") or state["unexecuted"]):
            raise LabError(f"{path}: not every cell ran cleanly: {errors or state}")

    def screenshot(self, name: str, *, element: Locator | None = None) -> Path:
        """Save a PNG as ``artifacts/<name>.png`` and return its path.

        The whole window by default (JupyterLab fills the viewport and scrolls the notebook
        inside it, so a "full page" shot would show nothing more); or just ``element``,
        scrolled into view first.
        """
        path = ARTIFACTS / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        if element is not None:
            element.screenshot(path=str(path))
        else:
            self.page.screenshot(path=str(path))
        return path


@contextmanager
def lab_page(browser: Browser, server: LabServer, *, viewport: dict[str, int] | None = None,
             timeout_ms: float = 60_000) -> Iterator[LabPage]:
    """A fresh browser context and page on ``server``, watched (see ``LabPage.attach``)."""
    # Service workers would bypass page.route, so they are blocked as in tests/browser.py.
    context = browser.new_context(viewport=viewport or VIEWPORT, service_workers="block")
    try:
        context.set_default_timeout(timeout_ms)
        yield LabPage.attach(context.new_page(), server, timeout_ms=timeout_ms)
    finally:
        context.close()
