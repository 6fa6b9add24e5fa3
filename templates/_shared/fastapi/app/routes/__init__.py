"""The API's routers, one module per feature: app/main.py mounts the `router` of each."""
