from . import PlantedBug

A, NB = "ch07_capstone", "capstone"

BUGS = [
    PlantedBug(A, NB, "ch07_train_val_split", "order = np.random.default_rng(seed).permutation(n)",
               "order = np.arange(n)", "forgot to shuffle: the validation part is simply the first rows"),
    PlantedBug(A, NB, "ch07_train_val_split", "n_val = int(val_fraction * n)", "n_val = round(val_fraction * n)",
               "rounds the validation size instead of rounding down (the visible sizes are exact)", hidden_only=True),
    PlantedBug(A, NB, "ch07_normalize", "(X_other - mean) / scale",
               "(X_other - X_other.mean(axis=0)) / np.sqrt(X_other.var(axis=0) + eps)",
               "normalises the validation/test data with its own statistics (a data leak)"),
    PlantedBug(A, NB, "ch07_normalize", "    mean = X_train.mean(axis=0)",
               "    X_train, X_other = X_train.astype(np.float64), X_other.astype(np.float64)\n    mean = X_train.mean(axis=0)",
               "turns float32 inputs into float64 (only the hidden tests use float32)", hidden_only=True),
    PlantedBug(A, NB, "ch07_l2_penalty", 'for key, W in params.items() if key.startswith("W")',
               "for key, W in params.items()", "penalises the biases too"),
    PlantedBug(A, NB, "ch07_l2_grad", 'g + lam * params[key] if key.startswith("W") else g.copy()',
               "g + lam * params[key]", "decays the biases too"),
    PlantedBug(A, NB, "ch07_dropout_forward", "return X * mask / (1.0 - p)", "return X * mask",
               "forgot the 1 / (1 - p) scaling of inverted dropout"),
    PlantedBug(A, NB, "ch07_dropout_backward", "return dout * mask / (1.0 - p)", "return dout / (1.0 - p)",
               "lets the gradient through the dropped units"),
    PlantedBug(A, NB, "ch07_early_stopping", "elif epoch - best >= patience:", "elif epoch - best > patience:",
               "off by one: waits one epoch too many"),
    PlantedBug(A, NB, "ch07_early_stopping", "if loss < best_loss:", "if loss <= best_loss:",
               "counts a tie as an improvement (only the hidden tests have ties)", hidden_only=True),
]
