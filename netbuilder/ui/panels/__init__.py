"""The panels beside and below the canvas that read the document: the inspector, the problems list, and the
generated code."""
