"""Running an app so that a crash is told, not hidden.

Textual ends `App.run()` normally after an uncaught exception and prints the traceback
to the terminal it restored: the process then exited 0, and the traceback scrolled away
with the SSH session. Here the traceback goes to the log file, one line on stderr says
where, and the exit status is 1.
"""

from __future__ import annotations

import io
import logging
import sys
from typing import Any, TypeVar

from rich.console import Console
from textual.app import App

log = logging.getLogger(__name__)

ResultType = TypeVar("ResultType")
EXIT_CRASHED = 1


def run_app(app: App[ResultType], **options: Any) -> tuple[ResultType | None, int]:
    """Run `app` (`options`: App.run's); its result, and its exit status: 0, the one it
    ended with (its message on stderr), or EXIT_CRASHED."""
    caught = io.StringIO()
    # Textual prints the traceback to its error console when the app ends.
    # (Soft wrap: a message the app ends with stays one line.)
    app.error_console = Console(
        file=caught, width=120, markup=False, highlight=False, soft_wrap=True
    )
    result = app.run(**options)
    status = app.return_code or 0
    if status != EXIT_CRASHED:
        if status:  # it ended saying why (App.exit's message, printed to that console)
            print(caught.getvalue().rstrip(), file=sys.stderr)
        return result, status
    log.critical("the UI crashed (a bug in wa-tui):\n%s", caught.getvalue())
    print(f"wa-tui: crashed, a bug: the traceback is in {log_file()}", file=sys.stderr)
    return result, EXIT_CRASHED


def log_file() -> str:
    """Where the log is written (cli.setup_logging; the newest file, if there are more)."""
    for handler in reversed(logging.getLogger().handlers):
        name: Any = getattr(handler, "baseFilename", None)
        if name:
            return str(name)
    return "no log file (it could not be opened)"
