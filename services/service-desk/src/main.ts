import { loadEnv } from '@crm/env';
import { startServiceDesk } from './app.js';
import { serviceDeskEnvSchema } from './env.js';

await startServiceDesk(loadEnv(serviceDeskEnvSchema), { handleSignals: true });
