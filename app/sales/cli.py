"""Sales CLI commands: normalise phones and merge the clients that share one (spec crm.md §8)."""

from __future__ import annotations

import click
from flask import Flask

from app.sales.client_merge_services import normalize_and_merge


def register_client_cli(app: Flask) -> None:
    @app.cli.command("normalize-and-merge-clients")
    @click.option("--dry-run", is_flag=True, help="Muestra lo que haría sin escribir nada.")
    def normalize_and_merge_clients_cmd(dry_run: bool):
        """Normalise every phone to E.164 and merge the clients that end up sharing one."""

        normalize_and_merge(dry_run=dry_run, echo=click.echo)
