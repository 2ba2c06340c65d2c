"""Pure computation: no database, no web. Takes plain data, returns frozen results."""
