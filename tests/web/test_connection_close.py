"""A response to a request whose body the app did not read closes the connection (security review H2): the rest of
the body is never parsed as the next request and no server thread waits for bytes the client never sends."""

from __future__ import annotations


def test_unread_body_answers_connection_close(app, db_session):
    client = app.test_client()
    rejected = client.post("/ventas/api/pagos/", json={"monto": 1})  # 401 before the JSON is parsed
    assert rejected.status_code == 401 and rejected.headers["Connection"] == "close"


def test_read_body_and_bodyless_requests_keep_the_connection(app, db_session):
    client = app.test_client()
    parsed = client.post("/accounts/login/", data={"username": "nadie", "password": "x"})  # the form was read
    assert parsed.status_code == 422 and "Connection" not in parsed.headers
    assert "Connection" not in client.get("/healthz").headers


def test_gunicorn_is_told_to_close_through_its_response_object():
    """gunicorn drops hop-by-hop headers; the middleware calls force_close() on the server's response instead."""
    from app.web.security import HonourConnectionClose

    class ServerResponse:  # the shape of gunicorn.http.wsgi.Response used by the middleware
        closed = False

        def force_close(self):
            self.closed = True

        def start_response(self, status, headers, exc_info=None):
            return lambda data: None

    def wsgi_app(environ, start_response):
        start_response("401 UNAUTHORIZED", [("Connection", "close"), ("Content-Length", "0")])
        return [b""]

    for headers_close, expected in ((True, True), (False, False)):
        server = ServerResponse()
        app = wsgi_app if headers_close else (lambda e, sr: (sr("200 OK", []), [b""])[1])
        HonourConnectionClose(app)({}, server.start_response)
        assert server.closed is expected
