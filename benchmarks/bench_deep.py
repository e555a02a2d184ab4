"""Speed of one fine-tuning epoch of a deep classifier against its floor, sklearn and PyTorch.

Run from the repository root, with OpenBLAS choosing its own kernel as users run NumPy::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_deep.py

The model is the 784-1000-500-10 network of ``AutoencoderClassifier`` on a stack of two
autoencoders (docs/deep.md): sigmoid hidden layers, a softmax output with the log loss,
weight decay 1e-4, Adam (learning rate 1e-3), minibatches of 200 (the estimator's
"auto"), float32, on MNIST-sized data (60000 x 784; MNIST itself if the file is there).
It times one epoch of

- skae: ``AutoencoderClassifier(..., pretrain=False, max_iter=1).fit(X, y)``, and the
  same network trained by the core loop (the engine ``train``) alone;
- the floor: the 8 matrix products per batch of the forward and backward passes of the
  same shapes, timed alone;
- scikit-learn's ``MLPClassifier`` with the same layers, activation, solver and batch;
- PyTorch on the CPU (if importable) with the same layers, loss, optimiser and threads;

round-robin in one run, on the quiet runs (see ``benchmarks/README.md``). The report is
printed and written to ``benchmarks/results/bench_deep.md``; ``--quick`` is a smoke run.
"""

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

# this checkout's skae first (a script's own folder, not the working directory, is on the path)
sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]
from _harness import (  # noqa: E402
    CLOCKS,
    RESULTS,
    Environment,
    Goals,
    LoadMeter,
    Patience,
    ThreadScaling,
    Timings,
    accelerator_line,
    beside_products_line,
    blas_threads,
    common_arguments,
    count_floor_products,
    decay_in_objective,
    dense_floor,
    finish_arguments,
    load_mnist_like,
    log,
    markdown_table,
    numpy_path,
    numpy_sigmoid,
    profile_run,
    run_interleaved,
    thread_limits,
    thread_report,
    torch_available,
    wait_for_quiet,
    write_report,
)

from skae import AutoencoderClassifier, SparseAutoencoder, StackedAutoencoder  # noqa: E402
from skae._core import (  # noqa: E402
    Layer,
    Network,
    SolverSettings,
    TrainingData,
    TrainingHistory,
    train,
)
from skae._core.optimizers import Adam  # noqa: E402

DEFAULT_OUTPUT = RESULTS / "bench_deep.md"
HIDDEN = (1000, 500)
N_CLASSES = 10
BATCH_SIZE = 200  # AutoencoderClassifier's batch_size="auto": min(200, n_samples)
LEARNING_RATE = 1e-3
ALPHA = 1e-4  # L2 weight decay (AutoencoderClassifier's and MLPClassifier's default)

# goals of issue 21 (issue 9's were 1.5 and 1.0 for both baselines)
FLOOR_GOAL = 1.3  # the deep epoch within 1.3x of its floor
MLP_GOAL = 1.0  # faster than MLPClassifier
TORCH_GOAL = 1.3  # faster than PyTorch by 1.3x


def layer_sizes(n_features):
    return (n_features, *HIDDEN, N_CLASSES)


def classifier(**kwargs):
    """The estimator: a softmax on two sigmoid autoencoders, fine-tuned with Adam."""
    stack = StackedAutoencoder(
        [(f"ae{i + 1}", SparseAutoencoder(n, random_state=0)) for i, n in enumerate(HIDDEN)]
    )
    return AutoencoderClassifier(
        stack,
        alpha=ALPHA,
        solver="adam",
        learning_rate_init=LEARNING_RATE,
        batch_size=BATCH_SIZE,
        random_state=0,
        **kwargs,
    )


def fit_quietly(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X, y)


# -- measurements: each a factory ``make((X, y)) -> run()`` -----------------------------
def skae_fit(data):
    """One epoch of ``AutoencoderClassifier(pretrain=False, max_iter=1).fit(X, y)``.

    Validation, the random start of both layers and of the unused decoders, the label
    binarisation and the commit into the autoencoders are included, as users run it.
    """
    X, y = data

    def run():
        fit_quietly(classifier(pretrain=False, max_iter=1), X, y)

    return run


def _network_and_target(X, y):
    """The classifier's network, built from the core's layers as the estimator builds
    it (sigmoid layers and a softmax, each with weight decay), and the one-hot target."""
    sizes = layer_sizes(X.shape[1])
    layers = [
        Layer(n_in, n_out, "sigmoid" if n_out != N_CLASSES else "softmax", alpha=ALPHA)
        for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True)
    ]
    network = Network(layers, "log_loss", n_encoder_layers=len(HIDDEN), dtype=X.dtype)
    target = np.zeros((X.shape[0], N_CLASSES), dtype=X.dtype)
    target[np.arange(X.shape[0]), y] = 1
    return network, target


def one_epoch(network, X, target):
    """One epoch of the training engine ``train`` (no callbacks) from the seeded start."""
    rng = np.random.default_rng(0)
    theta = network.init_params(rng)
    history = TrainingHistory()
    settings = SolverSettings(
        solver="adam",
        max_iter=1,
        tol=1e-4,
        n_iter_no_change=10,
        learning_rate=LEARNING_RATE,
        batch_size=BATCH_SIZE,
    )
    train(network, theta, TrainingData(X, target=target), settings, history=history, rng=rng)
    return history


def skae_core(data):
    """One epoch of the core loop (the engine ``train``) on the estimator's network."""
    X, y = data
    network, target = _network_and_target(X, y)

    def run():
        one_epoch(network, X, target)

    return run


def part_objective(data):
    """Part of the core loop: ``objective`` with gradient on each contiguous batch."""
    X, y = data
    network, target = _network_and_target(X, y)
    theta = network.init_params(np.random.default_rng(0))
    grad = np.empty_like(theta)

    def run():
        for start in range(0, X.shape[0], BATCH_SIZE):
            stop = start + BATCH_SIZE
            target_rows = target[start:stop]
            # as the engine calls it: the weight decay is the step's (part_adam)
            network.objective(
                theta, X[start:stop], grad, target=target_rows, include_weight_decay=False
            )

    return run


def part_adam(data):
    """Part of the core loop: one Adam step per batch, weight decay included, on a fixed
    gradient (to which the NumPy path adds the decay each time: a drift of no account)."""
    X, y = data
    network, _ = _network_and_target(X, y)
    rng = np.random.default_rng(0)
    theta = network.init_params(rng)
    grad = (1e-3 * rng.standard_normal(theta.shape)).astype(X.dtype)
    n_batches = -(-X.shape[0] // BATCH_SIZE)

    decay = network.weight_decay_ranges

    def run():
        optimizer = Adam(theta.copy(), learning_rate=LEARNING_RATE)
        for _ in range(n_batches):
            optimizer.step(grad, decay)

    return run


def floor(data):
    return dense_floor(layer_sizes(data[0].shape[1]), BATCH_SIZE)(data[0])


def mlp_fit(data):
    """One epoch of ``MLPClassifier`` with the same layers, activation, solver and batch."""
    X, y = data

    def run():
        estimator = MLPClassifier(
            hidden_layer_sizes=HIDDEN,
            activation="logistic",
            solver="adam",
            alpha=ALPHA,
            batch_size=BATCH_SIZE,
            learning_rate_init=LEARNING_RATE,
            max_iter=1,
            shuffle=True,
            random_state=0,
        )
        fit_quietly(estimator, X, y)

    return run


def torch_fit(n_threads):
    """One epoch of the same network in PyTorch on the CPU.

    Linear-sigmoid-linear-sigmoid-linear, ``cross_entropy`` (softmax + log loss, mean
    over the batch), ``torch.optim.Adam`` with weight decay ``ALPHA`` on the weights only
    (the gradient of ``ALPHA / 2 ||W||^2``, as skae's), shuffled batches of 200, float32.
    Model construction is inside the timing, as skae's initialisation is.
    """
    import torch

    torch.set_num_threads(n_threads)

    def make(data):
        X, y = data
        X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)
        n, d = X.shape

        def run():
            torch.manual_seed(0)
            sizes = layer_sizes(d)
            layers = []
            for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
                layers += [torch.nn.Linear(n_in, n_out), torch.nn.Sigmoid()]
            model = torch.nn.Sequential(*layers[:-1])
            weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
            biases = [p for name, p in model.named_parameters() if name.endswith("bias")]
            optimizer = torch.optim.Adam(
                [{"params": weights, "weight_decay": ALPHA}, {"params": biases}],
                lr=LEARNING_RATE,
            )
            order = torch.randperm(n)
            for start in range(0, n, BATCH_SIZE):
                rows = order[start : start + BATCH_SIZE]
                optimizer.zero_grad(set_to_none=True)
                loss = torch.nn.functional.cross_entropy(model(X_t[rows]), y_t[rows])
                loss.backward()
                optimizer.step()

        return run

    return make


def profile_epoch(data, clock, n_rows=12):
    """cProfile of one skae epoch (the estimator's fit): ``_harness.profile_run``."""
    return profile_run(skae_fit(data), clock, n_rows)


# -- the run ---------------------------------------------------------------------------
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common_arguments(parser, DEFAULT_OUTPUT)
    parser.add_argument(
        "--no-profile", action="store_true", help="skip the cProfile of one skae epoch"
    )
    args = finish_arguments(parser.parse_args(argv), DEFAULT_OUTPUT)
    env = Environment("bench_deep.py", args.threads, args.clock)
    use_torch = not args.no_torch and torch_available()

    X, y, source = load_mnist_like(args.n_samples, args.random)
    sizes = layer_sizes(X.shape[1])
    n_batches = -(-X.shape[0] // BATCH_SIZE)
    n_products = count_floor_products(sizes)
    log(f"data: {source}, X {X.shape} float32, {n_batches} batches of {BATCH_SIZE}")

    net = "-".join(map(str, sizes))
    data = {"data": (X, y)}
    warmup = {"data": (X[:2000], y[:2000])}
    patience = Patience(args.patience)
    scaling = ThreadScaling(
        [
            ("floor", "floor"),
            ("skae_fit", "skae fit"),
            ("skae_fit_numpy", "skae fit, NumPy path"),
            ("skae_fit_numpy_sigmoid", "skae fit, NumPy sigmoid"),
            ("skae_fit_decay_in_objective", "skae fit, decay in the objective"),
            ("mlp", "MLPClassifier"),
            ("torch", "PyTorch"),
        ],
        "floor",
    )
    sections = []
    for count in env.thread_counts:
        with thread_limits(count):
            n_threads = blas_threads()
            measurements = {
                "floor": (f"floor: {n_products} matmuls per batch, 1 epoch", floor, "data"),
                "skae_fit": ("skae AutoencoderClassifier fit, 1 epoch", skae_fit, "data"),
                "skae_fit_numpy": (
                    "skae AutoencoderClassifier fit, NumPy path",
                    numpy_path(skae_fit),
                    "data",
                ),
                "skae_fit_numpy_sigmoid": (
                    "skae AutoencoderClassifier fit, NumPy sigmoid (before issue 21's sigmoid)",
                    numpy_sigmoid(skae_fit),
                    "data",
                ),
                "skae_fit_decay_in_objective": (
                    "skae AutoencoderClassifier fit, weight decay in the objective "
                    "(before the fused step)",
                    decay_in_objective(skae_fit),
                    "data",
                ),
                "skae_core": ("skae core: train, 1 epoch", skae_core, "data"),
                "part_objective": ("part: objective on each batch", part_objective, "data"),
                "part_adam": ("part: Adam.step per batch", part_adam, "data"),
                "mlp": ("MLPClassifier adam, 1 epoch", mlp_fit, "data"),
            }
            if use_torch:
                measurements["torch"] = ("PyTorch adam, 1 epoch", torch_fit(n_threads), "data")
            log(
                f"{n_threads} thread(s): timing {len(measurements)} measurements x "
                f"{args.repeats} repeats, interleaved"
            )
            samples = run_interleaved(
                measurements, data, warmup, args.repeats, patience, args.clock
            )
        timings = Timings(samples)
        scaling.add(n_threads, timings)
        sections += thread_section(timings, measurements, n_threads, n_products, use_torch)

    profile = []
    if not args.no_profile:
        log("profile: cProfile of one skae epoch")
        wait_for_quiet(LoadMeter(), patience)
        with thread_limits(max(env.thread_counts, key=lambda n: n or 0)):
            total, rows, beside = profile_epoch((X, y), CLOCKS[args.clock])
        profile = [
            "",
            f"## Profile: one skae epoch (fit), {total:.2f} s {args.clock} time under cProfile",
            "",
            "Top functions by own time; NumPy ufuncs (matmul, exp, in-place arithmetic) "
            "are counted in the Python function that calls them.",
            "",
            markdown_table(["function", "ncalls", "own s", "cumulative s"], rows),
            "",
            beside_products_line(total, beside),
        ]

    header = env.header(
        "skae deep classifier benchmark",
        use_torch,
        [
            f"data: {source}; X {X.shape[0]} x {X.shape[1]} float32, {N_CLASSES} classes; "
            f"network {net}, sigmoid hidden layers, softmax + log loss, alpha {ALPHA}; Adam "
            f"lr {LEARNING_RATE}; batch {BATCH_SIZE} ({n_batches} batches per epoch)",
            timings.method_line(args.repeats, patience),
            accelerator_line(),
        ],
    )
    pairs = [
        ("torch", "skae_fit", "PyTorch / skae fit"),
        ("skae_fit_numpy", "skae_fit", "skae NumPy path / skae fit"),
        ("skae_fit_numpy_sigmoid", "skae_fit", "skae NumPy sigmoid / skae fit"),
        ("skae_fit", "floor", "skae fit / floor"),
    ]
    report = "\n".join([*header, "", *sections, *thread_report(scaling, pairs), *profile, ""])
    write_report(report, args.output)


def thread_section(timings, measurements, n_threads, n_products, use_torch):
    """Times, goals and breakdown of one thread count's run."""
    floors = dict.fromkeys(measurements, "floor")
    notes = (
        f"Rows: `skae ... fit` is `AutoencoderClassifier(StackedAutoencoder([ae1: "
        f"SparseAutoencoder({HIDDEN[0]}), ae2: SparseAutoencoder({HIDDEN[1]})]), "
        f"pretrain=False, alpha={ALPHA}, solver='adam', batch_size={BATCH_SIZE}, "
        "max_iter=1, random_state=0).fit(X, y)`; `MLPClassifier(hidden_layer_sizes="
        f"{HIDDEN}, activation='logistic', solver='adam', alpha={ALPHA}, "
        f"batch_size={BATCH_SIZE}, max_iter=1)`; PyTorch the same layers with "
        "`cross_entropy` and `Adam(weight_decay=alpha on the weights)`. `/ floor` divides "
        "by the floor row. See benchmarks/README.md."
    )
    goals = Goals(timings)
    within = f"<= {FLOOR_GOAL}"
    goals.ratio("skae epoch (fit) / floor", "skae_fit", "floor", within, at_most=FLOOR_GOAL)
    goals.ratio("skae core loop / floor", "skae_core", "floor", within, at_most=FLOOR_GOAL)
    goals.ratio("(skae fit, NumPy path / floor)", "skae_fit_numpy", "floor", "info")
    goals.ratio("skae NumPy path / skae fit", "skae_fit_numpy", "skae_fit", "info")
    name = "skae NumPy sigmoid / skae fit"
    goals.ratio(name, "skae_fit_numpy_sigmoid", "skae_fit", "info")
    name = "skae decay in the objective / skae fit"
    goals.ratio(name, "skae_fit_decay_in_objective", "skae_fit", "info")
    goals.ratio("MLPClassifier / skae fit", "mlp", "skae_fit", f">= {MLP_GOAL}", at_least=MLP_GOAL)
    if use_torch:
        goals.ratio(
            "PyTorch / skae fit", "torch", "skae_fit", f">= {TORCH_GOAL}", at_least=TORCH_GOAL
        )
    else:
        goals.add(["PyTorch / skae fit", "n/a", "n/a", f">= {TORCH_GOAL}", "not measured", ""])

    low = timings.min
    parts = [
        (f"{n_products} matmuls (floor)", low["floor"]),
        ("objective beyond the matmuls", low["part_objective"] - low["floor"]),
        ("Adam step with the weight decay", low["part_adam"]),
        ("rest of the core loop", low["skae_core"] - low["part_objective"] - low["part_adam"]),
        ("estimator beyond the core loop", low["skae_fit"] - low["skae_core"]),
        ("skae fit, total", low["skae_fit"]),
    ]
    breakdown = markdown_table(
        ["part (minima)", "s", "share"],
        [[label, f"{s:.3f}", f"{s / low['skae_fit']:.0%}"] for label, s in parts],
    )
    return [
        f"## Times, {n_threads} thread(s)",
        "",
        timings.table(measurements, floors),
        "",
        notes,
        "",
        f"## Goals, {n_threads} thread(s)",
        "",
        goals.table(),
        "",
        f"## Where a skae epoch goes, {n_threads} thread(s) (differences of the minima above)",
        "",
        breakdown,
        "",
    ]


if __name__ == "__main__":
    main()
