"""The per-document editor: the open project and its analysis (`Document`), the undoable edits (`commands`),
and `EditorController`, which owns the undo stack and makes every push (as orange-canvas-core's
SchemeEditWidget does); the window only hosts it."""
