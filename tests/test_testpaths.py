"""`make test` collects every test file: each test_*.py lies under a configured testpath."""

import os
from pathlib import Path

# Folders that hold no tests of ours: installed packages, data, vendored and generated files.
SKIPPED = {".venv", ".data", "node_modules", "static/vendor", "test-artifacts", ".git"}


def _test_files(root: Path) -> list[Path]:
    found = []
    for folder, subfolders, files in os.walk(root):
        here = Path(folder).relative_to(root)
        subfolders[:] = sorted(name for name in subfolders
                               if (here / name).as_posix() not in SKIPPED
                               and name != "__pycache__")
        found += [here / name for name in sorted(files)
                  if name.startswith("test_") and name.endswith(".py")]
    return found


def test_every_test_file_is_under_a_testpath(pytestconfig):
    # given the testpaths pytest reads from pyproject.toml
    root = pytestconfig.rootpath
    testpaths = [Path(path) for path in pytestconfig.getini("testpaths")]
    assert testpaths, "pyproject.toml sets no testpaths"
    # when the repository is walked for test files
    files = _test_files(root)
    # then each one is collected by `make test`
    outside = [str(path) for path in files
               if not any(path.is_relative_to(testpath) for testpath in testpaths)]
    assert files, "no test files found: is the walk looking at the repository?"
    assert outside == [], f"test files outside the testpaths {testpaths}: {outside}"


def test_the_walk_finds_a_file_outside_the_testpaths(tmp_path):
    # given a tree with a test file in a folder that is not a testpath, and one vendored
    (tmp_path / "ops" / "tests").mkdir(parents=True)
    (tmp_path / "ops" / "tests" / "test_health.py").write_text("")
    (tmp_path / "static" / "vendor" / "lib").mkdir(parents=True)
    (tmp_path / "static" / "vendor" / "lib" / "test_lib.py").write_text("")
    # when it is walked
    files = _test_files(tmp_path)
    # then the one in ops/ is found and the vendored one is not
    assert files == [Path("ops/tests/test_health.py")]
