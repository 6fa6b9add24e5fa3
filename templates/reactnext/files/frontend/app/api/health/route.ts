/** Liveness and readiness of the frontend (the Deployment's probes call it). */
export function GET() {
  return Response.json({ status: 'ok', service: 'frontend' });
}
