"""Cross-cutting web helpers: HTMX rendering, security headers, error pages, health endpoints."""
