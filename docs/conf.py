"""Sphinx configuration of the skae documentation.

Build: ``python -m sphinx -W -b html docs docs/_build/html`` (``pip install -e ".[docs]"``).
"""

import os
import re

import skae

# Examples run here without a display; Agg writes the PNGs the gallery shows.
os.environ.setdefault("MPLBACKEND", "Agg")

project = "skae"
author = "the skae developers"
copyright = "2026, the skae developers"
version = release = skae.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py", "**.zip"]
templates_path = ["_templates"]

# -- Markdown pages (the user guide and the reports stay plain Markdown) ----------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3

# -- API reference: autosummary stubs from the numpydoc docstrings -----------------------------
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
numpydoc_show_class_members = False  # the class template lists methods once
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
# No intersphinx: the build must work offline (CI), without warnings.

# -- Gallery ---------------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # The reproduced figures train for minutes on MNIST or several random seeds: they
    # are not run by the docs build; their committed PNGs (docs/images/) are shown
    # instead, and are their thumbnails (``# sphinx_gallery_thumbnail_path``). The
    # others run.
    "filename_pattern": r"/plot_(?!reproduce_)",
    # a block's last expression is not echoed: a display returned by from_estimator
    # would print as "<...FilterDisplay object at 0x...>" under its figure
    "capture_repr": (),
    "ignore_pattern": r"__init__\.py",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "reference_url": {"skae": None},
    "show_memory": False,
    "image_scrapers": ("matplotlib",),
}

# -- HTML ------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skae {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    # the top bar names the first pages (by the short titles of docs/index.rst) and
    # folds the rest into "More"; with all thirteen page titles it was crowded
    "header_links_before_dropdown": 6,
}
html_static_path = []


# -- Docstring fixes at build time ------------------------------------------------------
# scikit-learn's routing boilerplate links to labels of scikit-learn's own docs.
SKIPPED_INHERITED = re.compile(r"^(set_output|get_metadata_routing|set_\w+_request)$")


def skip_sklearn_boilerplate(app, what, name, obj, skip, options):
    if SKIPPED_INHERITED.match(name):
        return True
    return None


# "(n_features_in_,)" would read as an rST link target: quote it as scikit-learn does.
BARE_ATTRIBUTE = re.compile(r"\((n_features_in_|n_components_|n_samples_),\)")


def quote_attribute_names(app, what, name, obj, options, lines):
    lines[:] = [BARE_ATTRIBUTE.sub(r"(`\1`,)", line) for line in lines]


def setup(app):
    app.connect("autodoc-skip-member", skip_sklearn_boilerplate)
    app.connect("autodoc-process-docstring", quote_attribute_names)
