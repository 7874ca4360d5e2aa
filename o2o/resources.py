"""Where the migrations and the sample data are: the one lookup for both.

They live at the repository's top level (`migrations/`, `sample_data/`); the build maps them
into the package as `o2o/_data/migrations` and `o2o/_data/sample_data` (pyproject.toml's
`[tool.setuptools.package-dir]` and `package-data`). An installed wheel finds them there; a
plain checkout or an editable install, which have no `o2o/_data`, at the top level next to
`o2o/`. Neither depends on the working directory.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def _data_dir(name: str) -> Path:
    installed = PACKAGE_DIR / "_data" / name
    if installed.is_dir():
        return installed
    return PACKAGE_DIR.parent / name


MIGRATIONS_DIR = _data_dir("migrations")
SAMPLE_DIR = _data_dir("sample_data")
DEFAULT_SEED = SAMPLE_DIR / "hangzhou.json"
DEFAULT_SCENARIO = SAMPLE_DIR / "scenarios" / "hangzhou.json"
