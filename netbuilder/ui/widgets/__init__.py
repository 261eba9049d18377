"""Small widgets and helpers shared by every room of the window: one copy of each."""
