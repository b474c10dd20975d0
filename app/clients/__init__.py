"""Clients, consent and preferences, and the client-event audit trail."""
