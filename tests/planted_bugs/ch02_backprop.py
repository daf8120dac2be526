from . import PlantedBug

A, BP, AD = "ch02_backprop", "backprop", "autodiff"

BUGS = [
    # backprop.ipynb
    PlantedBug(A, BP, "ch02_sigmoid_backward", "return dA * s * (1.0 - s)", "return s * (1.0 - s)",
               "forgot the upstream gradient dA (the chain rule)"),
    PlantedBug(A, BP, "ch02_sigmoid_backward", "s = sigmoid(Z)", "s = 1.0 / (1.0 + np.exp(-Z))",
               "the textbook sigmoid inline, which overflows for Z < -709 (only the hidden tests go there)",
               hidden_only=True),
    PlantedBug(A, BP, "ch02_tanh_backward", "tanh(Z) ** 2", "Z ** 2",
               "1 - Z**2 instead of 1 - tanh(Z)**2"),
    PlantedBug(A, BP, "ch02_relu_backward", "(Z > 0)", "(Z >= 0)",
               "passes the gradient at Z = 0, where PyTorch passes none"),
    PlantedBug(A, BP, "ch02_dense_backward", "db = dY.sum(axis=0)", "db = dY.mean(axis=0)",
               "the mean over the batch for db instead of the sum"),
    PlantedBug(A, BP, "ch02_dense_backward", "dW = dY.T @ X", "dW = X.T @ dY",
               "dW transposed: (n_in, n_out) instead of W's shape"),
    PlantedBug(A, BP, "ch02_mlp_backward", "dZ = ACTIVATION_BACKWARDS[activation](dA_prev, Z_below)", "dZ = dA_prev",
               "forgot the activation's derivative between layers"),
    PlantedBug(A, BP, "ch02_mlp_backward", "ACTIVATION_BACKWARDS[activation](dA_prev, Z_below)",
               "relu_backward(dA_prev, Z_below)",
               "always ReLU's backward, whatever the activation (the visible tests only use ReLU)", hidden_only=True),
    PlantedBug(A, BP, "ch02_numerical_gradient", "/ (2.0 * eps)", "/ eps",
               "divided the centred difference by eps instead of 2 eps"),
    PlantedBug(A, BP, "ch02_numerical_gradient", "        x[index] = original\n", "",
               "never puts x[index] back: x is left changed"),
    PlantedBug(A, BP, "ch02_relative_error", "np.max(", "np.mean(",
               "the mean of the entry-wise errors instead of the largest"),
    # autodiff.ipynb
    PlantedBug(A, AD, "ch02_value_add", "self.grad += out.grad", "self.grad = out.grad",
               "= instead of +=: a Value used twice keeps only one of its gradients"),
    PlantedBug(A, AD, "ch02_value_mul", "self.grad += other.data * out.grad", "self.grad += self.data * out.grad",
               "a factor's gradient from itself instead of the other factor"),
    PlantedBug(A, AD, "ch02_value_pow", "k * self.data ** (k - 1) * out.grad", "self.data ** (k - 1) * out.grad",
               "forgot the factor k of the power rule"),
    PlantedBug(A, AD, "ch02_value_tanh", "(1.0 - t * t)", "(1.0 - self.data * self.data)",
               "1 - x**2 instead of 1 - tanh(x)**2"),
    PlantedBug(A, AD, "ch02_value_relu", "(self.data > 0)", "(self.data >= 0)",
               "passes the gradient at exactly 0 (only the hidden tests try 0)", hidden_only=True),
    PlantedBug(A, AD, "ch02_value_relu", "(self.data > 0) * out.grad", "(self.data > 0)",
               "forgot to multiply by out.grad"),
    PlantedBug(A, AD, "ch02_value_backward",
               "    order, visited = [], set()\n\n    def visit(node):\n        if node not in visited:\n"
               "            visited.add(node)\n            for parent in node.parents:\n                visit(parent)\n"
               "            order.append(node)\n\n    visit(self)\n    self.grad = 1.0\n"
               "    for node in reversed(order):\n        node.local_backward()",
               "    self.grad = 1.0\n\n    def visit(node):\n        node.local_backward()\n"
               "        for parent in node.parents:\n            visit(parent)\n\n    visit(self)",
               "recursion without a topological order: a shared node passes on an incomplete gradient, twice"),
    PlantedBug(A, AD, "ch02_value_backward", "    self.grad = 1.0\n", "",
               "forgot to seed the root's gradient with 1"),
]
