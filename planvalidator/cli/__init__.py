"""The `planvalidator` command: a thin door into the library.

Each command parses its options, calls one library function, renders what it returns and
exits with the documented code: 0 no errors, 1 errors found, 2 unreadable input or misuse.
Heavy imports (pandas, pandera, openpyxl) happen inside the commands so `--help` stays fast.
The library's errors (planvalidator.errors) become a plain message and exit code 2 in one
place, `Commands.invoke`; any other exception is a bug and shows its traceback.
"""

from __future__ import annotations

import gc
import os
import sys
from importlib.util import find_spec
from pathlib import Path

import click

from .citywide import diff_command, merge, sync_command
from .options import (ADDIN_MODULES, BATCH_COMMANDS, BATCH_THRESHOLDS, Commands, Failure, examples,
                      schemas_option)
from .plans import codes, schema, template, validate
from .publish import publish_command
from .store import store


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]},
             epilog=examples("planvalidator validate examples/*.xlsx",
                             "planvalidator template build --fiscal-year 2028 -o templates/"))
@click.version_option(package_name="planvalidator")
@click.pass_context
def main(ctx):
    """Validate and merge agency performance-plan workbooks."""
    global _batch
    if ctx.invoked_subcommand in BATCH_COMMANDS:
        gc.set_threshold(*BATCH_THRESHOLDS)
        gc.disable()   # until the command's imports are frozen (options.batch_collector)
        _batch = True


_batch = False   # a batch command ran: run() may end the process without the teardown


def run() -> None:
    """The `planvalidator` program: main(); after a batch command, the process ends at once.

    When a batch command returns, its outputs are written, fsynced and renamed, their temporary
    files removed and its worker processes joined (all in `finally` and `with` blocks). What
    the interpreter's teardown would still do is free pandas', pandera's and the plans'
    objects one by one (~0.4 s of CPU), so once standard output and error are flushed,
    os._exit ends the process with the command's exit code. Any other ending (a bug's
    traceback, a pipe closed under us) takes the usual way out."""
    try:
        main()
    except SystemExit as e:
        if _batch and (e.code is None or isinstance(e.code, int)):
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            except (OSError, ValueError):
                raise e from None
            os._exit(e.code or 0)
        raise


@click.command(epilog=examples(
    "XLWINGS_LICENSE_KEY=noncommercial planvalidator serve --config addin.yaml",
    "planvalidator serve --host 0.0.0.0 --port 8000 --store /srv/submissions --config addin.yaml"))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535),
              help="Port to listen on.")
@click.option("--store", type=click.Path(file_okay=False, path_type=Path),
              help="Folder of the submission store (default: the config's, else ./submissions).")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="YAML file with the agency tokens (token: AGENCY or office) and limits.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Server processes (more answer more analysts at once).")
@schemas_option
def serve(host, port, store, config_path, workers):
    """Run the Excel add-in backend: Validate, Submit and Clear highlights in Excel."""
    missing = next((name for name in ADDIN_MODULES if find_spec(name) is None), None)
    if missing:   # looked up, not imported: xlwings-server reads its settings when imported
        raise Failure(f"The add-in backend needs the 'addin' extra ({missing} is not installed): "
                      f"pip install 'planvalidator[addin]'")
    from ..addin.server import serve as run_server
    run_server(host=host, port=port, store=store, config=config_path, workers=workers)


for command in (validate, codes, merge, template, sync_command, diff_command, schema, serve,
                store, publish_command):
    main.add_command(command)
