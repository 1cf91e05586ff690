"""XML documents, one module per object type; `classic` holds the 2.2 shapes."""
