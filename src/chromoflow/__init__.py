"""chromoflow: gene expression from histone marks and 3D chromatin contacts.

The package is organised by stage:

- :mod:`chromoflow.prep`: data preparation (genes, pCREs, tracks, the HDF5 dataset, simulation);
- :mod:`chromoflow.data`: reading datasets into batched tensors;
- :mod:`chromoflow.models`: Chromoformer, AttentiveChrome, DeepChrome;
- :mod:`chromoflow.training`: training, prediction and metrics;
- :mod:`chromoflow.cli`: the ``chromoflow`` command, a thin layer over the above.
"""

__version__ = "0.1.0"
