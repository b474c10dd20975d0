"""Reports: caja diaria and cierre de caja, sales and purchases lists (spec reports.md)."""


def init_app(app) -> None:
    """Register the manager report's STAFF_REPORT renderer with the comms registry (the automation rule that sends
    it lives below reports and must not import it)."""
    from app.reports import manager_report  # noqa: F401  (registration on import)
