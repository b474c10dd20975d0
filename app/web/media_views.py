"""Uploaded images: content-checked, size-limited, random names under MEDIA_ROOT, served with nosniff."""

from __future__ import annotations

import os
import secrets

from flask import Blueprint, abort, current_app, send_from_directory
from PIL import Image, UnidentifiedImageError

from app.auth.decorators import public  # noqa: I001
from app.core.errors import ValidationError

bp = Blueprint("media", __name__)

ALLOWED_FORMATS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}
SERVED_EXTENSIONS = set(ALLOWED_FORMATS.values())


def save_image(stream, *, folder: str = "images") -> str:
    """Validate an uploaded image (JPEG/PNG/WebP, ≤ MEDIA_MAX_BYTES) and store it; returns its media path."""
    data = stream.read(current_app.config["MEDIA_MAX_BYTES"] + 1)
    if len(data) > current_app.config["MEDIA_MAX_BYTES"]:
        raise ValidationError("La imagen supera 5 MB.", field="image")
    if not data:
        raise ValidationError("El archivo está vacío.", field="image")
    from io import BytesIO

    try:
        with Image.open(BytesIO(data)) as img:
            fmt = img.format
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValidationError("El archivo no es una imagen JPEG, PNG o WebP válida.", field="image") from None
    if fmt not in ALLOWED_FORMATS:
        raise ValidationError("El archivo no es una imagen JPEG, PNG o WebP válida.", field="image")
    name = f"{secrets.token_urlsafe(16)}{ALLOWED_FORMATS[fmt]}"
    target_dir = os.path.join(current_app.config["MEDIA_ROOT"], folder)
    os.makedirs(target_dir, exist_ok=True)
    with open(os.path.join(target_dir, name), "wb") as fh:
        fh.write(data)
    return f"{folder}/{name}"


@bp.get("/media/<path:filename>")
@public
def media(filename: str):
    if os.path.splitext(filename)[1].lower() not in SERVED_EXTENSIONS:
        abort(404)
    response = send_from_directory(current_app.config["MEDIA_ROOT"], filename, max_age=86400)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
