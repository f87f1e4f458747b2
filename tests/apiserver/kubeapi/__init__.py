"""certsmith's test Kubernetes API server (see ../README.md)."""
