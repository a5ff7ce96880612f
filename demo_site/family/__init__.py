"""Family tree: relations kept two-way by receivers, each with a guard that ends its recursion."""
