import { defineException } from '@crm/errors';

export type CustomerImportExceptionReason = 'IMPORT_NOT_FOUND' | 'IMPORT_INVALID_INPUT' | 'IMPORT_FORBIDDEN' | 'IMPORT_NOT_UPLOADING';

export const CustomerImportException = defineException<CustomerImportExceptionReason>('CustomerImportException', {
  IMPORT_NOT_FOUND: 'NOT_FOUND',
  IMPORT_INVALID_INPUT: 'BAD_USER_INPUT',
  IMPORT_FORBIDDEN: 'FORBIDDEN',
  IMPORT_NOT_UPLOADING: 'CONFLICT',
});
