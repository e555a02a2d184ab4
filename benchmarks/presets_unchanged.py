"""Hash the weights of every preset of ``skae.compare``, fitted briefly, to compare commits.

A change of defaults must not move a published figure (issue 18). The comparison's
presets set what they were searched at (``skae.compare.SEARCHED_AT``); this script
checks the whole path: each MNIST and digits autoencoder preset (at most 128 units, two
epochs or iterations, the first 1000 MNIST training images or 500 digits) is fitted
and the SHA-256 of its ``components_`` printed. Run it on two commits and diff::

    git worktree add /tmp/old 42cdb7a
    (cd /tmp/old && PYTHONPATH=/tmp/old python "$OLDPWD/benchmarks/presets_unchanged.py" \
        --data-home DIR) > old.txt
    PYTHONPATH=. python benchmarks/presets_unchanged.py --data-home DIR > new.txt
    diff old.txt new.txt && echo identical

128 units on 784 pixels is above the size from which ``skae[fast]`` takes over Adam's
update, so the compiled path is covered too. The presets use no weight decay, so three
models with it follow (issue 21 moved the decay into the optimiser's step): a sparse
and a tied autoencoder with Adam and with SGD, and a deep classifier, on the first 3000
MNIST images, each with a hash of its weights (the classifier: of ``predict_proba``).
"""

import argparse
import hashlib
import warnings

import numpy as np
from sklearn.datasets import load_digits

from skae import (
    AutoencoderClassifier,
    SparseAutoencoder,
    StackedAutoencoder,
    TiedAutoencoder,
    compare,
)
from skae.datasets import load_mnist


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", default="../shared/data/mnist")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")  # two epochs warn by design
    mnist = load_mnist(data_home=args.data_home)["X_train"][:1000]
    digits = load_digits().data[:500] / 16
    for dataset, X in [("mnist", mnist), ("digits", digits)]:
        for name in ["sparse_ae", "denoising_ae", "tied_ae"]:
            params = dict(compare.PRESETS[dataset][name])
            params["max_iter"] = 2  # the path, not the figure
            n_components = min(params.pop("n_components", 64), 128)
            estimator = compare.METHODS[name](n_components, 0, params).fit(X)
            print(dataset, name, digest(estimator.components_), estimator.n_iter_)
    X = load_mnist(data_home=args.data_home)["X_train"][:3000].astype(np.float32)
    for solver in ("adam", "sgd"):
        for name, model in [
            ("sparse", SparseAutoencoder(128, alpha=1e-3, solver=solver, max_iter=4)),
            ("tied", TiedAutoencoder(100, alpha=1e-2, solver=solver, max_iter=3)),
        ]:
            model.set_params(random_state=0).fit(X)
            print("decay", name, solver, digest(model.components_), model.n_iter_)
    layers = [("a", SparseAutoencoder(200, random_state=0)), ("b", SparseAutoencoder(100))]
    classifier = AutoencoderClassifier(
        StackedAutoencoder(layers), pretrain=False, alpha=1e-4, max_iter=3, random_state=0
    )
    y = load_mnist(data_home=args.data_home)["y_train"][:3000]
    classifier.fit(X, y)
    print("decay classifier adam", digest(classifier.predict_proba(X)), classifier.n_iter_)


def digest(array):
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()[:16]


if __name__ == "__main__":
    main()
