import { defineException } from '@crm/errors';

export type ForecastExceptionReason = 'FORECAST_INVALID_INPUT' | 'FORECAST_FORBIDDEN';

export const ForecastException = defineException<ForecastExceptionReason>('ForecastException', {
  FORECAST_INVALID_INPUT: 'BAD_USER_INPUT',
  FORECAST_FORBIDDEN: 'FORBIDDEN',
});
