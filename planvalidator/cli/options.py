"""What the commands share: the error handling, the options, the help epilogs, progress."""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path

import click

from ..errors import PlanValidatorError
from ..safetext import printable

OK, FOUND_ERRORS, BAD_INPUT = 0, 1, 2
ADDIN_MODULES = ("xlwings", "xlwings_server", "starlette", "uvicorn")   # the `addin` extra


class Failure(click.ClickException):
    """A plain-language error for the user; exit code 2."""
    exit_code = BAD_INPUT

    def format_message(self) -> str:
        return printable(self.message)   # it may quote a file or sheet name


class Commands(click.Group):
    """The library's errors and unreadable or unwritable files → their sentence, exit code 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except PlanValidatorError as e:
            raise Failure(str(e)) from None
        except OSError as e:
            if e.errno == errno.EPIPE:   # output piped into `head`: click's own quiet exit
                raise
            raise Failure(os_sentence(e)) from None
        except MemoryError:   # e.g. under a memory limit (ulimit -v, a container)
            raise Failure("The command needed more memory than this process may use; "
                          "nothing was written.") from None


def os_sentence(e: OSError) -> str:
    """An operating-system error as one sentence: the file and the reason, no errno."""
    reason = e.strerror or "the operating system refused"
    return f"Cannot use {e.filename}: {reason}." if e.filename else f"{reason}."


def make_folder(folder: Path) -> None:
    """Create an output's folder (and its parents) as merge, sync and --annotate do."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        why = "a file has that name" if isinstance(e, FileExistsError) else e.strerror
        raise Failure(f"Cannot create the folder {folder}: {why}.") from None


def workbook_output(ctx, param, value):
    """-o of a command that writes a workbook: a file name; `-` (standard output) is refused,
    as a terminal or pipe is no place for a zip."""
    if value is not None and str(value) == "-":
        raise Failure(f"{ctx.info_name} writes a workbook, not text: give -o a file name "
                      f"such as citywide.xlsx (standard output, -, is not supported).")
    return value


def quiet_option(fn):
    """-q: nothing on standard output and no progress bar; the exit code tells the result and a
    command that cannot run still says why (on standard error)."""
    return click.option("--quiet", "-q", is_flag=True,
                        help="Print no report and no progress bar; the exit code tells the "
                             "result (errors that stop the command are still shown).")(fn)


def schemas_option(fn):
    """--schemas DIR: the office's own folder of schemas, for every command that loads one."""
    return click.option("--schemas", type=click.Path(exists=True, file_okay=False, path_type=Path),
                        metavar="DIR", expose_value=False, callback=_use_schemas,
                        help="Folder of fyYEAR.yaml schemas to use instead of the bundled ones "
                             "(default: $PLANVALIDATOR_SCHEMAS if set).")(fn)


def _use_schemas(ctx, _param, directory):
    """The loader reads the folder from the environment, so worker processes see it too;
    the variable is restored when the command ends (for callers that stay, like tests)."""
    from ..schema.loader import ENV_SCHEMAS
    if directory is not None:
        ctx.call_on_close(lambda before=os.environ.get(ENV_SCHEMAS): _setenv(ENV_SCHEMAS, before))
        os.environ[ENV_SCHEMAS] = str(directory.resolve())


def _setenv(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def schema_options(fn):
    """--fiscal-year, --schema (→ one `schema` argument; None: each workbook's own), --schemas."""
    fn = schemas_option(fn)
    fn = click.option("--schema", "schema_file", type=click.Path(exists=True, dir_okay=False,
                      path_type=Path), help="A schema YAML to use instead of schemas/fyYEAR.yaml "
                      "(for trying a draft schema).")(fn)
    return click.option("--fiscal-year", "-y", type=int, metavar="YEAR",
                        help="Fiscal year whose schema applies (default: the workbook's own, "
                             "else the latest).")(fn)


def load_chosen_schema(fiscal_year, schema_file):
    """The schema the options name, or None to let each workbook's fiscal year decide."""
    from ..schema.loader import load_schema
    if not (fiscal_year or schema_file):
        return None
    return load_schema(fiscal_year, path=schema_file)


def strict_option(fn):
    return click.option("--strict", is_flag=True,
                        help="Treat warnings as errors for the exit code.")(fn)


def format_option(*choices):
    def deco(fn):
        return click.option("--format", "fmt", type=click.Choice(choices), default=choices[0],
                            show_default=True, help="Output format.")(fn)
    return deco


def examples(*lines: str) -> str:
    """A help epilog: every --help ends with examples."""
    return "Examples:\n\n\b\n" + "\n".join(f"  {line}" for line in lines)


# The batch commands build many short-lived objects over a heap that is mostly imported modules
# (pandas, pandera): the garbage collector would rescan those again and again. They import with
# the collector off (importing makes no garbage to speak of, yet a merge paid ~0.2 s for three
# collections during it), then freeze what exists out of its sight and collect with raised
# thresholds.
BATCH_COMMANDS = ("validate", "merge", "sync")
BATCH_THRESHOLDS = (50_000, 20, 20)


def batch_collector() -> None:
    """Called by a batch command once its imports are done (pandas and pandera among them)."""
    import gc
    gc.freeze()
    gc.enable()


def exit_code(reports, strict: bool) -> int:
    if any(r.errors or (strict and r.warnings) for r in reports):
        return FOUND_ERRORS
    return OK


# The first items carry the start-up (imports, worker processes): an ETA from them alone is
# far off, so the bar shows none until this many are done.
ETA_AFTER = 3


def progress(items, label):
    """A progress bar on a terminal; silent when piped."""
    if not sys.stderr.isatty():
        return items
    return iterate_with_bar(items, len(items), label)


def file_progress(results, total):
    """A progress bar over the files on a terminal; silent when piped."""
    if not sys.stderr.isatty():
        return results
    return iterate_with_bar(results, total, "Merging")


def iterate_with_bar(items, total, label):
    with click.progressbar(length=total, label=label, file=sys.stderr, show_eta=False) as bar:
        for item in items:
            yield item
            bar.show_eta = bar.pos + 1 >= ETA_AFTER
            bar.update(1)


def use_color() -> bool:
    """Colour on a terminal, unless NO_COLOR is set (https://no-color.org)."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")
