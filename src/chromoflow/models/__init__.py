"""Models: Chromoformer (and its no-Hi-C ablation), AttentiveChrome, DeepChrome.

Names live here, free of torch, so the CLI can list them without importing it.
"""

MODEL_NAMES = ("chromoformer", "chromoformer-nohic", "attentivechrome", "deepchrome")
TASKS = ("classification", "regression", "fold-change")
