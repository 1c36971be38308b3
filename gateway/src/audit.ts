/**
 * The audit trail's source (SYS-4): every mutation, and every query that selects a sensitive field,
 * becomes an `audit.recorded` event (who, what, when, from where, result; field names, never values),
 * published to Kafka and stored by the admin service. The gateway is the one place every operation
 * passes, so no subgraph can forget it.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { Kind, TypeInfo, visit, visitWithTypeInfo, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { auditRecordedEvent, type AuditRecordedData, type CloudEvent } from '@crm/events';
import type { Logger } from '@crm/logger';

/** Fields holding personal data (CUS-7, SYS-6) whose reads are audited, as `Type.field`. */
export const SENSITIVE_FIELDS: readonly string[] = [
  'Customer.birthday',
  'Customer.email',
  'Customer.phones',
  'Customer.identityDocument',
  'Customer.address',
  'IdentityDocument.number',
  'UserAccount.email',
  'AuditEntry.clientAddress',
];

export interface AuditCaller {
  user: { id: string; username: string; roles: string[] };
  requestId: string;
  clientAddress: string | null;
  userAgent: string | null;
}

/** Root fields and the sensitive fields an operation selects (fragments included). */
export function auditedFields(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, sensitive: ReadonlySet<string>) {
  const rootFields = new Set<string>();
  const sensitiveFields = new Set<string>();
  const rootType = schema.getRootType(operation.operation);
  const typeInfo = new TypeInfo(schema);
  // Only the chosen operation and the fragments of the document (the other operations do not run).
  const chosen = { ...document, definitions: document.definitions.filter((d) => d === operation || d.kind === Kind.FRAGMENT_DEFINITION) };
  visit(
    chosen,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const parent = typeInfo.getParentType();
        if (!parent || node.name.value.startsWith('__')) return;
        if (parent === rootType) rootFields.add(node.name.value);
        const coordinate = `${parent.name}.${node.name.value}`;
        if (sensitive.has(coordinate)) sensitiveFields.add(coordinate);
      },
    }),
  );
  return { rootFields: [...rootFields].sort(), sensitiveFields: [...sensitiveFields].sort() };
}

export function auditPlugin<TContext extends AuditCaller>(options: {
  publish: (event: CloudEvent<AuditRecordedData>) => Promise<void>;
  logger: Logger;
  sensitiveFields?: readonly string[];
}): ApolloServerPlugin<TContext> {
  const sensitive = new Set(options.sensitiveFields ?? SENSITIVE_FIELDS);
  return {
    async requestDidStart() {
      let fields: { rootFields: string[]; sensitiveFields: string[] } | undefined;
      let operationType: AuditRecordedData['operationType'] = 'QUERY';
      return {
        async didResolveOperation({ schema, document, operation }) {
          if (!operation) return;
          operationType = operation.operation.toUpperCase() as AuditRecordedData['operationType'];
          fields = auditedFields(schema, document, operation, sensitive);
        },
        async willSendResponse({ contextValue, response, operationName }) {
          // Operations that never validated did nothing and read nothing.
          if (!fields || (operationType !== 'MUTATION' && fields.sensitiveFields.length === 0)) return;
          const errors = response.body.kind === 'single' ? (response.body.singleResult.errors ?? []) : [];
          const errorCodes = [...new Set(errors.map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR')))].sort();
          const event = auditRecordedEvent({
            actorId: contextValue.user.id,
            actorName: contextValue.user.username,
            actorRoles: [...contextValue.user.roles].sort(),
            operationType,
            operationName: operationName ?? null,
            rootFields: fields.rootFields,
            sensitiveFields: fields.sensitiveFields,
            result: errors.length > 0 ? 'ERROR' : 'OK',
            errorCodes,
            clientAddress: contextValue.clientAddress,
            userAgent: contextValue.userAgent?.slice(0, 300) ?? null,
            requestId: contextValue.requestId,
          });
          try {
            await options.publish(event);
          } catch (error) {
            // The answer is already decided; a lost entry is an operations alarm, not the caller's error.
            options.logger.error({ err: error, auditEvent: event }, 'audit event not published');
          }
        },
      };
    },
  };
}
