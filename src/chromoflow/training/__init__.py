"""Training, prediction and metrics."""
