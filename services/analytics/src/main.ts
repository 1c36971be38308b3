import { loadEnv } from '@crm/env';
import { startAnalytics } from './app.js';
import { analyticsEnvSchema } from './env.js';

await startAnalytics(loadEnv(analyticsEnvSchema), { handleSignals: true });
