"""WSGI entry point: ``gunicorn webhook:app`` (configuration from the environment)."""

from bot import create_app

app = create_app()
