"""batchproof's real-run collector: a small Llama-shaped inference engine on PyTorch that runs
the paper's stylised policies over real forward passes and writes batchproof traces."""
