"""A small shop: the models and receivers the benchmarks' workloads run on."""
