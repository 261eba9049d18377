"""The window shell: starting the application, the main window with its docks, menus and toolbar, the start
page, opening and saving files, and the import and export orchestration."""
