"""planvalidator: validate and merge agency performance-plan workbooks.

The public names are imported lazily so that `planvalidator --help` does not pay for pandas.
"""

_EXPORTS = {
    "validate_workbook": "rules.validate", "validate_files": "rules.validate",
    "validate_plan": "rules.validate", "validate_plans": "rules.validate",
    "read_workbook": "read.plan", "read_plan": "read.plan", "Plan": "read.plan",
    "Finding": "findings", "Report": "findings", "CATALOGUE": "findings",
    "load_schema": "schema.loader", "PlanValidatorError": "errors", "SchemaError": "errors",
    "UnreadableWorkbook": "errors", "build_templates": "output.templates",
    "annotate_workbook": "output.annotate",
    "sync_files": "citywide.sync", "roll_forward": "citywide.rollforward", "diff_files": "citywide.diff",
    "read_consolidated": "citywide.consolidated.read",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        import importlib
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(name)
