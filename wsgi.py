"""WSGI entry point: gunicorn wsgi:app, flask --app wsgi.

With SCHEDULER_ENABLED=true (the single-process demo of `make run`) the scheduler starts here, never in
create_app; in containers the scheduler is its own process (`flask scheduler run`).
"""

from app import create_app

app = create_app()

if app.config.get("SCHEDULER_ENABLED"):
    from app.scheduler import start_in_process

    start_in_process(app)
