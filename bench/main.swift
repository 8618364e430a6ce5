// Benchmarks (not tests). Subcommands are added per layer.
print("cloudmin-bench: no benchmarks yet")
