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
update, so the compiled path is covered too.
"""

import argparse
import hashlib
import warnings

import numpy as np
from sklearn.datasets import load_digits

from skae import compare
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
            weights = np.ascontiguousarray(estimator.components_).tobytes()
            print(dataset, name, hashlib.sha256(weights).hexdigest()[:16], estimator.n_iter_)


if __name__ == "__main__":
    main()
