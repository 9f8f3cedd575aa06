"""The execution engine: pure Python, no AWS import.

Graph state in, ready node executions out. The same code runs in the Step Functions loop
(the orchestrator), in the local cloud and in unit tests.
"""
