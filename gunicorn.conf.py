"""gunicorn settings read from the working directory (/app in the image; docker-entrypoint.sh gives the rest).

Prometheus multiprocess mode (docs/OPERATIONS.md "Metrics"): every worker writes its samples under
PROMETHEUS_MULTIPROC_DIR; the directory is emptied when the master starts and a dead worker's live gauges are
dropped, so /metrics (any worker) reports the sum over the live workers.
"""

import os
import shutil


def on_starting(server):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory, exist_ok=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
