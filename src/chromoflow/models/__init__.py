"""Models: Chromoformer (and its no-Hi-C ablation), AttentiveChrome, DeepChrome."""
