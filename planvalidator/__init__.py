"""planvalidator: validate and merge agency performance-plan workbooks.

The public names are imported lazily so that `planvalidator --help` does not pay for pandas.
"""

_EXPORTS = {
    "validate_workbook": "validation", "validate_files": "validation",
    "validate_plan": "validation", "validate_plans": "validation",
    "read_workbook": "reading", "read_plan": "reading", "Plan": "reading",
    "Finding": "findings", "Report": "findings", "CATALOGUE": "findings",
    "load_schema": "schema", "SchemaError": "schema",
    "UnreadableWorkbook": "xlsx", "build_templates": "templates",
    "annotate_workbook": "annotate",
    "sync_files": "sync", "roll_forward": "rollforward", "diff_files": "diff",
    "read_consolidated": "consolidated_reading",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        import importlib
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(name)
