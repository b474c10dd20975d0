"""A booking through the compose stack's proxy, as a visitor makes it (scripts/compose-check.sh).

python scripts/compose_booking.py book BASE_URL              -> prints "<order page path> <DD/MM/YYYY> <HH:MM>"
python scripts/compose_booking.py check BASE_URL PATH DAY HOUR  -> exit 0 when the order page shows that booking
"""

from __future__ import annotations

import re
import sys
from datetime import date, timedelta

import requests

NAME = "Reserva Compose"


def hidden_inputs(html: str) -> dict[str, str]:
    fields = {}
    for tag in re.findall(r"<input[^>]+>", html):
        if 'type="hidden"' in tag:
            name, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
            if name:
                fields[name.group(1)] = value.group(1) if value else ""
    return fields


def book(base: str) -> str:
    s = requests.Session()
    home = s.get(f"{base}/", timeout=20)
    home.raise_for_status()
    ids = sorted({int(i) for i in re.findall(r"/ventas/servicio/(\d+)/", home.text)})
    for service_id in ids:
        page = s.get(f"{base}/ventas/servicio/{service_id}/", timeout=20)
        token = hidden_inputs(page.text).get("csrf_token")
        for offset in range(1, 15):
            day = (date.today() + timedelta(days=offset)).isoformat()
            hours = s.get(
                f"{base}/ventas/get-available-hours/", params={"servicio_id": service_id, "fecha": day}, timeout=20
            ).json()
            if not hours.get("horas_disponibles"):
                continue
            slot = {"servicio_id": service_id, "fecha": day, "hora": hours["horas_disponibles"][0]}
            added = s.post(
                f"{base}/ventas/add-to-cart/",
                data={"csrf_token": token, **slot, "cantidad_personas": 1},
                allow_redirects=False,
                timeout=20,
            )
            if added.status_code not in (200, 302, 303):
                continue
            checkout = s.get(f"{base}/ventas/checkout/", timeout=20)
            data = {
                **hidden_inputs(checkout.text),
                "telefono": "9 8765 4321",
                "nombre": NAME,
                "email": "reserva.compose@example.com",
                "metodo_pago": "transferencia",
                "acepta_terminos": "y",
            }
            done = s.post(f"{base}/ventas/complete-checkout/", data=data, allow_redirects=False, timeout=30)
            if done.status_code == 303 and "/ventas/reserva/" in done.headers.get("Location", ""):
                path = done.headers["Location"].replace(base, "")
                day_text = date.fromisoformat(day).strftime("%d/%m/%Y")
                check(base, path, day_text, slot["hora"])
                return f"{path} {day_text} {slot['hora']}"
            raise SystemExit(f"checkout refused: {done.status_code} {done.text[:400]}")
    raise SystemExit("no bookable slot in the demo data")


def check(base: str, path: str, day: str, hour: str) -> None:
    page = requests.get(f"{base}{path}", timeout=20)
    if page.status_code != 200 or day not in page.text or hour not in page.text:
        raise SystemExit(
            f"order page {path}: {page.status_code}, {day} {hour} shown: {day in page.text, hour in page.text}"
        )


if __name__ == "__main__":
    action, base = sys.argv[1], sys.argv[2].rstrip("/")
    if action == "book":
        print(book(base))
    else:
        check(base, *sys.argv[3:6])
