"""JSON API (spec api.md): personal-token auth, errors, idempotency, the router resources, OpenAPI."""
