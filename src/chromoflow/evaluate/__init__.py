"""Evaluation: prediction with trained models, metrics, summaries across runs, the report."""
