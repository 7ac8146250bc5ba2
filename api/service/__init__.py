"""The review service: JSON API under ``/api`` and a server-rendered UI in Simplified Chinese."""

from api.service.app import create_app

__all__ = ["create_app"]
