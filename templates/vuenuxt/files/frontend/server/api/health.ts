/** Liveness and readiness of the frontend (the Deployment's probes call it). */
export default defineEventHandler(() => ({ status: 'ok', service: 'frontend' }));
