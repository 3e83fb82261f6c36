"""The package as a citizen (issue 13, item 5): versions, license, what the sdist carries, and a
clear error when another package's ``autograd`` shadows ours."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys
import tarfile
import textwrap
from importlib import metadata
from pathlib import Path

import pytest

import autograd
import autograd.version
import nn
import viz

ROOT = Path(__file__).resolve().parents[1]
SETUP = configparser.ConfigParser()
SETUP.read(ROOT / "setup.cfg", encoding="utf-8")


# ---- versions ------------------------------------------------------------------------------------


def test_every_package_has_the_distributions_version():
    try:
        expected = metadata.version("scalar-autograd")
    except metadata.PackageNotFoundError:
        expected = SETUP["metadata"]["version"]
    assert autograd.__version__ == nn.__version__ == viz.__version__ == expected
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", expected)
    from autograd import __version__

    assert __version__ == expected


def test_a_checkout_never_installed_reads_setup_cfg(monkeypatch, tmp_path):
    def not_installed(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", not_installed)
    autograd.version.version.cache_clear()
    try:
        assert autograd.__version__ == SETUP["metadata"]["version"]
    finally:
        autograd.version.version.cache_clear()
    other = tmp_path / "setup.cfg"
    other.write_text("[metadata]\nname = something-else\nversion = 9.9\n")
    assert autograd.version._checkout_version(other) is None
    assert autograd.version._checkout_version(tmp_path / "missing.cfg") is None
    assert autograd.version.UNKNOWN == "0+unknown"


def test_other_missing_attributes_still_raise():
    for module in (autograd, nn, viz):
        with pytest.raises(AttributeError, match=f"module '{module.__name__}' has no attribute"):
            module.no_such_thing  # noqa: B018


# ---- license and ignores -------------------------------------------------------------------------


def test_license_file_matches_setup_cfg():
    assert SETUP["metadata"]["license"] == "MIT"
    assert SETUP["metadata"]["license_files"].strip() == "LICENSE"
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "Permission is hereby granted, free of charge" in text


def test_build_outputs_are_ignored():
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert {"dist/", "build/", "*.egg-info/"} <= set(ignored)


# ---- the sdist -----------------------------------------------------------------------------------

SKIP = shutil.ignore_patterns(
    ".git", ".venv", "out", "dist", "build", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis"
)


@pytest.fixture(scope="module")
def sdist_names(tmp_path_factory):
    pytest.importorskip("setuptools", reason="building an sdist needs setuptools (test extra)")
    src = tmp_path_factory.mktemp("src") / "scalar-autograd"
    shutil.copytree(ROOT, src, ignore=SKIP)
    out = src / "dist"
    build = "from setuptools import build_meta; print(build_meta.build_sdist('dist'))"
    done = subprocess.run(
        [sys.executable, "-c", build], cwd=src, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (archive,) = out.glob("*.tar.gz")
    with tarfile.open(archive) as tar:
        return {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}


def files_under(folder):
    """Every file of the checkout below ``folder``, minus caches."""
    return sorted(
        str(p.relative_to(ROOT))
        for p in (ROOT / folder).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and not p.name.endswith(".pyc")
    )


@pytest.mark.parametrize(
    "folder", ["tests", "demos", "docs", "benchmarks", "autograd", "nn", "viz"]
)
def test_the_sdist_carries_tests_demos_and_docs(sdist_names, folder):
    files = files_under(folder)
    assert files, f"nothing in {folder}/"
    missing = [f for f in files if f not in sdist_names]
    assert not missing, f"the sdist lacks {missing}"
    if folder == "docs":
        assert any(f.startswith("docs/notebooks/") and f.endswith(".ipynb") for f in files)


def test_the_sdist_carries_the_project_files_and_no_litter(sdist_names):
    for name in (
        "LICENSE",
        "README.md",
        "setup.cfg",
        "pyproject.toml",
        "MANIFEST.in",
        "Makefile",
        "viz/backprop.html",
        ".ci/run",
    ):
        assert name in sdist_names, name
    litter = [n for n in sdist_names if "__pycache__" in n or n.endswith(".pyc")]
    assert not litter and not any(n.startswith(("out/", ".venv/")) for n in sdist_names)


def test_readme_pictures_are_in_the_repository_and_the_sdist(sdist_names):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    pictures = re.findall(r'!\[[^\]]*\]\(([^)\s]+)\)|<img src="([^"]+)"', readme)
    paths = [a or b for a, b in pictures]
    assert paths
    for path in paths:
        if path.startswith(("http://", "https://")):
            continue
        assert (ROOT / path).is_file() and path in sdist_names, path
    assert "pictures live in `docs/`" in readme  # and the README says where, for PyPI readers


# ---- the autograd name clash ---------------------------------------------------------------------

FAKE = '''"""Stands in for PyPI's HIPS autograd, which has the same top-level name."""

def grad(fun, argnum=0):
    raise NotImplementedError
'''


@pytest.fixture
def foreign(tmp_path):
    """A folder holding a foreign ``autograd`` package, to put first on sys.path."""
    package = tmp_path / "site" / "autograd"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(FAKE)
    return package.parent


def run(code, first_on_path):
    """Run ``code`` in a fresh interpreter whose sys.path starts with ``first_on_path``."""
    prelude = f"import sys; sys.path[:0] = [{str(first_on_path)!r}, {str(ROOT)!r}]\n"
    return subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=first_on_path,
    )


@pytest.mark.parametrize(
    "statement",
    ["import nn", "import viz", "from nn import MLP", "import viz, nn", "import nn.train"],
)
def test_a_foreign_autograd_gets_an_error_that_names_it_and_the_fix(foreign, statement):
    done = run(statement, foreign)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: the 'autograd' package imported from ")
    assert str(foreign / "autograd" / "__init__.py") in last
    assert "is not the engine of scalar-autograd" in last
    assert "PyPI's 'autograd' (HIPS)" in last
    assert "virtual environment of its own" in last
    assert "pip uninstall autograd scalar-autograd" in last
    assert "pip install scalar-autograd again" in last


def test_a_demo_that_meets_a_foreign_autograd_says_so(foreign):
    # demolib puts the checkout first on sys.path unless it is there already; here it is, but
    # behind the foreign package, so the demo's imports meet the foreign autograd first
    code = f"""
        import runpy
        sys.path.insert(0, {str(ROOT / "demos")!r})
        sys.argv = ["neuron.py", "--out", {str(foreign / "out")!r}]
        runpy.run_path({str(ROOT / "demos" / "neuron.py")!r}, run_name="__main__")
    """
    done = run(code, foreign)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert "is not the engine of scalar-autograd" in last
    assert str(foreign / "autograd" / "__init__.py") in last


def test_a_demo_from_a_checkout_runs_on_our_engine_even_with_a_foreign_one_installed(foreign):
    done = subprocess.run(
        [sys.executable, str(ROOT / "demos" / "neuron.py"), "--out", str(foreign / "out")],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHONPATH": str(foreign), "PATH": "/usr/bin:/bin", "PYTHONIOENCODING": "utf-8"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "0.7071" in done.stdout


def test_our_own_autograd_passes_the_check():
    from nn import clash

    assert clash.is_ours(autograd)
    clash.check_autograd()
