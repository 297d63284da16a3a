"""`python -m planvalidator` is the `planvalidator` command."""

from .cli import run

run()
