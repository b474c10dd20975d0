"""The rules of the automatic messages (communications.md §4): event hooks, set-based selections, pre-send hooks,
renderers and the `send-communication-triggers` command; the mechanism itself (outbox, gatekeeper, dispatcher)
lives in `app.comms`."""


def init_app(app) -> None:
    """Register the renderers, relevance checks and pre-send hooks with the comms registries, connect the rules to
    the sales core's signals, and add the CLI."""
    from app.automations import hooks, receivers, renderers  # noqa: F401  (registration on import)
    from app.automations.cli import register_cli

    receivers.connect()
    register_cli(app)
