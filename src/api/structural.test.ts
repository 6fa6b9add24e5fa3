import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { withRules } from './cel.ts';
import { openApiSchema } from './crds.ts';
import { toStructuralSchema } from './structural.ts';

describe('toStructuralSchema', () => {
  it('drops the JSON Schema keywords a CRD refuses', () => {
    const out = toStructuralSchema({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      additionalProperties: false,
      properties: { a: { type: 'string', $comment: 'x', contentEncoding: 'base64' } },
    });
    expect(out).toEqual({ type: 'object', properties: { a: { type: 'string' } } });
  });

  it('marks free-form objects to keep unknown fields', () => {
    expect(toStructuralSchema({ type: 'object', additionalProperties: {} }))
      .toEqual({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
    expect(toStructuralSchema({ type: 'object', additionalProperties: true }))
      .toEqual({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
  });

  it('keeps typed maps as additionalProperties', () => {
    expect(toStructuralSchema({ type: 'object', additionalProperties: { type: 'integer', maximum: Number.MAX_SAFE_INTEGER } }))
      .toEqual({ type: 'object', additionalProperties: { type: 'integer' } });
  });

  it('writes int-or-string in the one shape the API server recognises, the string\'s bounds beside it', () => {
    const out = toStructuralSchema({
      description: 'q', default: '1', 'x-kubernetes-int-or-string': true,
      anyOf: [{ type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER }, { type: 'string', maxLength: 3 }],
    });
    expect(out).toEqual({
      description: 'q', default: '1', maxLength: 3, anyOf: [{ type: 'integer' }, { type: 'string' }], 'x-kubernetes-int-or-string': true,
    });
  });

  it('drops unknown formats and the JavaScript regex zod pairs with date-time', () => {
    expect(toStructuralSchema({ type: 'string', format: 'date-time', pattern: '^(?:\\d{4})$' })).toEqual({ type: 'string', format: 'date-time' });
    expect(toStructuralSchema({ type: 'string', format: 'cuid2' })).toEqual({ type: 'string' });
  });

  it('refuses what cannot be structural', () => {
    expect(() => toStructuralSchema({ $ref: '#/$defs/x' })).toThrow(/\$ref/);
    expect(() => toStructuralSchema({ type: 'object', properties: { u: { anyOf: [{ type: 'string' }, { type: 'number' }] } } }))
      .toThrow(/<root>\.u: anyOf is not structural/);
    expect(() => toStructuralSchema({ type: 'object', properties: { a: { description: 'untyped' } } }))
      .toThrow(/<root>\.a: every node of a structural schema needs a type/);
  });

  it('recurses into properties and items, putting description and type first', () => {
    const out = toStructuralSchema({
      type: 'array',
      items: { properties: { b: { maxLength: 2, type: 'string', description: 'B' } }, type: 'object', additionalProperties: false },
    });
    expect(out).toEqual({ type: 'array', items: { type: 'object', properties: { b: { description: 'B', type: 'string', maxLength: 2 } } } });
    expect(Object.keys((out.items as { properties: { b: object } }).properties.b)).toEqual(['description', 'type', 'maxLength']);
  });
});

describe('openApiSchema (zod to CRD schema)', () => {
  const schema = z.strictObject({
    name: z.string().max(10).describe('the name'),
    size: z.int().min(1).default(3).describe('how many'),
    tags: z.array(z.string().max(5)).max(4).meta({ 'x-kubernetes-list-type': 'set' }).optional(),
    extra: z.record(z.string(), z.unknown()).optional(),
    when: z.iso.datetime().optional(),
  });

  it('keeps descriptions, defaults, bounds and list types, and makes defaulted fields optional', () => {
    const out = openApiSchema(schema);
    expect(out).toMatchObject({
      type: 'object',
      required: ['name'],
      properties: {
        name: { description: 'the name', type: 'string', maxLength: 10 },
        size: { description: 'how many', type: 'integer', default: 3, minimum: 1 },
        tags: { type: 'array', maxItems: 4, 'x-kubernetes-list-type': 'set', items: { type: 'string', maxLength: 5 } },
        extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        when: { type: 'string', format: 'date-time' },
      },
    });
    expect(out).not.toHaveProperty('additionalProperties');
    expect(out).not.toHaveProperty('$schema');
  });

  it('carries CEL rules from zod metadata, accumulating across calls', () => {
    const once = withRules(z.string().max(4), [{ rule: 'self != "a"', message: 'not a' }]);
    const twice = withRules(once, [{ rule: 'self != "b"', message: 'not b', reason: 'FieldValueInvalid', check: (v) => v !== 'b' }]);
    expect(openApiSchema(twice)['x-kubernetes-validations']).toEqual([
      { rule: 'self != "a"', message: 'not a' },
      { rule: 'self != "b"', message: 'not b', reason: 'FieldValueInvalid' },
    ]);
    expect(twice.safeParse('b').error?.issues[0]?.message).toBe('not b');
    expect(twice.safeParse('a').success).toBe(true);
  });
});
