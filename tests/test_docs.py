"""The documentation covers the public API: every public name is in the API reference and
has a numpydoc docstring with an Examples section (run as a doctest by the test suite)."""

import importlib
import inspect
import re
from pathlib import Path

import pytest

API_REFERENCE = Path(__file__).parent.parent / "docs" / "api.rst"
PUBLIC_MODULES = [
    "skae",
    "skae.callbacks",
    "skae.datasets",
    "skae.inspection",
    "skae.preprocessing",
    "skae.utils",
]


def public_objects():
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                yield pytest.param(module_name, name, obj, id=f"{module_name}.{name}")


@pytest.mark.parametrize(("module_name", "name", "obj"), list(public_objects()))
def test_public_object_is_documented_with_an_example(module_name, name, obj):
    doc = inspect.getdoc(obj) or ""
    assert re.search(r"^Examples\n--------\n", doc, re.MULTILINE), f"{name}: no Examples"
    assert ">>> " in doc.split("Examples\n--------", 1)[1], f"{name}: Examples has no code"
    if inspect.signature(obj).parameters:
        assert "Parameters\n----------" in doc, f"{name}: no Parameters section"
    # listed under its module in the API reference
    text = API_REFERENCE.read_text(encoding="utf-8")
    section = text.split(f".. currentmodule:: {module_name}\n", 1)
    assert len(section) == 2, f"docs/api.rst has no section for {module_name}"
    listed = section[1].split(".. currentmodule::", 1)[0]
    assert re.search(rf"^   {name}$", listed, re.MULTILINE), f"{name} missing from docs/api.rst"


def test_ci_builds_the_docs_with_the_readme_command():
    root = Path(__file__).parent.parent
    readme = (root / "README.md").read_text(encoding="utf-8")
    ci_lines = (root / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    docs_commands = [line for line in ci_lines if "sphinx" in line and not line.startswith("#")]
    assert len(docs_commands) == 1
    assert f"\n{docs_commands[0]}\n" in readme  # verbatim, on its own line
    assert " -W " in docs_commands[0]  # warnings fail the build


def test_the_quick_start_runs_clean_and_beats_the_pixels():
    # issue 18: the quick start at the defaults warned and lost to the raw pixels
    import warnings

    from sklearn.linear_model import LogisticRegression

    text = (Path(__file__).parent.parent / "docs" / "quick_start.md").read_text()
    code = text.split("```python\n", 1)[1].split("```", 1)[0]
    namespace = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exec(compile(code, "quick_start.md", "exec"), namespace)  # noqa: S102
    pixels = LogisticRegression(max_iter=1000).fit(namespace["X_train"], namespace["y_train"])
    test = namespace["X_test"], namespace["y_test"]
    assert namespace["pipe"].score(*test) > pixels.score(*test)
