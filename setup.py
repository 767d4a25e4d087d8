"""Ships firmware/ and fixtures/ inside the wheel as harness/_data/ (harness.paths finds them there).

The repository keeps them at the top level, where the Makefile, the README and the tests expect
them; setuptools cannot map a top-level folder into a package without a copy, so build_py copies
them into the build tree. An editable install skips the copy: a checkout uses the folders in place.
Everything else is in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
# folder -> subfolders left out: firmware/tests holds the fuzz targets, test tooling only
PACKAGE_DATA_DIRS = {"firmware": ("tests",), "fixtures": ()}
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.o", "*.d")


class BuildPyWithData(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        data_dir = Path(self.build_lib) / "harness" / "_data"
        for name, left_out in PACKAGE_DATA_DIRS.items():
            target = data_dir / name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(ROOT / name, target, ignore=IGNORED)
            for sub in left_out:
                shutil.rmtree(target / sub, ignore_errors=True)


setup(cmdclass={"build_py": BuildPyWithData})
