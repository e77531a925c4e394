"""Engagement tests run with outbound webhooks on (every target is a local receiver on 127.0.0.1)."""

from __future__ import annotations

import dataclasses

import pytest
from support.http import DEFAULT_SETTINGS

from sandbox.settings import Settings


@pytest.fixture
def settings() -> Settings:
    return dataclasses.replace(DEFAULT_SETTINGS, webhooks="on")
