from . import PlantedBug

A, NB = "ch05_cnn_rnn", "rnn"

BUGS = [
    PlantedBug(A, NB, "ch05_rnn_cell_forward", "h_prev @ Wh.T + b", "h_prev @ Wh + b",
               "multiplies by Wh instead of Wh.T (Wh is stored (H_out, H_in) like weight_hh)"),
    PlantedBug(A, NB, "ch05_rnn_forward", "    h = h0\n", "    h = np.zeros_like(h0)\n",
               "starts every sequence from zeros instead of the given h0"),
    PlantedBug(A, NB, "ch05_rnn_forward", "hs = np.empty((N, T, Wh.shape[0]), dtype=x_proj.dtype)",
               "hs = np.zeros((N, T, Wh.shape[0]))",
               "allocates hs as float64 whatever the inputs' dtype (only the float32 hidden case sees it)",
               hidden_only=True),
    PlantedBug(A, NB, "ch05_rnn_cell_backward", "dz = dh_next * (1.0 - h_next ** 2)",
               "dz = dh_next * (1.0 - np.tanh(h_next) ** 2)",
               "applies tanh to h_next again in the derivative"),
    PlantedBug(A, NB, "ch05_rnn_backward", "dz[:, t] = (dhs[:, t] + dh) * (1.0 - hs[:, t] ** 2)",
               "dz[:, t] = dhs[:, t] * (1.0 - hs[:, t] ** 2)",
               "forgets the gradient flowing back from the next time step"),
    PlantedBug(A, NB, "ch05_rnn_backward", "dWh = dz_rows.T @ h_prev.reshape(N * T, H)",
               "dWh = dz_rows.T @ hs.reshape(N * T, H)",
               "pairs dz_t with h_t instead of h_{t-1} in dWh"),
    PlantedBug(A, NB, "ch05_clip_grad_norm",
               "    coef = min(1.0, max_norm / (total_norm + 1e-6))\n    return {name: g * coef for name, g in grads.items()}, total_norm",
               "    return {name: g * min(1.0, max_norm / (np.sqrt(np.sum(g ** 2)) + 1e-6)) for name, g in grads.items()}, total_norm",
               "clips each gradient by its own norm instead of the global norm"),
    PlantedBug(A, NB, "ch05_clip_grad_norm", "coef = min(1.0, max_norm / (total_norm + 1e-6))",
               "coef = max_norm / (total_norm + 1e-6) if total_norm > max_norm else 1.0",
               "scales only when total_norm > max_norm (PyTorch also scales at equality: only the hidden case has it)",
               hidden_only=True),
    PlantedBug(A, NB, "ch05_lstm_cell_forward", "z_i, z_f, z_g, z_o = np.split(z, 4, axis=1)",
               "z_i, z_f, z_o, z_g = np.split(z, 4, axis=1)",
               "gate order i, f, o, g instead of PyTorch's i, f, g, o"),
]
