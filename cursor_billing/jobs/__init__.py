"""The library behind the commands: each job takes typed inputs and an injected clock, returns a
result object and prints nothing, so a Python user can call it without Typer."""
