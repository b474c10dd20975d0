"""Webhook targets may not reach internal addresses (security review L7).

A URL's host is resolved and every address checked: loopback, private, link-local (cloud metadata 169.254.169.254),
unique-local, CGNAT, multicast, reserved and unspecified addresses are refused, as are IPv4-mapped forms of them.
`WEBHOOK_ALLOWED_HOSTS` (a list or a comma-separated string of host names and CIDRs) lets an operator allow a
specific internal target, e.g. an n8n inside the cluster. The check runs when an endpoint is saved and again at
every delivery, where the sender connects to the address that was checked (no second lookup to rebind).
"""

from __future__ import annotations

import ipaddress
import socket

from flask import current_app

BLOCKED = "La URL apunta a una dirección interna o reservada ({address}); no se permite."
UNRESOLVED = "No se pudo resolver el dominio {host}."
BLOCKED_NAMES = ("localhost", "localhost.localdomain")


class UnsafeTarget(Exception):
    """The host is (or resolves to) an address webhooks may not reach; the message is Spanish."""


def _allow_list() -> tuple[set[str], list]:
    raw = current_app.config.get("WEBHOOK_ALLOWED_HOSTS") or []
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    names, networks = set(), []
    for item in (str(i).strip().lower() for i in items):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            names.add(item.rstrip("."))
    return names, networks


def is_blocked(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast


def _literal(host: str):
    try:
        return ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return None


def resolve(host: str, port: int, *, strict: bool = True) -> list[str]:
    """The host's addresses, every one checked; the first is the one to connect to.

    UnsafeTarget when any address is internal and not allowed, or (with `strict`) when the name does not resolve.
    Without `strict` (saving an endpoint) an unresolvable name is accepted: delivery checks it again."""
    host = (host or "").strip().lower().rstrip(".")
    names, networks = _allow_list()
    literal = _literal(host)
    if literal is not None:
        addresses = [literal]
    else:
        if host in BLOCKED_NAMES or host.endswith(".localhost"):
            if host in names:
                return [host]
            raise UnsafeTarget(BLOCKED.format(address=host))
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError, OSError):
            if strict:
                raise UnsafeTarget(UNRESOLVED.format(host=host)) from None
            return []
        addresses = []
        for info in infos:
            address = _literal(str(info[4][0]))
            if address is not None and address not in addresses:
                addresses.append(address)
        if not addresses:
            raise UnsafeTarget(UNRESOLVED.format(host=host))
    allowed_name = host in names
    for address in addresses:
        if is_blocked(address) and not allowed_name and not any(address in net for net in networks):
            raise UnsafeTarget(BLOCKED.format(address=address))
    return [str(a) for a in addresses]
