import { loadEnv } from '@crm/env';
import { startSales } from './app.js';
import { salesEnvSchema } from './env.js';

await startSales(loadEnv(salesEnvSchema), { handleSignals: true });
