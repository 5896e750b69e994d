"""The Mesa reference: the same rules as idiomatic Mesa agents, the readable oracle the
numba kernels are tested against (bit for bit) and the benchmark's baseline."""
