import type { KubeObject } from '../kube/client.ts';
import { startupNamespace } from '../api/index.ts';
import { childMetadata, type StartupRef } from './metadata.ts';
import type { ServicePort } from './services.ts';

export const DATABASE_SECRET = 'database';
const DATABASE_SERVICE = 'db';
const POSTGRES_PORT = 5432;

/** A PostgreSQL identifier from the startup's name: lowercase, underscores, starting with a letter. */
export function databaseName(startupName: string): string {
  const name = startupName.replace(/-/g, '_');
  return /^[a-z]/.test(name) ? name : `db_${name}`;
}

/**
 * The startup's database credentials. The password comes from the caller (a CSPRNG at
 * the edge) so this stays pure; the Secret is created once and never re-applied, so a
 * later reconcile can never rotate a password the startup's database already uses.
 */
export function desiredDatabaseSecret(startup: StartupRef, services: readonly ServicePort[], password: string): KubeObject {
  const namespace = startupNamespace(startup.name);
  const database = databaseName(startup.name);
  const port = services.find((s) => s.name === DATABASE_SERVICE)?.port ?? POSTGRES_PORT;
  const host = `${DATABASE_SERVICE}.${namespace}.svc`;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: childMetadata(startup, DATABASE_SECRET, namespace),
    type: 'Opaque',
    stringData: {
      database,
      username: database,
      password,
      host,
      port: String(port),
      url: `postgresql://${database}:${encodeURIComponent(password)}@${host}:${port}/${database}`,
    },
  };
}
