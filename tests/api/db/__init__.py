"""Tests of api.db."""
