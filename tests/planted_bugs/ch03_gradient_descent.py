from . import PlantedBug

A, NB = "ch03_gradient_descent", "gradient_descent"
LOOP = "ch03_gradient_descent_test"  # the training loop calls the learner's minibatches and gd_step

BUGS = [
    # minibatches
    PlantedBug(A, NB, "ch03_minibatches", "for start in range(0, n, batch_size):",
               "for start in range(0, n - batch_size + 1, batch_size):",
               "drops the last, smaller batch (the loop's mini-batch case has one too)",
               loses=("ch03_minibatches_test", LOOP)),
    PlantedBug(A, NB, "ch03_minibatches",
               '    if len(X) != len(y):\n        raise ValueError(f"X and y hold different numbers of examples: {len(X)} and {len(y)}")\n',
               "", "does not check that X and y hold the same number of examples"),
    PlantedBug(A, NB, "ch03_minibatches", "np.random.default_rng(seed).permutation(n)", "np.random.permutation(n)",
               "shuffles with the global random state instead of a generator made from the seed",
               loses=("ch03_minibatches_test", LOOP)),
    PlantedBug(A, NB, "ch03_minibatches",
               "if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:",
               "if batch_size < 1:", "accepts a batch size of 2.5"),
    # gd_step
    PlantedBug(A, NB, "ch03_gd_step", "params[key] -= lr * grad", "params[key] += lr * grad",
               "steps uphill", loses=("ch03_gd_step_test", LOOP)),
    PlantedBug(A, NB, "ch03_gd_step", "for key, grad in grads.items():\n        params[key] -= lr * grad",
               "for key in params:\n        params[key] -= lr * grads[key]",
               "loops over the parameters, so a frozen parameter (no gradient) raises a KeyError"),
    PlantedBug(A, NB, "ch03_gd_step", "params[key] -= lr * grad", "params[key] = params[key] - lr * np.asarray(grad, dtype=float)",
               "a new float64 array in the dict: float32 parameters come back float64",
               loses=("ch03_gd_step_test", LOOP)),
    # linear_regression_grads
    PlantedBug(A, NB, "ch03_linear_regression_grads", '"W": 2.0 / n * (residual @ X)', '"W": 1.0 / n * (residual @ X)',
               "forgets the factor 2 of the squared error in dW"),
    PlantedBug(A, NB, "ch03_linear_regression_grads", 'residual = (X @ params["W"].T + params["b"])[:, 0] - y',
               'residual = X @ params["W"].T + params["b"] - y',
               "(N, 1) minus (N,) broadcasts to an (N, N) matrix"),
    PlantedBug(A, NB, "ch03_linear_regression_grads", "n = len(y)", "n = len(y)\n    X = np.array(X, dtype=float)",
               "converts X to float64, so float32 inputs give float64 gradients"),
    # logistic_regression_grads
    PlantedBug(A, NB, "ch03_logistic_regression_grads", "error = (sigmoid(z) - y) / n", "error = sigmoid(z) - y",
               "forgets the 1/N of the mean"),
    PlantedBug(A, NB, "ch03_logistic_regression_grads",
               "loss = np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))",
               "loss = np.mean(-y * np.log(sigmoid(z)) - (1 - y) * np.log(1 - sigmoid(z)))",
               "the textbook cross-entropy of probabilities: log(0) for large logits"),
    PlantedBug(A, NB, "ch03_logistic_regression_grads", "error = (sigmoid(z) - y) / n",
               "error = (1 / (1 + np.exp(-z)) - y) / n", "a naive sigmoid: exp(-z) overflows for logits of -1000"),
    # gradient_descent
    PlantedBug(A, NB, "ch03_gradient_descent", "            snapshots.append({key: value.copy() for key, value in params.items()})",
               "            snapshots.append(dict(params))",
               "records the arrays gd_step keeps changing (dict() copies only the dict)"),
    PlantedBug(A, NB, "ch03_gradient_descent", "seed=seed + epoch", "seed=seed",
               "visits the batches in the same order every epoch"),
    PlantedBug(A, NB, "ch03_gradient_descent", '"batch": len(X),', '"batch": batch_size,',
               "batch descent uses batch_size instead of all examples"),
    PlantedBug(A, NB, "ch03_gradient_descent", "    params = {key: value.copy() for key, value in params.items()}\n", "",
               "trains the caller's parameters in place instead of a copy"),
]
