"""The canvas: the scene that mirrors the graph's events, its node and edge items, the view that pans and
zooms, the palette and the Tab popup that add blocks, and the diagram drawn from the same items."""
