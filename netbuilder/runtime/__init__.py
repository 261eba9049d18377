"""torch at run time: building the model from its generated source. Imported only when torch is needed."""
