"""Thin functions the scheduler calls."""

from __future__ import annotations


def campaign_scheduler() -> str:
    from app.crm.sending_services import run_scheduler

    return run_scheduler()
