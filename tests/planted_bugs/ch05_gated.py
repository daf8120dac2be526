from . import PlantedBug

A, NB = "ch05_cnn_rnn", "gated"
# The LSTM backward's test also chains the learner's forward over a sequence: a forward bug loses both.
LSTM_BOTH = ("ch05_gated_lstm_forward_test", "ch05_gated_lstm_backward_test")

BUGS = [
    PlantedBug(
        A,
        NB,
        "ch05_gated_lstm_forward",
        "z_i, z_f, z_g, z_o = np.split(z, 4, axis=1)",
        "z_i, z_f, z_o, z_g = np.split(z, 4, axis=1)",
        "reads the gate blocks in the order i, f, o, g instead of PyTorch's i, f, g, o",
        loses=LSTM_BOTH,
    ),
    PlantedBug(
        A,
        NB,
        "ch05_gated_lstm_forward",
        "z = x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh",
        "z = x @ W_ih.T + b_ih + h_prev @ W_hh.T",
        "forgets the second bias b_hh",
        loses=LSTM_BOTH,
    ),
    PlantedBug(
        A,
        NB,
        "ch05_gated_lstm_backward",
        "dc = dc_next + dh_next * o * (1 - tanh_c ** 2)",
        "dc = dc_next",
        "forgets that c_next also reaches the loss through h_next",
    ),
    PlantedBug(
        A,
        NB,
        "ch05_gated_lstm_backward",
        "return dz @ W_ih, dz @ W_hh, dc * f, dz.T @ x, dz.T @ h_prev, db, db.copy()",
        "return dz @ W_ih, dz @ W_hh, dc * f, dz.T @ x, dz.T @ h_prev, db, np.zeros_like(db)",
        "returns a zero gradient for the redundant bias b_hh",
    ),
    PlantedBug(
        A,
        NB,
        "ch05_gated_lstm_backward",
        "dc * c_prev * f * (1 - f),",
        "dc * (f * c_prev + i * g) * f * (1 - f),",
        "pairs the forget gate's gradient with c_next instead of c_prev",
    ),
    PlantedBug(
        A,
        NB,
        "ch05_gated_gru_forward",
        "n = np.tanh(x_n + r * h_n)",
        "n = np.tanh(x_n + (r * h_prev) @ np.split(W_hh, 3)[2].T + np.split(b_hh, 3)[2])",
        "applies the reset gate to h_prev before the product (the paper's GRU, not PyTorch's)",
    ),
    PlantedBug(
        A,
        NB,
        "ch05_gated_gru_forward",
        "return (1 - z) * n + z * h_prev",
        "return z * n + (1 - z) * h_prev",
        "swaps z and 1 - z in the state update",
    ),
    PlantedBug(
        A,
        NB,
        "ch05_gated_tbptt",
        "h_start = h0 if start == 0 else hs[:, start - 1]",
        "h_start = h0",
        "starts every chunk's backward pass from h0 instead of the state the chunk started from",
    ),
    PlantedBug(
        A,
        NB,
        "ch05_gated_tbptt",
        "        if start == 0:\n            dh0 = dh_start",
        "        dh0 = dh_start",
        "takes dh0 from the last chunk instead of the first",
    ),
    PlantedBug(
        A,
        NB,
        "ch05_gated_tbptt",
        "dWx, dWh, db = dWx + dWx_c, dWh + dWh_c, db + db_c",
        "dWx, dWh, db = dWx_c, dWh_c, db_c",
        "keeps only the last chunk's weight gradients instead of summing over the chunks",
    ),
]
