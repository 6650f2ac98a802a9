// Schema compilers: request bodies are validated strictly (no type coercion: `amount: true` is not 1 fen);
// query strings and path parameters are text, so they are coerced.
import { Ajv, type Options } from 'ajv';
import * as formats from 'ajv-formats';
import type { FastifyInstance } from 'fastify';

// ajv-formats is CommonJS; where its function sits differs between loaders.
const loaded = formats as unknown as { default?: { default?: unknown } | unknown };
const addFormats = ((loaded.default as { default?: unknown } | undefined)?.default ??
  loaded.default ??
  formats) as formats.FormatsPlugin;

function compilerOf(options: Options): Ajv {
  const ajv = new Ajv({
    removeAdditional: false,
    useDefaults: true,
    allErrors: false,
    strict: false,
    ...options,
  });
  addFormats(ajv);
  return ajv;
}

export function installValidation(app: FastifyInstance): void {
  const strict = compilerOf({ coerceTypes: false });
  const coercing = compilerOf({ coerceTypes: 'array' });
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? strict : coercing).compile(schema),
  );
  // A POST without a body is an empty object, so that optional bodies validate.
  app.addHook('preValidation', async (request) => {
    if (request.method === 'POST' && request.body === undefined) request.body = {};
  });
}
