import { describe, expect, it } from 'vitest';
import { compileParameterSchema, ParameterError, resolveParameters } from './parameters.ts';

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['projectId'],
  properties: {
    projectId: { type: 'string', pattern: '^[a-z][a-z0-9-]{4,28}[a-z0-9]$' },
    primaryColor: { type: 'string', pattern: '^#[0-9a-fA-F]{6}$', default: '#4f46e5' },
    auth: { type: 'string', enum: ['none', 'email', 'oauth'], default: 'email' },
    replicas: { type: 'integer', minimum: 1, maximum: 5, default: 1 },
    contact: { type: 'string', format: 'email' },
    firebase: {
      type: 'object',
      default: {},
      properties: { region: { type: 'string', default: 'europe-west1' }, measurementId: { type: 'string', pattern: '^G-' } },
    },
  },
};

describe('parameters', () => {
  it('applies defaults, nested ones included, without touching the input', () => {
    const values = { projectId: 'acme-pay' };
    expect(resolveParameters(schema, values)).toEqual({
      projectId: 'acme-pay', primaryColor: '#4f46e5', auth: 'email', replicas: 1, firebase: { region: 'europe-west1' },
    });
    expect(values).toEqual({ projectId: 'acme-pay' });
  });

  it.each([
    [{}, 'parameter "projectId" is required'],
    [{ projectId: 'acme-pay', replicas: 9 }, 'parameter "replicas" must be <= 5'],
    [{ projectId: 'acme-pay', replicas: '2' }, 'parameter "replicas" must be integer'],
    [{ projectId: 'acme-pay', auth: 'saml' }, 'parameter "auth" must be one of "none", "email", "oauth"'],
    [{ projectId: 'acme-pay', primaryColor: 'red' }, 'parameter "primaryColor" must match pattern'],
    [{ projectId: 'acme-pay', colour: '#fff' }, 'parameter "colour" is not a parameter of this template'],
    [{ projectId: 'acme-pay', contact: 'nope' }, 'parameter "contact" must match format "email"'],
    [{ projectId: 'acme-pay', firebase: { measurementId: 'X-1' } }, 'parameter "firebase.measurementId" must match pattern'],
  ])('names the parameter in the error for %j', (values, message) => {
    expect(() => resolveParameters(schema, values)).toThrow(ParameterError);
    expect(() => resolveParameters(schema, values)).toThrow(message);
  });

  it('reports every bad parameter at once', () => {
    expect(() => resolveParameters(schema, { replicas: 0, auth: 'x' })).toThrow(/"projectId".*"auth"|"replicas".*"auth"/);
  });

  it('refuses schemas that do not compile or do not describe an object', () => {
    expect(() => compileParameterSchema({ type: 'object', properties: { a: { type: 'strin' } } })).toThrow(/does not compile/);
    expect(() => compileParameterSchema({ type: 'array' })).toThrow(/type "object"/);
    expect(() => compileParameterSchema([])).toThrow(/JSON Schema object/);
  });

  it('compiles a schema once, and each different schema on its own', () => {
    const first = compileParameterSchema(structuredClone(schema));
    expect(compileParameterSchema(structuredClone(schema))).toBe(first);
    const other = compileParameterSchema({ type: 'object', properties: { replicas: { type: 'string' } } });
    expect(other).not.toBe(first);
    expect(resolveParameters({ type: 'object', properties: { replicas: { type: 'string' } } }, { replicas: 'three' })).toEqual({ replicas: 'three' });
    expect(() => compileParameterSchema({ type: 'object', properties: { a: { type: 'strin' } } })).toThrow(/does not compile/);
  });
});
