"""Outgoing webhooks (spec api.md §8): endpoints, the delivery outbox, the signed dispatcher and the admin page."""
