// Schemas shared by the routes: the error shape and list parameters.
import { Type } from '@fastify/type-provider-typebox';

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
  starting_after: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  ending_before: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  'created[gt]': Type.Optional(Type.Integer({ minimum: 0 })),
  'created[gte]': Type.Optional(Type.Integer({ minimum: 0 })),
  'created[lt]': Type.Optional(Type.Integer({ minimum: 0 })),
  'created[lte]': Type.Optional(Type.Integer({ minimum: 0 })),
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
