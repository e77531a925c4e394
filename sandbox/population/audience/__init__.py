"""Vendor-neutral audience engine: condition tree (``tree``), columnar index (``index``), evaluation."""

from sandbox.population.audience.evaluate import (
    UnknownMember,
    Unreached,
    estimate,
    evaluate,
    matching_rows,
    recipients,
    sample_identities,
)
from sandbox.population.audience.index import Index
from sandbox.population.audience.tree import validate_tree

__all__ = ["Index", "UnknownMember", "Unreached", "estimate", "evaluate", "matching_rows", "recipients",
           "sample_identities", "validate_tree"]
