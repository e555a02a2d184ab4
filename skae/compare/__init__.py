"""The feature-learning comparison: the same classifier on raw pixels and on learned features.

Run it with ``python -m skae.compare`` (or the ``skae-compare`` console script); ``--help``
lists the options. The default run uses scikit-learn's bundled 8x8 digits, needs no
download and takes a few seconds.

The experiment
--------------
One stratified train/test split (``--dataset digits``: ``load_digits`` scaled to [0, 1]
by /16, ``train_test_split(test_size=0.25, stratify=y)``; ``--dataset mnist``: the
official 60 000/10 000 split from :func:`skae.datasets.load_mnist`), optionally a
stratified subsample of the training set (``--n-train``). Then, for each method,
``make_pipeline(extractor, classifier)`` is fit on the training set and scored on the
test set. The extractors are

=============  ===================================================================
pixels         no extractor: the raw pixels (an identity ``FunctionTransformer``)
pca            :class:`~sklearn.decomposition.PCA`
rbm            :class:`~sklearn.neural_network.BernoulliRBM`
sparse_ae      :class:`skae.SparseAutoencoder`
denoising_ae   :class:`skae.DenoisingAutoencoder`
tied_ae        :class:`skae.TiedAutoencoder`
=============  ===================================================================

each with the settings of :data:`PRESETS` for the dataset (the output of the search
below; ``--presets FILE`` reads another search's choice), the same ``random_state`` and
``--n-components`` features where the preset does not set a width (an explicit
``--n-components`` sets every width). An estimator option (``--alpha``,
``--noise-level``, ...) overrides the presets of all three autoencoders; ``--max-iter``
also sets the RBM's ``n_iter``.

The protocol
------------
``--search`` (or ``--search-only``, which stops before the test set) chooses each
method's settings and the classifier's ``C`` on a stratified validation split carved
from the training set (``--n-validation``: 10000 of MNIST's 60000, a sixth for digits;
the split is fixed), over the grids of :data:`SEARCH_SPACES` (or ``--search-space
FILE``). Each candidate extractor is fit once (on ``--search-n-train`` samples of the
rest, to make MNIST affordable) and a classifier is fit on its features for each ``C``.
Raw pixels, PCA and the RBM are searched as the autoencoders are (``C`` for all, PCA's
width, the RBM's learning rate and iterations). The chosen settings are then refit on
the whole training set and scored on the test set once. ``--seeds N`` refits each
method with N seeds (of the extractor and the classifier; the data split is fixed) and
reports the mean and the sample standard deviation.

A ConvergenceWarning of an extractor whose iteration budget the preset or the command
line sets is expected (the budget is the setting) and not reported; any other warning
is.

Timing: the default digits run limits BLAS to one thread (``--blas-threads``), as its
small matrices gain nothing from threads; mnist keeps the BLAS default.

Fairness: the classifier is one fresh, identical object per method, built from
``--classifier``. The linear classifiers (``logistic``, ``linear_svc``) include a
:class:`~sklearn.preprocessing.StandardScaler` in front, for every method including raw
pixels, because their regularisation and convergence depend on the scale of the
features; ``knn`` and ``random_forest`` see the features as they are (k-NN so that it
measures each representation's own geometry; trees do not care about scale).

Outputs
-------
The table is printed on stdout, after a paragraph that says what is measured (which
classifier, on which split, over how many seeds) and before a list of what to try next;
on stderr, one line per method start and end and,
while an extractor trains for longer than ``--progress-interval`` seconds (10), its
epochs done, loss and time left (its own ``verbose`` output, which changes nothing in
the training). ``--search`` also writes ``search_<dataset>.md``/``.csv`` (every
candidate and C with its validation accuracy) and ``search_<dataset>_chosen.json``.
It is written as ``compare_<dataset>.md`` and ``compare_<dataset>.csv`` into
``--output-dir`` (default ``skae_compare_results/``) and, if matplotlib is installed
(``pip install skae[plot]``) and ``--no-plot`` is not given, drawn as
``compare_<dataset>.png`` (titled with the data, the classifier and the split; the
accuracy axis starts near the worst method and says where). Columns:

method
    The extractor's name, as above and as accepted by ``--methods``.
accuracy
    Accuracy of the pipeline on the test set (the mean over ``--seeds``).
accuracy_std
    Sample standard deviation of the accuracy over the seeds (0 for one seed).
n_seeds
    Number of seeds.
fit_time_s
    Wall time in seconds to fit the whole pipeline (extractor and classifier) on the
    training set (the mean over seeds).
transform_time_s
    Wall time in seconds for the fitted extractor to transform the test set.
n_features
    Number of features the classifier sees: the number of pixels for ``pixels``,
    the preset's or ``--n-components`` for the others.

The package
-----------
One module per responsibility; :mod:`skae.compare` re-exports the public names.

=============================  ===========================================================
``cli.py``, ``__main__.py``    the command line: options, defaults per dataset, the run
``presets.json``               :data:`PRESETS`, the settings scored (read by ``presets.py``)
``search_spaces.json``         :data:`SEARCH_SPACES`, what ``--search`` tries
``methods.py``                 :data:`METHODS` and :data:`CLASSIFIERS`, the factories
``data.py``                    :func:`load_data`, :func:`validation_split`
``protocol.py``                :func:`search`, :func:`run_comparison`, which warnings count
``progress.py``                ``CompareProgress``: the lines on stderr
``reports.py``                 Markdown, CSV and the chart; :func:`markdown_table`
=============================  ===========================================================
"""

from .cli import build_parser, main
from .data import load_data, validation_split
from .methods import CLASSIFIERS, METHODS, SEARCHED_AT, SEARCHED_AT_SPARSE
from .presets import PRESETS, SEARCH_SPACES
from .protocol import accuracy_over_c, run_comparison, search
from .reports import (
    COLUMNS,
    SEARCH_COLUMNS,
    describe_setting,
    format_markdown,
    format_search_markdown,
    markdown_table,
    write_results,
    write_search,
)

__all__ = [
    "CLASSIFIERS",
    "COLUMNS",
    "METHODS",
    "PRESETS",
    "SEARCHED_AT",
    "SEARCHED_AT_SPARSE",
    "SEARCH_COLUMNS",
    "SEARCH_SPACES",
    "accuracy_over_c",
    "build_parser",
    "describe_setting",
    "format_markdown",
    "format_search_markdown",
    "load_data",
    "main",
    "markdown_table",
    "run_comparison",
    "search",
    "validation_split",
    "write_results",
    "write_search",
]
