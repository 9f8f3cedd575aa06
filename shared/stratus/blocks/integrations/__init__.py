"""Blocks that call outside services (AutoGPT's integration blocks), run by BlockIntegrationsFunction.

One module per service; each block has AutoGPT's id, pins, costs and behaviour, takes its
`credentials` run kwarg (stratus.blocks.credentials) and reaches its service at a
`ServiceEndpoint` (stratus.blocks.endpoints) through the egress-guarded HTTP client.
"""
