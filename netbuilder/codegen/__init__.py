"""Graph -> Python source: the model module, the training script, the exported package. Pure Python."""
