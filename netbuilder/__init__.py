"""netbuilder: draw neural networks, see every tensor shape as you draw, export clean PyTorch, train live."""

__version__ = "0.1.0"
