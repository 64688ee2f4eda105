"""Data preparation: gene TSSs, pCREs from contacts, signal tracks, and the per-sample dataset."""
