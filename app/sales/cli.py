"""Sales CLI commands: normalise phones and merge the clients that share one (spec crm.md §8); recompute the
client_stats table (issue 20 item 4)."""

from __future__ import annotations

import click
from flask import Flask

from app.core.uow import unit_of_work
from app.sales.client_merge_services import normalize_and_merge
from app.sales.jobs import recompute_client_stats


def register_client_cli(app: Flask) -> None:
    @app.cli.command("normalize-and-merge-clients")
    @click.option("--dry-run", is_flag=True, help="Muestra lo que haría sin escribir nada.")
    def normalize_and_merge_clients_cmd(dry_run: bool):
        """Normalise every phone to E.164 and merge the clients that end up sharing one."""

        normalize_and_merge(dry_run=dry_run, echo=click.echo)

    @app.cli.command("recompute-client-stats")
    def recompute_client_stats_cmd():
        """Recompute every row of client_stats (the nightly job) and print how many differed."""

        with unit_of_work():
            click.echo(recompute_client_stats())
