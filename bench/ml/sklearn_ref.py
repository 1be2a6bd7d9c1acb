"""Reference trainer for bench/ml/train-vs-sklearn.ts: scikit-learn's MLP (Adam) on exactly the
preprocessed matrix our trainer sees. Reads a JSON job on stdin, prints one JSON line."""
import json
import sys
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor

warnings.filterwarnings("ignore", category=ConvergenceWarning)


def load(path, rows, cols, dtype):
    return np.fromfile(path, dtype=dtype).reshape(rows, cols) if cols > 1 else np.fromfile(path, dtype=dtype)


job = json.load(sys.stdin)
X = load(job["xTrain"], job["nTrain"], job["d"], np.float32).astype(np.float64 if job.get("float64") else np.float32)
Xt = load(job["xTest"], job["nTest"], job["d"], np.float32).astype(X.dtype)
ydt = np.float64 if job["task"] == "regression" else np.int32
y = np.fromfile(job["yTrain"], dtype=np.float64 if ydt == np.float64 else np.int32)
yt = np.fromfile(job["yTest"], dtype=np.float64 if ydt == np.float64 else np.int32)
common = dict(
    hidden_layer_sizes=tuple(job["hidden"]),
    activation="relu",
    solver="adam",
    alpha=job["alpha"],
    batch_size=job["batchSize"],
    learning_rate_init=job["learningRate"],
    max_iter=job["epochs"],
    shuffle=True,
    random_state=job["seed"],
    tol=0.0,
    n_iter_no_change=10**9,
    early_stopping=False,
)
model = MLPRegressor(**common) if job["task"] == "regression" else MLPClassifier(**common)
t = time.perf_counter()
model.fit(X, y)
seconds = time.perf_counter() - t
pred = model.predict(Xt)
if job["task"] == "regression":
    resid = yt - pred
    metric = 1 - float(np.sum(resid**2)) / float(np.sum((yt - yt.mean()) ** 2))
else:
    metric = float(np.mean(pred == yt))
print(json.dumps({"seconds": seconds, "epochs": int(model.n_iter_), "metric": metric, "dtype": str(X.dtype)}))
