"""Live progress over the WebSocket API: connections, AutoGPT's message envelope, delivery."""
