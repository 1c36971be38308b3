import { loadEnv } from '@crm/env';
import { startCustomers } from './app.js';
import { customersEnvSchema } from './env.js';

await startCustomers(loadEnv(customersEnvSchema), { handleSignals: true });
