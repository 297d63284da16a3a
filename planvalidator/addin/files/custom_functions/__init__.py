"""The add-in has no worksheet functions (xlwings-server imports this module by name)."""
