/** Pure helpers of the request layer: which Kubernetes verb an HTTP request is. */

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'apply' | 'delete' | 'deletecollection' | 'other';

/** Names the Kubernetes verb of a request from its method and URL, for metrics and logs. */
export function requestVerb(method: string, url: string, contentType?: string): Verb {
  const u = new URL(url, 'http://k8s.invalid');
  const m = method.toUpperCase();
  if (m === 'POST') return 'create';
  if (m === 'PUT') return 'update';
  if (m === 'PATCH') return contentType?.startsWith('application/apply-patch') ? 'apply' : 'patch';
  const collection = isCollection(u.pathname);
  if (m === 'DELETE') return collection ? 'deletecollection' : 'delete';
  if (m === 'GET') {
    if (u.searchParams.get('watch') === 'true' || u.searchParams.get('watch') === '1') return 'watch';
    return collection ? 'list' : 'get';
  }
  return 'other';
}

/** True for `/api/v1/pods`, `/apis/g/v/namespaces/ns/things`; false for one object or its subresource. */
function isCollection(path: string): boolean {
  const parts = path.split('/').filter(Boolean);
  let rest: string[];
  if (parts[0] === 'api') rest = parts.slice(2);
  else if (parts[0] === 'apis') rest = parts.slice(3);
  else return false;
  if (rest[0] === 'namespaces' && rest.length >= 3) rest = rest.slice(2);
  return rest.length === 1;
}

/**
 * Writes change cluster state; the no-write proof counts these. A dry run does not: the API
 * server admits and judges it and stores nothing, so it is a question, not a write.
 */
export function isMutating(method: string, url?: string): boolean {
  const m = method.toUpperCase();
  return m !== 'GET' && m !== 'HEAD' && m !== 'OPTIONS' && !(url !== undefined && isDryRun(url));
}

/** `?dryRun=All`, the only value the API server takes. */
export function isDryRun(url: string): boolean {
  return new URL(url, 'http://k8s.invalid').searchParams.has('dryRun');
}
