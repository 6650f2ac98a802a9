// Schemas shared by the routes: the error shape and list parameters.
import { Type } from '@fastify/type-provider-typebox';

/** The largest amount any route accepts, in minor units: far above WeChat's own limits, and within int32. */
export const MAX_MINOR_UNITS = 2_147_483_647;
/** The latest `created` a list filter accepts (Unix seconds; year 2106). */
export const MAX_UNIX_SECONDS = 4_294_967_295;

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      type: Type.String(),
      code: Type.String(),
      message: Type.String(),
      param: Type.Union([Type.String(), Type.Null()]),
    }),
  },
  { $id: 'Error' },
);

export const errorResponses = {
  400: ErrorBody,
  401: ErrorBody,
  402: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  502: ErrorBody,
};

export const ListQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  // An object id (pi_…, re_…, evt_…): letters, digits and underscores.
  starting_after: Type.Optional(Type.String({ pattern: '^[0-9A-Za-z_]{1,64}$' })),
  ending_before: Type.Optional(Type.String({ pattern: '^[0-9A-Za-z_]{1,64}$' })),
  'created[gt]': Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_UNIX_SECONDS })),
  'created[gte]': Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_UNIX_SECONDS })),
  'created[lt]': Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_UNIX_SECONDS })),
  'created[lte]': Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_UNIX_SECONDS })),
};

export function createdRange(
  query: Partial<Record<'created[gt]' | 'created[gte]' | 'created[lt]' | 'created[lte]', number>>,
) {
  return {
    gt: query['created[gt]'],
    gte: query['created[gte]'],
    lt: query['created[lt]'],
    lte: query['created[lte]'],
  };
}
