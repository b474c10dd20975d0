"""The waitlist (self-service.md §4): customers who found a slot full ask to be told when it frees; freed capacity
becomes a held offer for the first entry that fits, decided under the service-day lock."""


def init_app(app) -> None:
    """Register the WAITLIST_OFFER renderer and relevance check with comms and connect to the sales signals."""
    from app.waitlist import receivers, renderers  # noqa: F401  (registration on import)

    receivers.connect()
