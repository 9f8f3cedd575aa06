"""The core block group: AutoGPT's basic blocks (I/O, data, text, logic, time, web, XML)."""
