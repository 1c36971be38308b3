import { loadEnv } from '@crm/env';
import { startMarketing } from './app.js';
import { marketingEnvSchema } from './env.js';

await startMarketing(loadEnv(marketingEnvSchema), { handleSignals: true });
