"""Layering and packaging rules: rnn_core stays plain PyTorch, and every requirement is pinned."""

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FORBIDDEN = ("streamlit", "plotly")


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_rnn_core_source_never_imports_streamlit_or_plotly():
    offenders = []
    for path in sorted((REPO / "rnn_core").rglob("*.py")):
        for mod in _imported_modules(path):
            if mod.split(".")[0] in FORBIDDEN:
                offenders.append(f"{path.relative_to(REPO)} imports {mod}")
        # importlib.import_module("streamlit") would dodge the AST scan above.
        if re.search(r"""import_module\(\s*["'](streamlit|plotly)""", path.read_text()):
            offenders.append(f"{path.relative_to(REPO)} imports streamlit/plotly dynamically")
    assert offenders == []


@pytest.mark.slow
def test_importing_rnn_core_and_its_tasks_loads_no_streamlit_or_plotly():
    code = (
        "import json, sys, rnn_core, rnn_core.tasks as t\n"
        "for n in t.available(): t.task_class(n)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('streamlit', 'plotly'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_every_requirement_is_pinned_exactly():
    lines = [ln.split("#")[0].strip() for ln in (REPO / "requirements.txt").read_text().splitlines()]
    reqs = [ln for ln in lines if ln]
    assert reqs, "requirements.txt lists nothing"
    unpinned = [ln for ln in reqs if not re.fullmatch(r"[A-Za-z0-9_.\-\[\],]+==[A-Za-z0-9_.+\-]+", ln)]
    assert unpinned == [], f"pin these with ==: {unpinned}"
    assert any(ln.startswith("torch==") for ln in reqs)


# Import name -> distribution name where the two differ.
DISTRIBUTIONS = {"PIL": "pillow", "sklearn": "scikit-learn", "streamlit_drawable_canvas": "streamlit-drawable-canvas",
                 "xdist": "pytest-xdist"}
# The project's own packages, and the tests' and scripts' modules (each imports its siblings by bare name).
LOCAL = {"rnn_core", "app", "tests", *(p.stem for p in [*REPO.glob("tests/*.py"), *REPO.glob("scripts/*.py")])}


def test_every_third_party_import_is_a_pinned_requirement():
    sources = [REPO / "streamlit_app.py", *REPO.glob("pages/*.py"), *REPO.glob("scripts/*.py")]
    sources += [*REPO.glob("tests/*.py"), *(REPO / "rnn_core").rglob("*.py"), *(REPO / "app").rglob("*.py")]
    imported = {m.split(".")[0] for path in sources for m in _imported_modules(path)}
    third_party = imported - set(sys.stdlib_module_names) - LOCAL
    lines = [ln for f in ("requirements.txt", "requirements-test.txt") for ln in (REPO / f).read_text().splitlines()]
    pinned = {ln.split("==")[0].strip().lower() for ln in lines if "==" in ln}
    undeclared = sorted(m for m in third_party if DISTRIBUTIONS.get(m, m).lower().replace("_", "-") not in pinned)
    assert undeclared == [], f"imported but not pinned in requirements(-test).txt: {undeclared}"
