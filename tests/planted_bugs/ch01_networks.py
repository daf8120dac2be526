from . import PlantedBug

A, NB = "ch01_networks", "networks"

BUGS = [
    PlantedBug(A, NB, "ch01_sigmoid",
               "    e = np.exp(-np.abs(x))  # in (0, 1]: never overflows\n    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
               "    return 1.0 / (1.0 + np.exp(-x))",
               "the textbook formula, which overflows for x < -709"),
    PlantedBug(A, NB, "ch01_tanh", "return np.sign(x) * -np.expm1(-2.0 * np.abs(x)) / (1.0 + e)",
               "return -np.expm1(-2.0 * np.abs(x)) / (1.0 + e)", "forgot that tanh is odd: the sign is lost"),
    PlantedBug(A, NB, "ch01_relu", "return np.maximum(x, 0)", "x[x < 0] = 0\n    return x",
               "changes its input in place"),
    PlantedBug(A, NB, "ch01_dense_forward", "return X @ W.T + b", "return X @ W.T",
               "forgot the bias"),
    PlantedBug(A, NB, "ch01_init_params", "np.sqrt(2.0 / n_in) if", "np.sqrt(2.0 / n_out) if",
               "He initialisation with fan_out instead of fan_in"),
    PlantedBug(A, NB, "ch01_mlp_forward", "A = ACTIVATIONS[activation](Z) if layer < n_layers else Z",
               "A = ACTIVATIONS[activation](Z)", "an activation on the output layer too"),
    PlantedBug(A, NB, "ch01_mlp_forward", "ACTIVATIONS[activation](Z) if", "ACTIVATIONS['relu'](Z) if",
               "ignores the activation argument (the visible tests only use ReLU)", hidden_only=True),
    PlantedBug(A, NB, "ch01_count_params", "n_out * n_in + n_out", "n_out * n_in",
               "forgot the biases"),
]
