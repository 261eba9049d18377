"""Each dataset's loader as a real module: `load_data(seed)` under the Dataset node's settings.

A loader module is laid out in four parts, which `netbuilder.blocks.loader_text` reads as text (the pure core
may not import torch): a docstring; its imports; its settings, constants in capitals (the node's parameters
on one line, then the facts of a dataset that shares the loader, each on its own line); then the code.
train.py gets the code under a settings line holding the project's values, and the app runs that same text
(`netbuilder.data.loading`), so the two load identical tensors. The values written here are the defaults,
which make each module importable and testable as it stands.
"""
