"""The JSON client object (spec api.md §5.2): lookups, the client mini-API, the `clientes` resource, webhooks."""

from __future__ import annotations

from app.clients.models import Client


def client_representation(client: Client) -> dict:
    return {
        "id": client.id,
        "nombre": client.name,
        "telefono": client.phone,
        "email": client.email,
        "documento_identidad": client.document_id,
        "ciudad": client.city,
        "pais": client.country,
        "fecha_nacimiento": client.birth_date.isoformat() if client.birth_date else None,
    }
