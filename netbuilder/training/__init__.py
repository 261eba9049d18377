"""Training: the engine that trains a project's generated model, with callbacks and a stop flag. No Qt."""
