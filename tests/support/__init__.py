"""Helpers shared by the tests (import from here, never from conftest or another test module)."""
