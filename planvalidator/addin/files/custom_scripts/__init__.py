"""The add-in's commands, where xlwings-server looks for them (a module named custom_scripts).

Only the scripts live here: xlwings-server calls any attribute of this module by name.
"""

from planvalidator.addin.agency import get_my_plan
from planvalidator.addin.scripts import clear_highlights, submit, validate

__all__ = ["validate", "submit", "clear_highlights", "get_my_plan"]
