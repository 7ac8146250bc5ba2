"""Routers of the review service, one per resource."""
