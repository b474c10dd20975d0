"""A bare Flask "hello world" (issue 20 §3): the ceiling for this machine, served by the same gunicorn settings as the
app (`bench/run_hot.py` starts it through docker-entrypoint.sh's own command line, with `hello:app` instead of
`wsgi:app`)."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "Hello, World!"
