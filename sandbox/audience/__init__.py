"""Vendor-neutral audience engine: condition tree (``tree``), columnar index (``index``), evaluation."""

from sandbox.audience.evaluate import (
    UnknownMember,
    estimate,
    evaluate,
    matching_rows,
    recipients,
    sample_identities,
)
from sandbox.audience.index import Index
from sandbox.audience.tree import validate_tree

__all__ = ["Index", "UnknownMember", "estimate", "evaluate", "matching_rows", "recipients",
           "sample_identities", "validate_tree"]
