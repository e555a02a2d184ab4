"""The engine's two loops called with one flat set of keywords, as the core's tests
write them: each keyword goes where :func:`skae._core.train` takes it."""

from skae._core import PrintProgress, SolverSettings, TrainingData, train

DATA_KEYWORDS = ("target", "corruption", "dropout", "chunk_size", "validation")
RUN_KEYWORDS = ("history", "rng", "incremental", "callbacks")


def _train(network, theta, x, solver, keywords):
    data = TrainingData(x, **{k: keywords.pop(k) for k in DATA_KEYWORDS if k in keywords})
    run = {k: keywords.pop(k) for k in RUN_KEYWORDS if k in keywords}
    if keywords.pop("verbose", 0):
        run["callbacks"] = [*run.get("callbacks", ()), PrintProgress()]
    settings = SolverSettings(solver=solver, **keywords)
    return train(network, theta, data, settings, **run)


def train_minibatch(network, theta, x, *, solver, **keywords):
    """A minibatch run ("adam" or "sgd")."""
    return _train(network, theta, x, solver, keywords)


def train_full_batch(network, theta, x, *, method, **keywords):
    """A full-batch run ("lbfgs" or "cg")."""
    return _train(network, theta, x, method, keywords)
