"""LibreOffice headless: a second, real spreadsheet program that re-saves our workbooks."""

from __future__ import annotations

import subprocess
from pathlib import Path


def convert(path: Path, out_dir: Path, to: str = "xlsx") -> Path:
    """Convert (re-save) `path` with LibreOffice into out_dir; a fresh profile each run."""
    out_dir.mkdir(parents=True, exist_ok=True)
    profile = out_dir / ".lo-profile"
    subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless",
                    "--convert-to", to, "--outdir", str(out_dir), str(path)],
                   check=True, capture_output=True, timeout=180)
    result = out_dir / f"{path.stem}.{to}"
    assert result.exists(), f"LibreOffice wrote no {result.name}"
    return result
