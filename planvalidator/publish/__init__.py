"""Publish: the consolidated plan as a static, accessible website with open data beside it, and
printable PDF reports (headless Chromium). Rank 6, beside addin: it reads a consolidated plan
(citywide) and writes with output's atomic writer."""

from .folder import PublishError
from .site import Published, publish

__all__ = ["publish", "Published", "PublishError"]
