"""campaign-sandbox: a local server that answers like the vendors' campaign APIs."""

__version__ = "0.1.0"
