import type { Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import ExcelJS from 'exceljs';
import type { AuthUser } from '@crm/auth';
import { guardFormula, TABLE_FORMATS, xmlEscape, type TableFormat } from '@crm/tabular';
import type { CustomerRecord } from '../customer/customer.model.js';
import type { CustomerService } from '../customer/customer.service.js';
import { IGNORED_COLUMNS, IMPORT_COLUMNS, type ImportColumn } from '../customer-import/customer-import.parse.js';

export { CONTENT_TYPES } from '@crm/tabular';
export const EXPORT_FORMATS = TABLE_FORMATS;
export type ExportFormat = TableFormat;

/**
 * Columns of a CSV or XLSX export: the import's column names (so an export imports again; `id`,
 * `owner_id`, `department`, `created_at` and `updated_at` are ignored by an import).
 */
export type ExportColumn = Exclude<ImportColumn, 'phone'> | (typeof IGNORED_COLUMNS)[number];
// Derived from the import's lists, so what an export writes is what an import reads. `phones` holds
// every number, so the import's single `phone` column is not written.
export const EXPORT_COLUMNS: readonly ExportColumn[] = [
  'id',
  ...IMPORT_COLUMNS.filter((column): column is Exclude<ImportColumn, 'phone'> => column !== 'phone'),
  ...IGNORED_COLUMNS.filter((column) => column !== 'id'),
];
export type ExportRow = Record<ExportColumn, string>;

/** One customer as the caller may see it: the identity number only in clear for admins and sales managers. */
export function exportRowOf(customer: CustomerRecord, identity: ReturnType<CustomerService['identityOf']>): ExportRow {
  return {
    id: customer._id.toHexString(),
    name: customer.name,
    email: customer.email ?? '',
    phones: (customer.phones ?? []).map((p) => p.number).join(';'),
    gender: customer.gender ?? '',
    birthday: customer.birthday ?? '',
    organization: customer.organization ?? '',
    source: customer.source ?? '',
    tags: (customer.tags ?? []).join(';'),
    level: customer.level ?? '',
    lifecycle_stage: customer.lifecycleStage,
    country: customer.address?.country ?? '',
    province: customer.address?.province ?? '',
    city: customer.address?.city ?? '',
    street: customer.address?.street ?? '',
    postal_code: customer.address?.postalCode ?? '',
    id_type: identity?.type ?? '',
    id_number: identity?.number ?? '',
    notes: customer.notes ?? '',
    owner_id: customer.ownerId,
    department: customer.department ?? '',
    created_at: customer.createdAt.toISOString(),
    updated_at: customer.updatedAt.toISOString(),
  };
}

function xmlCustomer(customer: CustomerRecord, identity: ReturnType<CustomerService['identityOf']>): string {
  const el = (name: string, value: string | null | undefined, indent = '    ') => (value ? `${indent}<${name}>${xmlEscape(value)}</${name}>\n` : '');
  let xml = `  <customer id="${customer._id.toHexString()}">\n`;
  xml += el('name', customer.name);
  xml += el('gender', customer.gender);
  xml += el('birthday', customer.birthday);
  xml += el('email', customer.email);
  if (customer.phones?.length) {
    xml += '    <phones>\n';
    for (const phone of customer.phones) xml += `      <phone kind="${xmlEscape(phone.kind)}">${xmlEscape(phone.number)}</phone>\n`;
    xml += '    </phones>\n';
  }
  if (identity) xml += `    <identityDocument type="${xmlEscape(identity.type)}" masked="${identity.masked}">${xmlEscape(identity.number)}</identityDocument>\n`;
  const address = customer.address;
  if (address && Object.values(address).some(Boolean)) {
    xml += '    <address>\n';
    for (const key of ['country', 'province', 'city', 'street', 'postalCode'] as const) xml += el(key, address[key], '      ');
    xml += '    </address>\n';
  }
  xml += el('organization', customer.organization);
  xml += el('source', customer.source);
  if (customer.tags?.length) xml += `    <tags>${customer.tags.map((tag) => `<tag>${xmlEscape(tag)}</tag>`).join('')}</tags>\n`;
  xml += el('level', customer.level);
  xml += el('lifecycleStage', customer.lifecycleStage);
  xml += el('notes', customer.notes);
  xml += el('ownerId', customer.ownerId);
  xml += el('department', customer.department);
  xml += el('createdAt', customer.createdAt.toISOString());
  xml += el('updatedAt', customer.updatedAt.toISOString());
  return `${xml}  </customer>\n`;
}

/** Writes customers to a byte stream in one format, a row at a time; `end` finishes the file. */
export interface ExportWriter {
  write(customer: CustomerRecord): void;
  end(): Promise<void>;
}

export function exportWriter(format: ExportFormat, out: Writable, customers: CustomerService, user: AuthUser): ExportWriter {
  const identityOf = (customer: CustomerRecord) => customers.identityOf(customer, user);
  if (format === 'csv') {
    // BOM: spreadsheet programs then read the file as UTF-8 (Chinese names); an import skips it.
    const csv = stringify({ header: true, columns: [...EXPORT_COLUMNS], bom: true, cast: { string: guardFormula } });
    const done = pipeline(csv, out);
    done.catch(() => undefined);
    return {
      write: (customer) => {
        csv.write(exportRowOf(customer, identityOf(customer)));
      },
      end: async () => {
        csv.end();
        await done;
      },
    };
  }
  if (format === 'xlsx') {
    const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: false, useSharedStrings: false });
    const sheet = workbook.addWorksheet('Customers');
    sheet.columns = EXPORT_COLUMNS.map((key) => ({ header: key, key }));
    return {
      write: (customer) => {
        sheet.addRow(exportRowOf(customer, identityOf(customer))).commit();
      },
      end: async () => {
        sheet.commit();
        await workbook.commit();
        await finished(out);
      },
    };
  }
  out.write(`<?xml version="1.0" encoding="UTF-8"?>\n<customers exportedAt="${new Date().toISOString()}">\n`);
  return {
    write: (customer) => {
      out.write(xmlCustomer(customer, identityOf(customer)));
    },
    end: async () => {
      out.end('</customers>\n');
      await finished(out);
    },
  };
}
