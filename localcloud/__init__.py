"""The docker-free local cloud: dev tooling, never deployed.

moto (in-process server, real ASL interpreter) stands in for AWS; provisioning reads the
real template.yaml; Lambda invocations run the handlers in-process; HTTP and WebSocket
gateways turn requests into API Gateway events.
"""
