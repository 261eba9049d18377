"""The training room: the Training dock's panel (settings form, run controls, the starting weights' line), the
live plots, the Predict tab, and the worker that runs the engine in a background task."""
