"""Purchase-flow simulation: scenarios driven through the public API on the sandbox clock."""
