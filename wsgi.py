"""WSGI entry point: `gunicorn wsgi:app`."""

from bot.web import create_app

app = create_app()
