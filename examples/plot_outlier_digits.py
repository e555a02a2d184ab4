"""
Anomaly detection on the digits: fit on one class, rank the others, explain the top ones
=========================================================================================

:class:`~skae.AutoencoderOutlierDetector` fits an autoencoder to normal rows and calls
a row an outlier when the autoencoder cannot reconstruct it. Here the normal rows are
the zeros of scikit-learn's 8 x 8 digits; the detector ranks every other digit, and
:class:`~skae.inspection.OutlierExplanationDisplay` shows, for the rows it finds most
abnormal, the input, its reconstruction and the per-feature scores (the squared
reconstruction error of each pixel, times the row's density factor: how sparse the
training zeros are around it), which sum to the row's outlier score.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from skae import AutoencoderOutlierDetector
from skae.inspection import OutlierExplanationDisplay

X, y = load_digits(return_X_y=True)
X_zeros, X_zeros_test = train_test_split(X[y == 0], test_size=0.3, random_state=0)
X_test = np.vstack([X_zeros_test, X[y != 0]])
y_test = np.r_[np.zeros(len(X_zeros_test)), np.ones(np.sum(y != 0))]  # 1: anomaly
digit_test = np.r_[np.zeros(len(X_zeros_test), int), y[y != 0]]

detector = AutoencoderOutlierDetector(contamination=0.05, random_state=0).fit(X_zeros)
forest = IsolationForest(random_state=0).fit(X_zeros)

# %%
# Ranking the other digits
# ------------------------
# ``score_samples`` is higher for normal rows, as for every scikit-learn detector, so
# the AUROC of "is an anomaly" is computed on its opposite.
print(f"AUROC, autoencoder:      {roc_auc_score(y_test, -detector.score_samples(X_test)):.3f}")
print(f"AUROC, IsolationForest:  {roc_auc_score(y_test, -forest.score_samples(X_test)):.3f}")
flagged = detector.predict(X_test) == -1
print(
    f"flagged: {flagged[y_test == 1].mean():.1%} of the anomalies, "
    f"{flagged[y_test == 0].mean():.1%} of the held-out zeros"
)

# %%
# The most abnormal rows, explained
# ---------------------------------
# Each row: the input, the reconstruction of the autoencoder trained on zeros, and the
# error map. The error sits on the strokes that a zero does not have.
order = np.argsort(detector.score_samples(X_test))[:3]
fig, axes = plt.subplots(3, 3, figsize=(7.5, 7.5))
for axis_row, index in zip(axes, order, strict=True):
    OutlierExplanationDisplay.from_estimator(detector, X_test[index], ax=axis_row)
    axis_row[0].set_title(f"input (digit {digit_test[index]})", fontsize="small")
fig.tight_layout()

# %%
# The per-feature scores add up to the outlier score
# --------------------------------------------------
# (scikit-learn's sign: ``score_samples`` is minus the sum.)
scores = detector.feature_scores(X_test[order])
print(np.allclose(scores.sum(axis=1), -detector.score_samples(X_test[order])))
plt.show()
