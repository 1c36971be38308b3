import type { RequestContext } from '@crm/subgraph';
import type { AuditService } from './modules/audit/audit.service.js';
import type { UserAccountService } from './modules/user-account/user-account.service.js';

export interface AdminServices {
  accounts: UserAccountService;
  audit: AuditService;
}

export type AdminContext = RequestContext<AdminServices>;
