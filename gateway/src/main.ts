import { loadEnv } from '@crm/env';
import { startGateway } from './app.js';
import { gatewayEnvSchema, type GatewayEnv } from './env.js';

await startGateway(loadEnv(gatewayEnvSchema) as GatewayEnv, { handleSignals: true });
