"""torch: datasets as tensors, for training and for previews. Loaded only when data is needed."""
