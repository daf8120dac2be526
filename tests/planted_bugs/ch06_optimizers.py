from . import PlantedBug

A, NB = "ch06_optimizers", "optimizers"

BUGS = [
    PlantedBug(A, NB, "ch06_sgd", "g = g + weight_decay * p  # the L2 penalty's gradient, folded in first",
               "g = g", "forgot the weight decay"),
    PlantedBug(A, NB, "ch06_momentum_ema", "v = beta * state.get(\"v\", 0.0) + (1 - beta) * g",
               "v = beta * state.get(\"v\", 0.0) + g", "PyTorch's form v = beta v + g instead of the moving average"),
    PlantedBug(A, NB, "ch06_momentum", "buf = g if \"buf\" not in state else",
               "buf = (1 - dampening) * g if \"buf\" not in state else",
               "dampened the first step too (PyTorch starts the buffer at g itself)"),
    PlantedBug(A, NB, "ch06_nesterov", "return p - lr * (g + momentum * buf), {\"buf\": buf}",
               "return p - lr * buf, {\"buf\": buf}", "plain momentum instead of Nesterov's look-ahead"),
    PlantedBug(A, NB, "ch06_adagrad", "sum_sq = state.get(\"sum\", 0.0) + g * g", "sum_sq = g * g",
               "forgot to accumulate the squared gradients"),
    PlantedBug(A, NB, "ch06_adagrad", "(np.sqrt(sum_sq) + eps)", "np.sqrt(sum_sq + eps)",
               "eps inside the square root (only matters for tiny gradients)", hidden_only=True),
    PlantedBug(A, NB, "ch06_rmsprop", "square_avg = alpha * state.get(\"square_avg\", 0.0) + (1 - alpha) * g * g",
               "square_avg = (1 - alpha) * state.get(\"square_avg\", 0.0) + alpha * g * g",
               "the moving average's weights swapped"),
    PlantedBug(A, NB, "ch06_adam", "m_hat = m / (1 - beta1 ** t)", "m_hat = m",
               "no bias correction for the first moment", loses=("ch06_adam_test", "ch06_adamw_test")),
    PlantedBug(A, NB, "ch06_adamw", "decayed = p * (1 - lr * weight_decay)", "decayed = p * (1 - weight_decay)",
               "the decay factor without the learning rate"),
]
