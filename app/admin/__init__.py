"""Flask-Admin back office (placeholder until the admin views land)."""


def init_admin(app):
    return None
