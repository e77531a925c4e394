"""pytest plugin of campaign-sandbox (registered through the ``pytest11`` entry point)."""
