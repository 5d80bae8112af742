"""High-level APIs used by the tools."""
