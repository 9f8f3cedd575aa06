"""Stratus domain package: AutoGPT-compatible agent workflows on AWS serverless.

Deployed as a Lambda layer. Modules here never import a web framework except
`stratus.web`, which holds the FastAPI plumbing the HTTP functions share.
"""
