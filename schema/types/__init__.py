"""The object types of the graph, one module each."""
