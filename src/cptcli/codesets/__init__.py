"""Official code sets that the knowledge base and users' claim lines are checked against.

Each adapter is imported only by the commands that need it: `show`, `search`
and `list` never touch them.
"""
