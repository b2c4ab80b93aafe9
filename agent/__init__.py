"""caselog-agent: a local companion agent for the Amazon Seller Central Case Log."""

from __future__ import annotations

__version__ = "0.1.0"
