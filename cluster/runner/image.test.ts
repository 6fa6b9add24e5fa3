import { describe, expect, it } from 'vitest';
import { isProjectImage } from './image.ts';

describe('isProjectImage', () => {
  it.each(['startup-factory', 'startup-factory:dev', 'ghcr.io/acme/startup-factory:1.2.3',
    'localhost:5000/startup-factory', 'startup-factory@sha256:abc', 'registry:5000/x/startup-factory:v1@sha256:abc'])(
    'runs %s', (image) => expect(isProjectImage(image)).toBe(true));
  it.each(['nginx', 'busybox:1.36', 'startup-factory-web:1', 'acme/startup-factoryx', 'startup-factory/other', undefined])(
    'does not run %s', (image) => expect(isProjectImage(image)).toBe(false));
});
