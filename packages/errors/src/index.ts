import { GraphQLError } from 'graphql';

/** The only `extensions.code` values clients see for expected failures. */
export const GraphQLErrorCode = {
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
} as const;
export type GraphQLErrorCode = (typeof GraphQLErrorCode)[keyof typeof GraphQLErrorCode];

/** One invalid input field: a dotted path into the input (`input.email`) and what is wrong with it. */
export interface FieldProblem {
  field: string;
  message: string;
}

/**
 * Base of every module's exception. `reason` is the module's own code (e.g. `CUSTOMER_NOT_FOUND`);
 * `code` is the GraphQL code it maps to. Modules do not subclass this directly: they call
 * {@link defineException} with an exhaustive map, so adding a reason without a mapping fails to compile.
 */
export class DomainException<R extends string = string> extends Error {
  readonly reason: R;
  readonly code: GraphQLErrorCode;
  readonly fields: FieldProblem[];

  constructor(reason: R, code: GraphQLErrorCode, message: string, fields: FieldProblem[] = []) {
    super(message);
    this.name = 'DomainException';
    this.reason = reason;
    this.code = code;
    this.fields = fields;
  }
}

export type ExceptionClass<R extends string> = new (reason: R, message: string, fields?: FieldProblem[]) => DomainException<R>;

/** Creates a module's exception type from its exhaustive reason → GraphQL code mapping. */
export function defineException<R extends string>(name: string, mapping: Record<R, GraphQLErrorCode>): ExceptionClass<R> {
  const Exception = class extends DomainException<R> {
    constructor(reason: R, message: string, fields: FieldProblem[] = []) {
      super(reason, mapping[reason], message, fields);
      this.name = name;
    }
  };
  Object.defineProperty(Exception, 'name', { value: name });
  return Exception;
}

/** The one mapping from a domain exception to what a GraphQL client receives. */
export function toGraphQLError(error: DomainException): GraphQLError {
  return new GraphQLError(error.message, {
    extensions: {
      code: error.code,
      reason: error.reason,
      ...(error.fields.length > 0 ? { fields: error.fields } : {}),
    },
  });
}

/** Errors raised outside any module (authentication, the gateway secret, generic input checks). */
export const PlatformException = defineException<
  'MISSING_TOKEN' | 'INVALID_TOKEN' | 'MISSING_ROLE' | 'INVALID_INPUT' | 'NOT_FOUND'
>('PlatformException', {
  MISSING_TOKEN: 'UNAUTHENTICATED',
  INVALID_TOKEN: 'UNAUTHENTICATED',
  MISSING_ROLE: 'FORBIDDEN',
  INVALID_INPUT: 'BAD_USER_INPUT',
  NOT_FOUND: 'NOT_FOUND',
});

/** Converts schema-validation issues (zod or similar: a path and a message) into field problems. */
export function fieldProblems(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>, prefix = 'input'): FieldProblem[] {
  return issues.map((issue) => ({
    field: [prefix, ...issue.path.map(String)].filter(Boolean).join('.'),
    message: issue.message,
  }));
}
