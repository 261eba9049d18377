"""File > Import Model and File > Export: the dialogs, the work each does off the window's thread, and the
status bar's busy indicator and the banner that report it."""
