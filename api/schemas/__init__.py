"""Pydantic schemas of the review service's JSON API (Base/Create/Update/Public per resource)."""
