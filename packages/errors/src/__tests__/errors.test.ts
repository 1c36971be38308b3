import { describe, expect, it } from 'vitest';
import { DomainException, defineException, fieldProblems, PlatformException, toGraphQLError } from '../index.js';

const WidgetException = defineException<'WIDGET_NOT_FOUND' | 'WIDGET_TAKEN'>('WidgetException', {
  WIDGET_NOT_FOUND: 'NOT_FOUND',
  WIDGET_TAKEN: 'CONFLICT',
});

describe('module exceptions', () => {
  it('carry the module reason and the mapped GraphQL code', () => {
    const error = new WidgetException('WIDGET_TAKEN', 'Widget name already used');
    expect(error).toBeInstanceOf(DomainException);
    expect(error.name).toBe('WidgetException');
    expect(error.code).toBe('CONFLICT');
    expect(error.reason).toBe('WIDGET_TAKEN');
  });

  it('become a GraphQL error with extensions.code and field details', () => {
    const error = new PlatformException('INVALID_INPUT', 'Invalid input', [{ field: 'input.email', message: 'Invalid email' }]);
    const graphQLError = toGraphQLError(error);
    expect(graphQLError.message).toBe('Invalid input');
    expect(graphQLError.extensions).toEqual({
      code: 'BAD_USER_INPUT',
      reason: 'INVALID_INPUT',
      fields: [{ field: 'input.email', message: 'Invalid email' }],
    });
  });

  it('omit fields when there are none', () => {
    expect(toGraphQLError(new WidgetException('WIDGET_NOT_FOUND', 'No widget')).extensions).toEqual({
      code: 'NOT_FOUND',
      reason: 'WIDGET_NOT_FOUND',
    });
  });
});

describe('fieldProblems', () => {
  it('turns issue paths into dotted field names under the input', () => {
    expect(fieldProblems([{ path: ['address', 'city'], message: 'Required' }, { path: [], message: 'Bad' }])).toEqual([
      { field: 'input.address.city', message: 'Required' },
      { field: 'input', message: 'Bad' },
    ]);
  });
});
