"""Model shapes the collector can build (random weights: the timings, not the text, matter)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelConfig:
    name: str
    vocab: int
    dim: int            # hidden size
    layers: int
    heads: int          # query heads
    kv_heads: int       # key/value heads (grouped-query attention: heads % kv_heads == 0)
    ffn: int            # SwiGLU inner size
    rope_theta: float
    norm_eps: float = 1e-5

    @property
    def head_dim(self) -> int:
        return self.dim // self.heads

    def parameters(self) -> int:
        """Parameter count (untied embedding and output head, as Llama 3)."""
        attn = self.dim * (self.heads + 2 * self.kv_heads) * self.head_dim + self.heads * self.head_dim * self.dim
        mlp = 3 * self.dim * self.ffn
        per_layer = attn + mlp + 2 * self.dim
        return self.layers * per_layer + 2 * self.vocab * self.dim + self.dim

    def kv_bytes_per_token(self, element_bytes: int) -> int:
        return self.layers * self.kv_heads * self.head_dim * 2 * element_bytes

    def describe(self) -> str:
        return (f"{self.name}: {self.layers} layers, dim {self.dim}, {self.heads} heads / {self.kv_heads} kv heads "
                f"(head_dim {self.head_dim}), ffn {self.ffn}, vocab {self.vocab}, rope theta {self.rope_theta:g}, "
                f"{self.parameters():,} parameters")


CONFIGS = {
    # Unit tests: a few milliseconds a forward pass.
    "tiny": ModelConfig("tiny", vocab=256, dim=64, layers=2, heads=4, kv_heads=2, ffn=176, rope_theta=10000.0),
    # CPU runs: a budget of 512 tokens takes tens of milliseconds on one core.
    "small": ModelConfig("small", vocab=4096, dim=256, layers=4, heads=8, kv_heads=2, ffn=704, rope_theta=10000.0),
    # The shape of Meta-Llama-3-8B (config.json of meta-llama/Meta-Llama-3-8B), for GPU runs.
    "llama3-8b": ModelConfig("llama3-8b", vocab=128256, dim=4096, layers=32, heads=32, kv_heads=8, ffn=14336,
                             rope_theta=500000.0),
}


def model_config(name: str) -> ModelConfig:
    try:
        return CONFIGS[name]
    except KeyError:
        raise ValueError(f"unknown model '{name}' (known: {', '.join(CONFIGS)})") from None
