"""Reading chromoflow datasets into model-ready batches."""

from .dataset import GeneDataset

__all__ = ["GeneDataset"]
