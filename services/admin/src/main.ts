import { loadEnv } from '@crm/env';
import { startAdmin } from './app.js';
import { adminEnvSchema } from './env.js';

await startAdmin(loadEnv(adminEnvSchema), { handleSignals: true });
