{{ (startup.displayName + " API.") | dump }}
