"""WSGI entry point: gunicorn wsgi:app, flask --app wsgi.

A refused production setting (config.validate) stops the process with its Spanish message on stderr and exit code
3, which gunicorn reports as a worker that failed to boot.

With SCHEDULER_ENABLED=true (the single-process demo of `make run`) the scheduler starts in the server started by
`make run`, never in create_app nor in another `flask` command; in containers the scheduler is its own process
(`flask scheduler run`).
"""

import sys

from app import create_app
from config import ConfigError

try:
    app = create_app()
except ConfigError as exc:
    sys.stderr.write(f"Configuración rechazada: {exc}\n")
    raise SystemExit(3) from None

from app.scheduler import should_start_in_process, start_in_process  # noqa: E402

if should_start_in_process(app):
    start_in_process(app)
