"""The one family of errors planvalidator raises on purpose.

Every error here means the input, the schema or the setup is wrong, not the code: str(exc) is a
plain sentence for an agency analyst or the office (no Python words) that names the file or
value to fix. The command line turns any of them into that sentence and exit code 2; an
exception outside this family is a bug and surfaces as one. Rank 0: every layer imports it.
"""

from __future__ import annotations


class PlanValidatorError(Exception):
    """Something the user can fix; str(exc) says what."""


class SchemaError(PlanValidatorError):
    """The schema YAML is wrong or missing; the message names the file and the key."""


class UnreadableWorkbook(PlanValidatorError):
    """The file can't be read as a plan workbook."""


class PayloadError(PlanValidatorError):
    """The request is not a workbook as the add-in sends it."""


class MergeError(PlanValidatorError):
    """The merge could not start (no sources, output names an input, ...)."""


class StoreError(PlanValidatorError):
    """A submission can't be stored or read."""


class SyncError(PlanValidatorError):
    """The sync could not start (an update of another year, the output names an input, ...)."""


class ConsolidatedError(PlanValidatorError):
    """The file is not a consolidated plan that can be synced, diffed or rolled forward."""


class UnknownAgency(PlanValidatorError):
    """An agency code the schema's catalog does not list."""


class RefusedInput(PlanValidatorError):
    """A request that would harm an input (e.g. writing an annotated copy over the source)."""


class ConfigError(PlanValidatorError):
    """The add-in server's config file or environment is wrong; the message says what to change."""


class AddinError(PlanValidatorError):
    """A refusal Excel shows to the analyst; `status` is the HTTP code it is sent with."""

    status = 400
