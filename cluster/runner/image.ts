/** The one image the local runner can run: the project's own CLI, whatever registry or tag. */
export const PROJECT_IMAGE = 'startup-factory';

export function isProjectImage(image: string | undefined): boolean {
  if (!image) return false;
  const withoutDigest = image.split('@')[0] ?? '';
  const lastSegment = withoutDigest.slice(withoutDigest.lastIndexOf('/') + 1);
  return lastSegment.split(':')[0] === PROJECT_IMAGE;
}
