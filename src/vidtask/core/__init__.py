"""Pure domain code: the task model, the status machine, errors and the status-mapping table."""
